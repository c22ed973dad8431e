package io.tinyrec.serving;

import io.tinyrec.model.Batch;
import io.tinyrec.model.Dlrm;
import io.tinyrec.model.ModelConfig;
import io.tinyrec.model.codec.SnapshotCodec;
import io.tinyrec.model.data.CriteoRow;
import io.tinyrec.model.synthetic.SyntheticCriteo;
import io.tinyrec.schemas.ModelMetrics;
import io.tinyrec.schemas.ModelSnapshot;
import io.tinyrec.schemas.SingleObjectCodec;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.zip.CRC32;

/** Small trained models and ModelSnapshot records made the way the job's merger makes them. */
final class TestSnapshots {
  static final ModelConfig SMALL = ModelConfig.preset("small").withLearningRates(0.05f, 0.05f);

  private TestSnapshots() {}

  /** A small model trained on rows [0, rows) of the synthetic stream of this seed. */
  static Dlrm trained(long seed, int rows) {
    Dlrm model = new Dlrm(SMALL);
    SyntheticCriteo s = new SyntheticCriteo(seed, -1);
    Batch b = new Batch(64);
    float[] out = new float[64];
    for (int i = 0; i < rows; i += 64) {
      b.clear();
      for (int j = i; j < Math.min(rows, i + 64); j++) {
        b.add(s.sample(j).row());
      }
      model.trainStepInPlace(b, out);
    }
    return model;
  }

  /** Rows [from, from + n) of the synthetic stream of this seed. */
  static List<CriteoRow> rows(long seed, long from, int n) {
    SyntheticCriteo s = new SyntheticCriteo(seed, -1);
    List<CriteoRow> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(s.sample(from + i).row());
    }
    return out;
  }

  /** A ModelSnapshot as the merger builds it. */
  static ModelSnapshot snapshot(String name, long version, Dlrm model) {
    byte[] codec = SnapshotCodec.encode(model, false);
    CRC32 crc = new CRC32();
    crc.update(codec);
    ModelMetrics m = ModelMetrics.newBuilder().setCount(model.rowsTrained()).setAuc(0.7).setLogloss(0.5).setNe(0.9)
        .setCalibration(1.0).build();
    ModelMetrics w = ModelMetrics.newBuilder().setCount(0).setAuc(Double.NaN).setLogloss(Double.NaN)
        .setNe(Double.NaN).setCalibration(Double.NaN).build();
    return ModelSnapshot.newBuilder().setModelName(name).setVersion(version).setEpoch(0)
        .setCreatedAt(System.currentTimeMillis()).setEventTimeWatermark(Long.MIN_VALUE)
        .setEventsTrained(model.rowsTrained()).setConfig(new HashMap<>(model.config().toMap()))
        .setCodec(ByteBuffer.wrap(codec)).setChecksum(crc.getValue()).setMetrics(m).setWindowMetrics(w)
        .setMetricsWindow(1000).build();
  }

  /** The record value of a snapshot. */
  static byte[] value(ModelSnapshot s) {
    return SingleObjectCodec.of(ModelSnapshot.class).encode(s);
  }

  static byte[] value(String name, long version, Dlrm model) {
    return value(snapshot(name, version, model));
  }

  /** The scores the model itself gives, as the trainer computes them. */
  static float[] reference(Dlrm model, List<CriteoRow> rows) {
    float[] out = new float[rows.size()];
    Batch b = new Batch(Math.max(1, rows.size()));
    for (CriteoRow r : rows) {
      b.add(r);
    }
    model.score(b, out);
    return out;
  }
}
