package io.tinyrec.serving;

import io.tinyrec.model.data.CriteoRow;
import io.tinyrec.model.data.MalformedRowException;
import java.io.IOException;
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
 * <p>One network thread reads requests and writes replies without blocking ({@link NioHttpServer}),
 * with deadlines for the head, the body and the reply, so slow or stalled clients hold their own
 * connections and nothing else; complete requests run on a fixed pool of threads with a bounded
 * queue, and a request that finds the queue full gets 503. Thread-safe; {@link #close()} stops it.
 */
public final class ScoringServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ScoringServer.class);
  private static final String SCORE = "/score";
  private static final Map<String, String> ENDPOINTS = Map.of(SCORE, "POST", "/model", "GET", "/healthz", "GET",
      "/metrics", "GET");

  private final Settings settings;
  private final ModelSource models;
  private final ServingMetrics metrics;
  private final NioHttpServer server;
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
        }, new ThreadPoolExecutor.AbortPolicy());
    this.server = new NioHttpServer(new InetSocketAddress(settings.bind(), settings.port()),
        NioHttpServer.Limits.defaults(settings.maxBodyBytes()), this::handle, executor);
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
    return server.address().getPort();
  }

  /** The base URI, e.g. http://127.0.0.1:8080. */
  public URI uri() {
    String host = server.address().getAddress().getHostAddress();
    return URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port());
  }

  @Override
  public void close() {
    server.close();
    executor.shutdownNow();
  }

  private NioHttpServer.Reply handle(NioHttpServer.Request ex) {
    long t0 = System.nanoTime();
    String path = ex.path();
    String endpoint = ENDPOINTS.containsKey(path) ? path : "other";
    Response r;
    try {
      r = route(ex, path);
    } catch (RuntimeException e) {
      LOG.error("{} {} failed", ex.method(), path, e);
      r = Response.error(500, "internal error: " + e);
    }
    metrics.request(endpoint, r.status, System.nanoTime() - t0, r.rows);
    return new NioHttpServer.Reply(r.status, r.contentType, r.body, r.headers);
  }

  private Response route(NioHttpServer.Request ex, String path) {
    String allowed = ENDPOINTS.get(path);
    if (allowed == null) {
      return Response.error(404, "no endpoint " + path + "; there are POST /score, GET /model, GET /healthz and "
          + "GET /metrics");
    }
    if (!allowed.equals(ex.method())) {
      Response r = Response.error(405, path + " takes " + allowed + ", not " + ex.method());
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

  private Response score(NioHttpServer.Request ex) {
    String type = mediaType(ex.header("Content-Type"));
    boolean tsv;
    if (type.equals("application/json")) {
      tsv = false;
    } else if (type.equals("text/tab-separated-values") || type.equals("text/plain")) {
      tsv = true;
    } else {
      return Response.error(415, (type.isEmpty() ? "no Content-Type" : "Content-Type " + type) + ": send "
          + "application/json or text/tab-separated-values");
    }
    byte[] body = ex.body() == null ? new byte[0] : ex.body();
    // One read: every row of this request is scored by this one version.
    ServedModel m = models.current();
    if (m == null) {
      return Response.error(503, "no model loaded yet: waiting for a snapshot from " + models.describe());
    }
    float[] scores;
    try {
      if (tsv) {
        scores = m.scorer().scoreTsv(body, 0, ex.bodyLength(), "body");
        if (scores.length == 0) {
          return Response.error(400, "no rows to score: the body has no non-empty line");
        }
      } else {
        List<CriteoRow> rows = JsonEvents.parse(body, 0, ex.bodyLength());
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


  private static String mediaType(String contentType) {
    if (contentType == null) {
      return "";
    }
    int semi = contentType.indexOf(';');
    return (semi < 0 ? contentType : contentType.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
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
