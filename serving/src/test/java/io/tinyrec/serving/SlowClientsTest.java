package io.tinyrec.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Hostile clients on loopback: connections that send their heads a byte at a time, bodies that
 * never finish, lying Content-Lengths. Serving must go on answering everyone else: with the JDK's
 * server, two slow heads took both request threads and /healthz stopped answering.
 */
class SlowClientsTest {
  static final ScoringServerTest.Swappable SOURCE = new ScoringServerTest.Swappable();
  static ScoringServer server;
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  @BeforeAll
  static void start() throws Exception {
    server = ScoringServer.start(new ScoringServer.Settings("127.0.0.1", 0, 2, 256 * 1024), SOURCE,
        new ServingMetrics());
    SOURCE.model.set(SnapshotDecoder.fromSnapshot(TestSnapshots.snapshot("ctr", 7, ScoringServerTest.MODEL), "test"));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static HttpResponse<String> get(String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(server.uri() + path)).timeout(Duration.ofSeconds(2)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> score() throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(server.uri() + "/score")).timeout(Duration.ofSeconds(2))
        .header("Content-Type", "text/tab-separated-values")
        .POST(HttpRequest.BodyPublishers.ofString(ScoringServerTest.tsv(ScoringServerTest.ROWS.subList(0, 5))))
        .build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void healthAndScoringAnswerWhile200SlowConnectionsAreOpen() throws Exception {
    List<Socket> slow = new ArrayList<>();
    try {
      for (int i = 0; i < 200; i++) {
        Socket s = new Socket("127.0.0.1", server.port());
        OutputStream o = s.getOutputStream();
        // Half a head: a request line and part of a header, never finished; or a head whose
        // promised body never comes.
        if (i % 2 == 0) {
          o.write("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII));
        } else {
          o.write(("POST /score HTTP/1.1\r\nHost: x\r\nContent-Type: text/tab-separated-values\r\n"
              + "Content-Length: 100000\r\n\r\n1\t2").getBytes(StandardCharsets.US_ASCII));
        }
        o.flush();
        slow.add(s);
      }
      long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
      for (int probe = 0; probe < 20; probe++) {
        long t0 = System.nanoTime();
        HttpResponse<String> h = get("/healthz");
        assertEquals(200, h.statusCode(), h.body());
        HttpResponse<String> r = score();
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(1).toNanos(), "a probe took over 1 s");
        for (Socket s : slow.subList(0, 10)) {
          s.getOutputStream().write('x'); // the slow ones keep trickling
        }
      }
      assertTrue(System.nanoTime() < deadline + Duration.ofSeconds(10).toNanos());
    } finally {
      for (Socket s : slow) {
        s.close();
      }
    }
  }

  @Test
  void aHeadThatDoesNotArriveInTimeGets408AndItsConnectionClosed() throws Exception {
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      s.setSoTimeout(20_000);
      s.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
      long t0 = System.nanoTime();
      String reply = readAll(s.getInputStream());
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(reply.startsWith("HTTP/1.1 408 "), reply);
      assertTrue(reply.contains("{\"error\":\"the request head did not arrive within"), reply);
      assertTrue(ms < 15_000, "closed after " + ms + " ms");
    }
  }

  @Test
  void aContentLengthThatIsNotANumberGetsAJsonError() throws Exception {
    for (String cl : new String[] {"abc", "-5", "1e9", "99999999999999999999999"}) {
      try (Socket s = new Socket("127.0.0.1", server.port())) {
        s.setSoTimeout(5_000);
        s.getOutputStream().write(("POST /score HTTP/1.1\r\nHost: x\r\nContent-Type: text/tab-separated-values\r\n"
            + "Content-Length: " + cl + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        String reply = readAll(s.getInputStream());
        assertTrue(reply.startsWith("HTTP/1.1 400 "), cl + ": " + reply);
        assertTrue(reply.contains("Content-Type: application/json"), reply);
        assertTrue(reply.contains("{\"error\":\"Content-Length is not a number: " + cl + "\"}"), reply);
      }
    }
  }

  @Test
  void aHugeHeadGets431AndGarbageGets400() throws Exception {
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      s.setSoTimeout(5_000);
      s.getOutputStream().write(("GET /healthz HTTP/1.1\r\nX-Big: " + "y".repeat(20_000) + "\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      String reply = readAll(s.getInputStream());
      assertTrue(reply.startsWith("HTTP/1.1 431 "), reply);
    }
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      s.setSoTimeout(5_000);
      s.getOutputStream().write("\u0000\u0001garbage\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      String reply = readAll(s.getInputStream());
      assertTrue(reply.startsWith("HTTP/1.1 400 ") && reply.contains("\"error\""), reply);
    }
  }

  @Test
  void keepAliveAndPipelinedRequestsAreAnsweredInOrder() throws Exception {
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      s.setSoTimeout(5_000);
      s.getOutputStream().write(("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n"
          + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      String reply = readAll(s.getInputStream());
      int first = reply.indexOf("HTTP/1.1 200 ");
      int second = reply.indexOf("HTTP/1.1 404 ");
      assertTrue(first == 0 && second > first, reply);
    }
  }

  static String readAll(InputStream in) throws Exception {
    return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
  }
}
