package io.tinyrec.model.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyrec.model.Batch;
import io.tinyrec.model.Dlrm;
import io.tinyrec.model.ModelConfig;
import io.tinyrec.model.synthetic.SyntheticCriteo;
import org.junit.jupiter.api.Test;

class ChunkDeltaTest {
  static final SyntheticCriteo GEN = new SyntheticCriteo(3, -1);

  static Dlrm model(ModelConfig c) {
    return new Dlrm(c);
  }

  static Dlrm copyOf(Dlrm m) {
    Dlrm c = new Dlrm(m.config());
    ModelTensors.of(c).setFrom(ModelTensors.of(m));
    c.weightsChangedInPlace();
    return c;
  }

  static void train(Dlrm m, long from, int batches) {
    Batch b = new Batch(32);
    for (int k = 0; k < batches; k++) {
      b.clear();
      for (int i = 0; i < 32; i++) {
        b.add(GEN.sample(from + k * 32L + i).row());
      }
      m.trainStepInPlace(b, new float[32]);
    }
  }

  @Test
  void theWireFormStraightFromTwoModelsIsByteForByteTheDeltasEncoding() {
    for (String preset : new String[] {"small", "kaggle"}) {
      Dlrm global = model(ModelConfig.preset(preset));
      Dlrm learner = copyOf(global);
      ModelTensors base = ModelTensors.of(global).copy();
      train(learner, 0, 3);
      ModelTensors now = ModelTensors.of(learner);
      for (boolean withBefore : new boolean[] {true, false}) {
        byte[] expected = ChunkDelta.between(base, now, withBefore).encode();
        assertTrue(java.util.Arrays.equals(expected, ChunkDelta.encodeBetween(base, now, withBefore)), preset);
      }
      assertEquals(ChunkDelta.between(base, base.copy(), true).encode().length,
          ChunkDelta.encodeBetween(base, base.copy(), true).length, "no change: no chunks");
    }
  }

  @Test
  void oneLearnersUpdateMergesToItsModelExactlyAndSurvivesTheWire() {
    Dlrm global = model(ModelConfig.preset("small"));
    Dlrm learner = copyOf(global);
    ModelTensors base = ModelTensors.of(global).copy();
    train(learner, 0, 5);
    ChunkDelta d = ChunkDelta.decode(ChunkDelta.between(base, ModelTensors.of(learner), true).encode(), base);
    ChunkDelta merged = d.mergeInto(ModelTensors.of(global));
    assertTrue(ModelTensors.of(global).sameAs(ModelTensors.of(learner)));
    // The after-only sync delta brings a third replica to the same model.
    ModelTensors replica = base.copy();
    ChunkDelta.decode(merged.encode(), replica).overwrite(replica);
    assertTrue(replica.sameAs(ModelTensors.of(learner)));
  }

  @Test
  void twoLearnersChangesAddUpWithoutAdagradAndRebaseKeepsPendingWork() {
    ModelConfig sgd = ModelConfig.preset("small").toBuilder().optimizer(ModelConfig.OptimizerKind.SGD).build();
    Dlrm global = model(sgd);
    ModelTensors g0 = ModelTensors.of(global).copy();
    Dlrm a = copyOf(global);
    Dlrm b = copyOf(global);
    train(a, 0, 3);
    train(b, 1000, 3);
    ModelTensors g = ModelTensors.of(global);
    ChunkDelta.between(g0, ModelTensors.of(a), true).mergeInto(g);
    ChunkDelta.between(g0, ModelTensors.of(b), true).mergeInto(g);
    for (int i = 0; i < g.tensorCount(); i++) {
      float[] x = g0.array(i);
      float[] ya = ModelTensors.of(a).array(i);
      float[] yb = ModelTensors.of(b).array(i);
      for (int j = 0; j < x.length; j++) {
        float want = ya[j] == x[j] ? yb[j] : yb[j] == x[j] ? ya[j] : ya[j] + (yb[j] - x[j]);
        assertEquals(want, g.array(i)[j], 1e-6f, "array " + i + " element " + j);
      }
    }
    // Learner a trained more after it sent; rebasing keeps that on top of the merged model.
    ModelTensors sent = ModelTensors.of(a).copy();
    train(a, 2000, 1);
    ModelTensors local = ModelTensors.of(a);
    ModelTensors pending = local.copy();
    ChunkDelta.rebase(local, sent, g);
    for (int i = 0; i < g.tensorCount(); i++) {
      for (int j = 0; j < g.array(i).length; j++) {
        float s = sent.array(i)[j];
        float p = pending.array(i)[j];
        float want = p == s ? g.array(i)[j] : g.array(i)[j] == s ? p : g.array(i)[j] + (p - s);
        assertEquals(want, local.array(i)[j], 0f);
      }
    }
  }

  @Test
  void anUnchangedModelGivesAnEmptyDeltaAndCorruptBytesAreRefused() {
    Dlrm m = model(ModelConfig.preset("small"));
    ModelTensors t = ModelTensors.of(m);
    ChunkDelta d = ChunkDelta.between(t.copy(), t, true);
    assertTrue(d.isEmpty());
    train(m, 0, 1);
    byte[] bytes = ChunkDelta.between(ModelTensors.of(model(ModelConfig.preset("small"))), t, true).encode();
    assertFalse(ChunkDelta.decode(bytes, t).isEmpty());
    bytes[bytes.length / 2] ^= 1;
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ChunkDelta.decode(bytes, t));
    assertTrue(e.getMessage().contains("checksum"), e.getMessage());
  }

  /** The merge and the rebase find chunks by binary search; a delta whose chunks do not increase is refused. */
  @Test
  void chunksOutOfOrderAreRefused() {
    Dlrm m = model(ModelConfig.preset("small"));
    ModelTensors t = ModelTensors.of(m);
    ModelTensors before = t.copy();
    train(m, 0, 3);
    byte[] bytes = ChunkDelta.between(before, t, true).encode();
    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    b.position(9);
    boolean swapped = false;
    for (int i = 0; i < t.tensorCount() && !swapped; i++) {
      int at = b.position();
      int k = b.getInt();
      int[] idx = new int[k];
      for (int j = 0; j < k; j++) {
        idx[j] = b.getInt();
      }
      if (k >= 2) {
        b.putInt(at + 4, idx[1]);
        b.putInt(at + 8, idx[0]);
        swapped = true;
        break;
      }
      int total = 0;
      for (int c : idx) {
        total += Math.min(t.chunkLength(i), t.array(i).length - c * t.chunkLength(i));
      }
      b.position(b.position() + 8 * total); // after and before values
    }
    assertTrue(swapped, "the delta has an array with two changed chunks");
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update(bytes, 0, bytes.length - 4);
    b.putInt(bytes.length - 4, (int) crc.getValue());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ChunkDelta.decode(bytes, t));
    assertTrue(e.getMessage().contains("out of order"), e.getMessage());
  }
}
