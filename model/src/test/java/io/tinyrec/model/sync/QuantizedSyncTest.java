package io.tinyrec.model.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyrec.model.Dlrm;
import io.tinyrec.model.ModelConfig;
import io.tinyrec.model.ModelConfig.Precision;
import io.tinyrec.model.ModelConfig.Quantization;
import io.tinyrec.model.codec.SnapshotCodec;
import io.tinyrec.model.nn.QuantizedArray;
import io.tinyrec.model.nn.QuantizedRobeEmbedding;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import org.junit.jupiter.api.Test;

/** Model sync of a quantized embedding: lines travel as records, exactly where nobody else moved them. */
class QuantizedSyncTest {
  static final ModelConfig INT8 = ModelConfig.preset("small").withLearningRates(0.05f, 0.05f)
      .withQuantization(Quantization.of(Precision.INT8).withCacheFraction(0.03f));

  static QuantizedArray arrayOf(Dlrm m) {
    return ((QuantizedRobeEmbedding) m.embedding()).array();
  }

  /**
   * The learner's loop at one learner: send the change since the last send, the merger merges it,
   * the sync delta reaches the learner's global model, the learner rebases. Its replica must never
   * be touched, the merger and the global copy must equal it, and it must train exactly as a model
   * that never synced.
   */
  @Test
  void oneLearnerStaysExactThroughEverySyncRound() throws Exception {
    Dlrm learner = new Dlrm(INT8);
    Dlrm alone = new Dlrm(INT8);
    Dlrm merger = new Dlrm(INT8);
    Dlrm global = SnapshotCodec.decode(SnapshotCodec.encode(merger, true));
    ModelTensors local = ModelTensors.of(learner);
    ModelTensors base = ModelTensors.of(global).copy();
    for (int round = 0; round < 6; round++) {
      ChunkDeltaTest.train(learner, round * 320L, 10);
      ChunkDeltaTest.train(alone, round * 320L, 10);
      ChunkDelta update = ChunkDelta.decode(ChunkDelta.between(base, local, true).encode(), local);
      assertTrue(update.lineCount() > 0);
      ModelTensors sent = local.copy();
      ChunkDelta merged = update.mergeInto(ModelTensors.of(merger));
      assertTrue(ModelTensors.of(merger).sameAs(local), "round " + round + ": the merger holds the learner's model");
      ChunkDelta sync = ChunkDelta.decode(merged.encode(), ModelTensors.of(global));
      ChunkDelta previous = sync.valuesIn(ModelTensors.of(global));
      sync.overwrite(ModelTensors.of(global));
      assertFalse(previous.lineCount() == 0);
      ChunkDelta.rebase(local, sent, ModelTensors.of(global));
      base.setFrom(ModelTensors.of(global));
      assertTrue(ModelTensors.of(global).sameAs(local));
      assertEquals(ModelTensors.of(merger).checksum(), ModelTensors.of(global).checksum());
      assertTrue(local.sameAs(ModelTensors.of(alone)), "round " + round + ": sync moved the learner's replica");
    }
    assertTrue(arrayOf(learner).evictions() > 0);
    // The final models agree byte for byte as snapshots without optimizer state (the merger keeps
    // the counters from the learners' reports, as the job's merger does).
    merger.setCounters(alone.rowsTrained(), alone.skippedUpdates());
    assertTrue(java.util.Arrays.equals(SnapshotCodec.encode(alone, false), SnapshotCodec.encode(merger, false)));
  }

