package io.tinyrec.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.tinyrec.model.Dlrm;
import io.tinyrec.model.data.CriteoRow;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The HTTP layer on a loopback port, with a model that is swapped by hand. */
class ScoringServerTest {
  static final Dlrm MODEL = TestSnapshots.trained(8, 1500);
  static final List<CriteoRow> ROWS = TestSnapshots.rows(8, 20_000, 300);
  static final float[] WANT = TestSnapshots.reference(MODEL, ROWS);
  static final int MAX_BODY = 256 * 1024;

  /** A source whose model the test sets. */
  static final class Swappable implements ModelSource {
    final AtomicReference<ServedModel> model = new AtomicReference<>();

    @Override
    public ServedModel current() {
      return model.get();
    }

    @Override
    public long lag() {
      return 3;
    }

    @Override
    public String describe() {
      return "a test";
    }

    @Override
    public void close() {}
  }

  static final Swappable SOURCE = new Swappable();
  static final ServingMetrics METRICS = new ServingMetrics();
  static ScoringServer server;
  static final HttpClient HTTP = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    server = ScoringServer.start(new ScoringServer.Settings("127.0.0.1", 0, 2, MAX_BODY), SOURCE, METRICS);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static void serve(long version) throws Exception {
    SOURCE.model.set(SnapshotDecoder.fromSnapshot(TestSnapshots.snapshot("ctr", version, MODEL), "test"));
  }

