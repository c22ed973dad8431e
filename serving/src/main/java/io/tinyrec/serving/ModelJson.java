package io.tinyrec.serving;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Map;

/**
 * A served model's metadata as JSON: the body of {@code GET /model} and of {@code tinyrec snapshot
 * inspect --json}. Undefined metrics (NaN) are null, since JSON has no NaN. Stateless and thread-safe.
 */
public final class ModelJson {
  private static final JsonFactory JSON = new JsonFactory();

  private ModelJson() {}

  /** Writes one JSON value. */
  interface Writer {
    void write(JsonGenerator g) throws IOException;
  }

  /**
   * The model's description, one JSON object and a newline: name, version, epoch, creation time and
   * age, watermark, events trained, metrics, codec size, format and checksum, load time, source,
   * lag (-1 when not known) and config.
   */
  public static byte[] describe(ServedModel m, long lag, long nowMs) {
    SnapshotInfo i = m.info();
    return json(g -> {
      g.writeStartObject();
      g.writeStringField("model", i.modelName());
      g.writeNumberField("version", i.version());
      g.writeNumberField("epoch", i.epoch());
      g.writeStringField("createdAt", Instant.ofEpochMilli(i.createdAtMs()).toString());
      g.writeNumberField("createdAtMs", i.createdAtMs());
      g.writeNumberField("ageSeconds", m.ageMillis(nowMs) / 1000.0);
      if (i.eventTimeWatermarkMs() != Long.MIN_VALUE) {
        g.writeStringField("eventTimeWatermark", Instant.ofEpochMilli(i.eventTimeWatermarkMs()).toString());
      }
      g.writeNumberField("eventsTrained", i.eventsTrained());
      metrics(g, "metrics", i.metrics());
      metrics(g, "windowMetrics", i.windowMetrics());
      g.writeNumberField("metricsWindow", i.metricsWindow());
      g.writeNumberField("codecBytes", i.codecBytes());
      g.writeNumberField("formatVersion", i.formatVersion());
      g.writeBooleanField("optimizerState", i.optimizerState());
      g.writeStringField("codecCrc", String.format("%08x", i.codecCrc()));
      g.writeStringField("loadedAt", Instant.ofEpochMilli(m.loadedAtMs()).toString());
      g.writeStringField("source", i.source());
      g.writeNumberField("lag", lag);
      g.writeObjectFieldStart("config");
      for (Map.Entry<String, String> e : i.config().toMap().entrySet()) {
        g.writeStringField(e.getKey(), e.getValue());
      }
      g.writeEndObject();
      g.writeEndObject();
    });
  }

  private static void metrics(JsonGenerator g, String name, SnapshotInfo.Metrics m) throws IOException {
    if (m == null) {
      g.writeNullField(name);
      return;
    }
    g.writeObjectFieldStart(name);
    g.writeNumberField("count", m.count());
    finite(g, "auc", m.auc());
    finite(g, "logloss", m.logloss());
    finite(g, "ne", m.ne());
    finite(g, "calibration", m.calibration());
    g.writeEndObject();
  }

  private static void finite(JsonGenerator g, String name, double v) throws IOException {
    if (Double.isFinite(v)) {
      g.writeNumberField(name, v);
    } else {
      g.writeNullField(name);
    }
  }

  /** One JSON value written by w, and a newline. */
  static byte[] json(Writer w) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      w.write(g);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    out.write('\n');
    return out.toByteArray();
  }
}