  @Test
  void twoLearnersChangesAddUpAndRebaseKeepsPendingWork() {
    ModelConfig sgd = INT8.withOptimizer(ModelConfig.OptimizerKind.SGD);
    Dlrm merger = new Dlrm(sgd);
    ModelTensors g0 = ModelTensors.of(merger).copy();
    Dlrm a = ChunkDeltaTest.copyOf(merger);
    Dlrm b = ChunkDeltaTest.copyOf(merger);
    ChunkDeltaTest.train(a, 0, 4);
    ChunkDeltaTest.train(b, 5000, 4);
    ModelTensors g = ModelTensors.of(merger);
    ChunkDelta.between(g0, ModelTensors.of(a), true).mergeInto(g);
    ChunkDelta.between(g0, ModelTensors.of(b), true).mergeInto(g);
    QuantizedArray x = g0.lines();
    QuantizedArray ya = arrayOf(a);
    QuantizedArray yb = arrayOf(b);
    QuantizedArray got = g.lines();
    int both = 0;
    float[] vx = new float[x.lineLength()];
    float[] va = new float[x.lineLength()];
    float[] vb = new float[x.lineLength()];
    float[] vg = new float[x.lineLength()];
    float[] s = new float[x.lineLength() + 1];
    for (int l = 0; l < x.numLines(); l++) {
      boolean byA = !ya.lineEquals(l, x);
      boolean byB = !yb.lineEquals(l, x);
      if (byA && !byB) {
        assertTrue(got.lineEquals(l, ya), "line " + l + " moved by a alone arrives exactly");
      } else if (byB && !byA) {
        assertTrue(got.lineEquals(l, yb), "line " + l + " moved by b alone arrives exactly");
      } else if (byA) {
        both++;
        x.readLogical(l, vx, s);
        ya.readLogical(l, va, s);
        yb.readLogical(l, vb, s);
        got.readLogical(l, vg, s);
        float step = 0.02f / 255 * 4; // a few quantization steps of the initial range
        for (int j = 0; j < x.lengthOf(l); j++) {
          float want = va[j] == vx[j] ? vb[j] : vb[j] == vx[j] ? va[j] : va[j] + (vb[j] - vx[j]);
          assertEquals(want, vg[j], Math.max(step, Math.abs(want) * 0.02f), "line " + l + " element " + j);
        }
      }
    }
    assertTrue(both > 0, "the two learners share lines");
    // a trains on after sending; a rebase onto the merged model keeps that work on top.
    ModelTensors sent = ModelTensors.of(a).copy();
    ChunkDeltaTest.train(a, 9000, 1);
    ModelTensors local = ModelTensors.of(a);
    ModelTensors pending = local.copy();
    ChunkDelta.rebase(local, sent, g);
    for (int l = 0; l < x.numLines(); l++) {
      if (pending.lines().lineEquals(l, sent.lines())) {
        assertTrue(local.lines().lineEquals(l, g.lines()), "untouched since sending: line " + l + " is the global one");
      } else if (g.lines().lineEquals(l, sent.lines())) {
        assertTrue(local.lines().lineEquals(l, pending.lines()), "nobody else moved line " + l + ": kept as is");
      }
    }
  }

  @Test
  void tensorsShouldSurviveTheirOwnWireFormAndRefuseCorruptLines() throws Exception {
    Dlrm m = new Dlrm(INT8);
    ChunkDeltaTest.train(m, 0, 8);
    ModelTensors t = ModelTensors.of(m);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    t.writeTo(new DataOutputStream(bytes));
    ModelTensors back = ModelTensors.of(new Dlrm(INT8)).copy();
    back.readFrom(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
    assertTrue(back.sameAs(t));
    assertEquals(t.checksum(), back.checksum());

    byte[] delta = ChunkDelta.between(ModelTensors.of(new Dlrm(INT8)), t, true).encode();
    ChunkDelta.decode(delta, t);
    // Cut one byte out of the line records (and fix the CRC): the decoder must notice.
    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(delta).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    byte[] cut = new byte[delta.length - 1];
    System.arraycopy(delta, 0, cut, 0, delta.length - 5);
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update(cut, 0, cut.length - 4);
    java.nio.ByteBuffer.wrap(cut).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(cut.length - 4, (int) crc.getValue());
    assertThrows(IllegalArgumentException.class, () -> ChunkDelta.decode(cut, t));
    assertTrue(b.capacity() > 0);
  }
}
