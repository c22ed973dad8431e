package io.tinyrec.serving;

import java.util.EnumMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The counters of one serving process, and their rendering in the Prometheus text exposition
 * format (version 0.0.4) for {@code GET /metrics}. Snapshot loads, failures by reason and skipped
 * snapshots are counted by the {@link SnapshotSubscriber}; requests, their status codes, latencies
 * and rows scored by the HTTP endpoint. Thread-safe; counting never blocks.
 */
public final class ServingMetrics {
  /** Upper bounds of the latency histogram buckets, in seconds. */
  static final double[] LATENCY_BUCKETS = {0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
      1, 2.5, 10};

  private final LongAdder snapshotsLoaded = new LongAdder();
  private final LongAdder snapshotsSkipped = new LongAdder();
  private final Map<BadSnapshotException.Reason, LongAdder> failures = new EnumMap<>(BadSnapshotException.Reason.class);
  private final LongAdder rowsScored = new LongAdder();
  private final ConcurrentHashMap<String, LongAdder> requests = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Histogram> latency = new ConcurrentHashMap<>();

  public ServingMetrics() {
    for (BadSnapshotException.Reason r : BadSnapshotException.Reason.values()) {
      failures.put(r, new LongAdder());
    }
  }

  /** A snapshot passed every check and is now served. */
  public void snapshotLoaded() {
    snapshotsLoaded.increment();
  }

  /** A snapshot failed a check; the previous model stays. */
  public void snapshotFailed(BadSnapshotException.Reason reason) {
    failures.get(reason).increment();
  }

  /** A good snapshot was not newer than the one served, or was of another model. */
  public void snapshotSkipped() {
    snapshotsSkipped.increment();
  }

  public long snapshotsLoaded() {
    return snapshotsLoaded.sum();
  }

  public long snapshotsSkipped() {
    return snapshotsSkipped.sum();
  }

  /** Failed snapshots of every reason. */
  public long snapshotFailures() {
    long n = 0;
    for (LongAdder a : failures.values()) {
      n += a.sum();
    }
    return n;
  }

  public long snapshotFailures(BadSnapshotException.Reason reason) {
    return failures.get(reason).sum();
  }

  public long rowsScored() {
    return rowsScored.sum();
  }

  /** One HTTP request answered: its endpoint (path, or "other"), status code, duration and rows scored. */
  public void request(String endpoint, int status, long nanos, int rows) {
    requests.computeIfAbsent(endpoint + '\u0000' + status, k -> new LongAdder()).increment();
    latency.computeIfAbsent(endpoint, k -> new Histogram()).add(nanos);
    if (rows > 0) {
      rowsScored.add(rows);
    }
  }

  /** Requests answered with this endpoint and status. */
  public long requests(String endpoint, int status) {
    LongAdder a = requests.get(endpoint + '\u0000' + status);
    return a == null ? 0 : a.sum();
  }

