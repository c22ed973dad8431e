package io.tinyrec.serving;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.tinyrec.model.data.CriteoRow;
import io.tinyrec.model.data.MalformedRowException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP endpoint of {@code tinyrec serve}, on the JDK's own server (com.sun.net.httpserver):
 * <ul>
 *   <li>{@code POST /score}: a JSON body ({@link JsonEvents}: one event, an array, or
 *       {@code {"events": [...]}}) or Criteo TSV rows ({@code Content-Type:
 *       text/tab-separated-values}, label column optional); answers
 *       {@code {"model": ..., "version": V, "scores": [...]}} with the scores in request order,
 *       all from the one model version named;
 *   <li>{@code GET /model}: the served snapshot's metadata; {@code GET /healthz}: 200 once a model
 *       is loaded, 503 before; {@code GET /metrics}: Prometheus text format.
 * </ul>
 * A request that cannot be scored gets 400 with the reason (the event or line, the field, the
 * value), a body over the limit 413, a wrong method 405 (with Allow), an unknown path 404, an
 * unsupported content type 415, and a score request before any model is loaded 503. Errors are JSON
 * {@code {"error": "..."}}.
 *
 * <p>Requests run on a fixed pool of threads with a bounded queue; when the queue is full the
 * accepting thread runs the request itself, which stops it accepting more (backpressure, not an
 * error). Thread-safe; {@link #close()} stops it.
 */
public final class ScoringServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ScoringServer.class);
  private static final String SCORE = "/score";
  private static final Map<String, String> ENDPOINTS = Map.of(SCORE, "POST", "/model", "GET", "/healthz", "GET",
      "/metrics", "GET");

  static {
    // Small responses must leave at once: without TCP_NODELAY, Nagle's algorithm and the client's
    // delayed ACK hold each one back by up to 40 ms. Read when the JDK's server first starts.
    System.setProperty("sun.net.httpserver.nodelay", "true");
  }

  private final Settings settings;
  private final ModelSource models;
  private final ServingMetrics metrics;
  private final HttpServer server;
  private final ThreadPoolExecutor executor;

  /**
   * How the endpoint listens.
   *
   * @param bind the address to listen on; 127.0.0.1 (localhost only) unless told otherwise
   * @param port the TCP port, or 0 for any free one
   * @param threads request threads (scoring runs on them)
   * @param maxBodyBytes the largest request body accepted; larger ones get 413
   */
  public record Settings(String bind, int port, int threads, int maxBodyBytes) {
    public Settings {
      if (bind == null || bind.isBlank()) {
        throw new IllegalArgumentException("--bind must be an address such as 127.0.0.1");
      }
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("--port must be between 0 and 65535, got " + port);
      }
      if (threads < 1 || threads > 1024) {
        throw new IllegalArgumentException("--threads must be between 1 and 1024, got " + threads);
      }
      if (maxBodyBytes < 1024) {
        throw new IllegalArgumentException("--max-body-bytes must be at least 1024, got " + maxBodyBytes);
      }
    }
  }

  private ScoringServer(Settings settings, ModelSource models, ServingMetrics metrics) throws IOException {
    this.settings = settings;
    this.models = models;
    this.metrics = metrics;
    AtomicInteger n = new AtomicInteger();
    this.executor = new ThreadPoolExecutor(settings.threads(), settings.threads(), 0, TimeUnit.MILLISECONDS,
        new ArrayBlockingQueue<>(64 * settings.threads()), r -> {
          Thread t = new Thread(r, "tinyrec-http-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        }, new ThreadPoolExecutor.CallerRunsPolicy());
    this.server = HttpServer.create(new InetSocketAddress(settings.bind(), settings.port()), 1024);
    server.createContext("/", this::handle);
    server.setExecutor(executor);
  }

  /**
   * Starts listening.
   *
   * @throws IOException when the address cannot be bound (e.g. the port is taken)
   */
  public static ScoringServer start(Settings settings, ModelSource models, ServingMetrics metrics) throws IOException {
    ScoringServer s = new ScoringServer(settings, models, metrics);
    s.server.start();
    return s;
  }

  /** The port listened on (the one chosen, when asked for port 0). */
  public int port() {
    return server.getAddress().getPort();
  }

  /** The base URI, e.g. http://127.0.0.1:8080. */
  public URI uri() {
    String host = server.getAddress().getAddress().getHostAddress();
    return URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port());
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  private void handle(HttpExchange ex) {
    long t0 = System.nanoTime();
    String path = ex.getRequestURI().getPath();
    String endpoint = ENDPOINTS.containsKey(path) ? path : "other";
    Response r;
    try {
      r = route(ex, path);
    } catch (RuntimeException e) {
      LOG.error("{} {} failed", ex.getRequestMethod(), path, e);
      r = Response.error(500, "internal error: " + e);
    }
    try {
      send(ex, r);
    } catch (IOException e) {
      // The client went away; nothing to answer.
    } finally {
      ex.close();
      metrics.request(endpoint, r.status, System.nanoTime() - t0, r.rows);
    }
  }

  private Response route(HttpExchange ex, String path) {
    String allowed = ENDPOINTS.get(path);
    if (allowed == null) {
      return Response.error(404, "no endpoint " + path + "; there are POST /score, GET /model, GET /healthz and "
          + "GET /metrics");
    }
    if (!allowed.equals(ex.getRequestMethod())) {
      Response r = Response.error(405, path + " takes " + allowed + ", not " + ex.getRequestMethod());
      r.headers = new String[] {"Allow", allowed};
      return r;
    }
    return switch (path) {
      case SCORE -> score(ex);
      case "/model" -> model();
      case "/healthz" -> health();
      default -> new Response(200, "text/plain; version=0.0.4; charset=utf-8",
          metrics.prometheus(models, System.currentTimeMillis()).getBytes(StandardCharsets.UTF_8));
    };
  }

  private Response score(HttpExchange ex) {
    String type = mediaType(ex.getRequestHeaders().getFirst("Content-Type"));
    boolean tsv;
    if (type.equals("application/json")) {
      tsv = false;
    } else if (type.equals("text/tab-separated-values") || type.equals("text/plain")) {
      tsv = true;
    } else {
      return Response.error(415, (type.isEmpty() ? "no Content-Type" : "Content-Type " + type) + ": send "
          + "application/json or text/tab-separated-values");
    }
    Body body;
    try {
      body = readBody(ex);
    } catch (IOException e) {
      return Response.error(400, "could not read the request body: " + e.getMessage());
    }
    if (body == null) {
      return Response.error(413, "the request body is larger than the limit of " + settings.maxBodyBytes()
          + " bytes (--max-body-bytes); send fewer rows per request");
    }
    // One read: every row of this request is scored by this one version.
    ServedModel m = models.current();
    if (m == null) {
      return Response.error(503, "no model loaded yet: waiting for a snapshot from " + models.describe());
    }
    float[] scores;
    try {
      if (tsv) {
        scores = m.scorer().scoreTsv(body.bytes, 0, body.length, "body");
        if (scores.length == 0) {
          return Response.error(400, "no rows to score: the body has no non-empty line");
        }
      } else {
        List<CriteoRow> rows = JsonEvents.parse(body.bytes, 0, body.length);
        scores = m.scorer().score(rows);
      }
    } catch (MalformedRowException e) {
      return Response.error(400, "line " + e.line() + ": " + (e.field() == null ? "" : "field " + e.field() + ": ")
          + e.reason());
    } catch (BadRequestException e) {
      return Response.error(400, e.getMessage());
    }
    Response r = new Response(200, "application/json", json(g -> {
      g.writeStartObject();
      g.writeStringField("model", m.info().modelName());
      g.writeNumberField("version", m.info().version());
      g.writeArrayFieldStart("scores");
      for (float s : scores) {
        g.writeNumber(s);
      }
      g.writeEndArray();
      g.writeEndObject();
    }));
    r.rows = scores.length;
    r.headers = new String[] {"X-Tinyrec-Model-Version", Long.toString(m.info().version())};
    return r;
  }

  private Response model() {
    ServedModel m = models.current();
    if (m == null) {
      return Response.error(503, "no model loaded yet: waiting for a snapshot from " + models.describe());
    }
    return new Response(200, "application/json", ModelJson.describe(m, models.lag(), System.currentTimeMillis()));
  }

  private Response health() {
    ServedModel m = models.current();
    if (m == null) {
      return new Response(503, "application/json", json(g -> {
        g.writeStartObject();
        g.writeStringField("status", "not ready");
        g.writeStringField("reason", "no model loaded yet: waiting for a snapshot from " + models.describe());
        g.writeEndObject();
      }));
    }
    return new Response(200, "application/json", json(g -> {
      g.writeStartObject();
      g.writeStringField("status", "ready");
      g.writeStringField("model", m.info().modelName());
      g.writeNumberField("version", m.info().version());
      g.writeEndObject();
    }));
  }

  /**
   * The request body, or null when it is larger than the limit. An over-long body is still read and
   * dropped, up to {@link #swallowLimit()}, so that the client, which may still be sending, reads
   * the 413 instead of a reset connection; beyond that the connection is closed.
   */
  private Body readBody(HttpExchange ex) throws IOException {
    int max = settings.maxBodyBytes();
    long declared = -1;
    String header = ex.getRequestHeaders().getFirst("Content-Length");
    if (header != null) {
      try {
        declared = Long.parseLong(header.trim());
      } catch (NumberFormatException e) {
        throw new IOException("Content-Length is not a number: " + header);
      }
    }
    try (InputStream in = ex.getRequestBody()) {
      if (declared > max) {
        if (declared <= swallowLimit()) {
          // Not in.skip(): the JDK's body stream passes skip to the socket below its own count.
          drain(in, declared);
        }
        return null;
      }
      byte[] buf = new byte[(int) Math.max(16, declared < 0 ? Math.min(8192, max + 1L) : declared + 1)];
      int n = 0;
      while (true) {
        if (n == buf.length) {
          if (n > max) {
            drain(in, swallowLimit() - n);
            return null;
          }
          buf = Arrays.copyOf(buf, (int) Math.min((long) max + 1, 2L * buf.length));
        }
        int r = in.read(buf, n, buf.length - n);
        if (r < 0) {
          break;
        }
        n += r;
      }
      return n > max ? null : new Body(buf, n);
    }
  }

  /** How much of a refused body is read and dropped: four times the limit, within 1 to 64 MiB. */
  private long swallowLimit() {
    return Math.min(64L << 20, Math.max(1L << 20, 4L * settings.maxBodyBytes()));
  }

  private static void drain(InputStream in, long atMost) throws IOException {
    byte[] skip = new byte[8192];
    long left = atMost;
    while (left > 0) {
      int r = in.read(skip, 0, (int) Math.min(skip.length, left));
      if (r < 0) {
        return;
      }
      left -= r;
    }
  }

  private record Body(byte[] bytes, int length) {}

  private static String mediaType(String contentType) {
    if (contentType == null) {
      return "";
    }
    int semi = contentType.indexOf(';');
    return (semi < 0 ? contentType : contentType.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
  }

  private static void send(HttpExchange ex, Response r) throws IOException {
    ex.getResponseHeaders().set("Content-Type", r.contentType);
    for (int i = 0; i + 1 < r.headers.length; i += 2) {
      ex.getResponseHeaders().set(r.headers[i], r.headers[i + 1]);
    }
    ex.sendResponseHeaders(r.status, r.body.length == 0 ? -1 : r.body.length);
    if (r.body.length > 0) {
      try (OutputStream out = ex.getResponseBody()) {
        out.write(r.body);
      }
    }
  }

  private static byte[] json(ModelJson.Writer w) {
    return ModelJson.json(w);
  }

  /** What to answer: status, content type, body, extra headers, and rows scored (for metrics). */
  private static final class Response {
    final int status;
    final String contentType;
    final byte[] body;
    String[] headers = new String[0];
    int rows;

    Response(int status, String contentType, byte[] body) {
      this.status = status;
      this.contentType = contentType;
      this.body = body;
    }

    static Response error(int status, String message) {
      return new Response(status, "application/json", json(g -> {
        g.writeStartObject();
        g.writeStringField("error", message);
        g.writeEndObject();
      }));
    }
  }
}