  static HttpResponse<String> send(String method, String path, String contentType, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.uri() + path));
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static String tsv(List<CriteoRow> rows) {
    StringBuilder sb = new StringBuilder();
    rows.forEach(r -> sb.append(r.toTsv()).append('\n'));
    return sb.toString();
  }

  /** The "scores" array and "version" of a score response. */
  static float[] scores(String json) throws IOException {
    List<Float> out = new ArrayList<>();
    try (JsonParser p = new JsonFactory().createParser(json)) {
      while (p.nextToken() != null) {
        if (p.currentToken() == JsonToken.FIELD_NAME && p.currentName().equals("scores")) {
          p.nextToken();
          while (p.nextToken() != JsonToken.END_ARRAY) {
            out.add(p.getFloatValue());
          }
        }
      }
    }
    float[] f = new float[out.size()];
    for (int i = 0; i < f.length; i++) {
      f[i] = out.get(i);
    }
    return f;
  }

  static void assertScores(float[] want, String json) throws IOException {
    float[] got = scores(json);
    assertEquals(want.length, got.length, json);
    for (int i = 0; i < want.length; i++) {
      assertEquals(want[i], got[i], 1e-6f, "score " + i);
    }
  }

  @Test
  void shouldAnswer503UntilAModelIsLoadedThenScoreTsvAndJsonInRequestOrderWithTheVersion() throws Exception {
    SOURCE.model.set(null);
    HttpResponse<String> notYet = send("POST", "/score", "text/tab-separated-values", tsv(ROWS));
    assertEquals(503, notYet.statusCode(), notYet.body());
    assertTrue(notYet.body().contains("no model loaded yet"), notYet.body());
    assertEquals(503, send("GET", "/healthz", null, null).statusCode());
    assertEquals(503, send("GET", "/model", null, null).statusCode());

    serve(41);
    HttpResponse<String> r = send("POST", "/score", "text/tab-separated-values; charset=utf-8", tsv(ROWS));
    assertEquals(200, r.statusCode(), r.body());
    assertTrue(r.body().startsWith("{\"model\":\"ctr\",\"version\":41,\"scores\":["), r.body());
    assertEquals("41", r.headers().firstValue("X-Tinyrec-Model-Version").orElse(""));
    assertScores(WANT, r.body());

    StringBuilder json = new StringBuilder("[");
    for (int i = 0; i < 20; i++) {
      json.append(i == 0 ? "" : ",").append(JsonEventsTest.event(ROWS.get(i), i % 2 == 0));
    }
    HttpResponse<String> j = send("POST", "/score", "application/json", json.append("]").toString());
    assertEquals(200, j.statusCode(), j.body());
    assertScores(java.util.Arrays.copyOf(WANT, 20), j.body());
    HttpResponse<String> one = send("POST", "/score", "application/json", JsonEventsTest.event(ROWS.get(3), false));
    assertScores(new float[] {WANT[3]}, one.body());

    HttpResponse<String> health = send("GET", "/healthz", null, null);
    assertEquals(200, health.statusCode());
    assertEquals("{\"status\":\"ready\",\"model\":\"ctr\",\"version\":41}\n", health.body());
  }

  @Test
  void shouldExplainBadRequestsWith400AndTheRightCodeForWrongMethodsPathsTypesAndSizes() throws Exception {
    serve(7);
    String bad = tsv(ROWS.subList(0, 3)) + ROWS.get(3).toTsv().replaceFirst("\t[0-9a-f]{8}\t", "\tXYZ\t") + "\n";
    HttpResponse<String> r = send("POST", "/score", "text/tab-separated-values", bad);
    assertEquals(400, r.statusCode());
    assertTrue(r.body().startsWith("{\"error\":\"line 4: field C1: value 'XYZ' must be eight hex digits"), r.body());

    HttpResponse<String> j = send("POST", "/score", "application/json", "{\"dense\": [1, 2");
    assertEquals(400, j.statusCode());
    assertTrue(j.body().contains("invalid JSON at line 1"), j.body());
    HttpResponse<String> f = send("POST", "/score", "application/json",
        JsonEventsTest.event(ROWS.get(0), false).replace("\"dense\": [", "\"dense\": [NaN, "));
    assertEquals(400, f.statusCode());
    assertTrue(f.body().contains("NaN"), f.body());
    HttpResponse<String> empty = send("POST", "/score", "text/tab-separated-values", "\n\n");
    assertEquals(400, empty.statusCode());
    assertTrue(empty.body().contains("no rows to score"), empty.body());

    HttpResponse<String> big = send("POST", "/score", "text/tab-separated-values", "x".repeat(MAX_BODY + 1));
    assertEquals(413, big.statusCode());
    assertTrue(big.body().contains("larger than the limit of " + MAX_BODY + " bytes"), big.body());
    // Without a Content-Length (chunked), the limit holds while reading.
    HttpResponse<String> chunked = HTTP.send(HttpRequest.newBuilder(URI.create(server.uri() + "/score"))
        .header("Content-Type", "text/tab-separated-values")
        .POST(HttpRequest.BodyPublishers.ofInputStream(
            () -> new java.io.ByteArrayInputStream(new byte[MAX_BODY + 1]))).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(413, chunked.statusCode(), chunked.body());
    HttpResponse<String> chunkedOk = HTTP.send(HttpRequest.newBuilder(URI.create(server.uri() + "/score"))
        .header("Content-Type", "text/tab-separated-values")
        .POST(HttpRequest.BodyPublishers.ofInputStream(
            () -> new java.io.ByteArrayInputStream(tsv(ROWS).getBytes(java.nio.charset.StandardCharsets.US_ASCII))))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertScores(WANT, chunkedOk.body());
    HttpResponse<String> justFits = send("POST", "/score", "text/tab-separated-values",
        tsv(ROWS.subList(0, 1)) + "\n".repeat(MAX_BODY - tsv(ROWS.subList(0, 1)).length()));
    assertEquals(200, justFits.statusCode(), justFits.body());

    HttpResponse<String> get = send("GET", "/score", null, null);
    assertEquals(405, get.statusCode());
    assertEquals("POST", get.headers().firstValue("Allow").orElse(""));
    assertEquals(405, send("POST", "/metrics", "text/plain", "x").statusCode());
    HttpResponse<String> missing = send("GET", "/nope", null, null);
    assertEquals(404, missing.statusCode());
    assertTrue(missing.body().contains("POST /score"), missing.body());
    HttpResponse<String> xml = send("POST", "/score", "application/xml", "<a/>");
    assertEquals(415, xml.statusCode());
    assertTrue(xml.body().contains("application/json or text/tab-separated-values"), xml.body());
  }

  @Test
  void shouldDescribeTheModelAndExposeMetricsInPrometheusFormat() throws Exception {
    serve(12);
    send("POST", "/score", "text/tab-separated-values", tsv(ROWS.subList(0, 5)));
    HttpResponse<String> m = send("GET", "/model", null, null);
    assertEquals(200, m.statusCode());
    for (String field : new String[] {"\"model\":\"ctr\"", "\"version\":12", "\"epoch\":0", "\"createdAt\":\"",
        "\"eventsTrained\":" + MODEL.rowsTrained(), "\"metrics\":{\"count\":" + MODEL.rowsTrained() + ",\"auc\":0.7",
        "\"windowMetrics\":{\"count\":0,\"auc\":null", "\"codecBytes\":", "\"lag\":3", "\"dim\":\"8\""}) {
      assertTrue(m.body().contains(field), field + " in " + m.body());
    }
    HttpResponse<String> p = send("GET", "/metrics", null, null);
    assertEquals(200, p.statusCode());
    assertTrue(p.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
    String text = p.body();
    for (String line : new String[] {"tinyrec_serving_ready 1", "tinyrec_serving_model_version 12",
        "tinyrec_serving_models_topic_lag_records 3", "tinyrec_serving_snapshot_failures_total{reason=\"checksum\"} 0",
        "# TYPE tinyrec_serving_request_duration_seconds histogram",
        "tinyrec_serving_request_duration_seconds_bucket{endpoint=\"/score\",le=\"+Inf\"} "}) {
      assertTrue(text.contains(line), line + " in\n" + text);
    }
    assertTrue(METRICS.requests("/score", 200) >= 1);
    assertTrue(METRICS.rowsScored() >= 5);
    for (String line : text.split("\n")) {
      assertTrue(line.startsWith("#") || line.matches("[a-z_]+(\\{[^}]*\\})? [-+0-9.eE]+|[a-z_]+(\\{[^}]*\\})? NaN"),
          "not a Prometheus sample line: " + line);
    }
  }
}