  /** Every metric, with the model's gauges taken from the source now. */
  public String prometheus(ModelSource source, long nowMs) {
    StringBuilder sb = new StringBuilder(4096);
    ServedModel m = source.current();
    gauge(sb, "tinyrec_serving_ready", "1 once a model is loaded and requests can be scored, else 0",
        m == null ? 0 : 1);
    gauge(sb, "tinyrec_serving_model_version", "version of the model served (-1 while none)",
        m == null ? -1 : m.info().version());
    gauge(sb, "tinyrec_serving_model_epoch", "merger epoch of the model served (-1 while none)",
        m == null ? -1 : m.info().epoch());
    gauge(sb, "tinyrec_serving_model_age_seconds", "seconds since the served snapshot was created",
        m == null ? Double.NaN : m.ageMillis(nowMs) / 1000.0);
    gauge(sb, "tinyrec_serving_model_events_trained", "events the served model has learned from",
        m == null ? Double.NaN : m.info().eventsTrained());
    gauge(sb, "tinyrec_serving_model_loaded_timestamp_seconds", "when the served model was swapped in, Unix time",
        m == null ? Double.NaN : m.loadedAtMs() / 1000.0);
    gauge(sb, "tinyrec_serving_models_topic_lag_records",
        "committed records on the models topic not yet read (-1 while unknown)", source.lag());
    counter(sb, "tinyrec_serving_snapshots_loaded_total", "snapshots that passed every check and were swapped in",
        snapshotsLoaded.sum());
    header(sb, "tinyrec_serving_snapshot_failures_total",
        "snapshots refused (the previous model kept serving), by reason", "counter");
    for (Map.Entry<BadSnapshotException.Reason, LongAdder> e : failures.entrySet()) {
      sb.append("tinyrec_serving_snapshot_failures_total{reason=\"").append(e.getKey().label()).append("\"} ")
          .append(e.getValue().sum()).append('\n');
    }
    counter(sb, "tinyrec_serving_snapshots_skipped_total",
        "good snapshots not swapped in: not newer than the model served", snapshotsSkipped.sum());
    counter(sb, "tinyrec_serving_rows_scored_total", "rows and events scored", rowsScored.sum());
    header(sb, "tinyrec_serving_requests_total", "HTTP requests answered, by endpoint and status code", "counter");
    for (Map.Entry<String, LongAdder> e : new TreeMap<>(requests).entrySet()) {
      String[] k = e.getKey().split("\u0000");
      sb.append("tinyrec_serving_requests_total{endpoint=\"").append(k[0]).append("\",code=\"").append(k[1])
          .append("\"} ").append(e.getValue().sum()).append('\n');
    }
    header(sb, "tinyrec_serving_request_duration_seconds", "time to answer an HTTP request, by endpoint",
        "histogram");
    for (Map.Entry<String, Histogram> e : new TreeMap<>(latency).entrySet()) {
      e.getValue().render(sb, "tinyrec_serving_request_duration_seconds", e.getKey());
    }
    return sb.toString();
  }

  private static void header(StringBuilder sb, String name, String help, String type) {
    sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
    sb.append("# TYPE ").append(name).append(' ').append(type).append('\n');
  }

  private static void gauge(StringBuilder sb, String name, String help, double v) {
    header(sb, name, help, "gauge");
    sb.append(name).append(' ').append(number(v)).append('\n');
  }

  private static void counter(StringBuilder sb, String name, String help, long v) {
    header(sb, name, help, "counter");
    sb.append(name).append(' ').append(v).append('\n');
  }

  /** A sample value as Prometheus reads it, in full precision and without an exponent. */
  static String number(double v) {
    if (Double.isNaN(v)) {
      return "NaN";
    }
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return Long.toString((long) v);
    }
    return java.math.BigDecimal.valueOf(v).toPlainString();
  }

  /** A cumulative latency histogram with fixed buckets. */
  private static final class Histogram {
    private final LongAdder[] counts = new LongAdder[LATENCY_BUCKETS.length];
    private final LongAdder total = new LongAdder();
    private final LongAdder sumNanos = new LongAdder();

    Histogram() {
      for (int i = 0; i < counts.length; i++) {
        counts[i] = new LongAdder();
      }
    }

    void add(long nanos) {
      double s = nanos / 1e9;
      for (int i = 0; i < LATENCY_BUCKETS.length; i++) {
        if (s <= LATENCY_BUCKETS[i]) {
          counts[i].increment();
          break;
        }
      }
      total.increment();
      sumNanos.add(nanos);
    }

    void render(StringBuilder sb, String name, String endpoint) {
      long cumulative = 0;
      for (int i = 0; i < LATENCY_BUCKETS.length; i++) {
        cumulative += counts[i].sum();
        sb.append(name).append("_bucket{endpoint=\"").append(endpoint).append("\",le=\"")
            .append(number(LATENCY_BUCKETS[i])).append("\"} ").append(cumulative).append('\n');
      }
      long n = total.sum();
      sb.append(name).append("_bucket{endpoint=\"").append(endpoint).append("\",le=\"+Inf\"} ").append(n).append('\n');
      sb.append(name).append("_sum{endpoint=\"").append(endpoint).append("\"} ")
          .append(number(sumNanos.sum() / 1e9)).append('\n');
      sb.append(name).append("_count{endpoint=\"").append(endpoint).append("\"} ").append(n).append('\n');
    }
  }
}
