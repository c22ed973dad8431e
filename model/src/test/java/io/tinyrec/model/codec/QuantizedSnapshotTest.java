package io.tinyrec.model.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyrec.model.Batch;
import io.tinyrec.model.Dlrm;
import io.tinyrec.model.ModelConfig;
import io.tinyrec.model.ModelConfig.CachePolicy;
import io.tinyrec.model.ModelConfig.Precision;
import io.tinyrec.model.ModelConfig.Quantization;
import io.tinyrec.model.ModelConfig.ScaleDtype;
import io.tinyrec.model.nn.QuantizedArray;
import io.tinyrec.model.nn.QuantizedRobeEmbedding;
import io.tinyrec.model.sync.ModelTensors;
import io.tinyrec.model.synthetic.SyntheticCriteo;
import org.junit.jupiter.api.Test;

class QuantizedSnapshotTest {
  static final ModelConfig SMALL = ModelConfig.preset("small").withLearningRates(0.05f, 0.05f);

  static Dlrm trained(ModelConfig c, int from, int rows, Dlrm m) {
    SyntheticCriteo s = new SyntheticCriteo(8, -1);
    Batch b = new Batch(32);
    for (int i = from; i < from + rows; i += 32) {
      b.clear();
      for (int j = i; j < i + 32; j++) {
        b.add(s.sample(j).row());
      }
      m.trainStepInPlace(b, null);
    }
    return m;
  }

  static QuantizedArray arrayOf(Dlrm m) {
    return ((QuantizedRobeEmbedding) m.embedding()).array();
  }

  static ModelConfig[] configs() {
    return new ModelConfig[] {
        SMALL.withQuantization(Quantization.of(Precision.INT8)),
        SMALL.withQuantization(new Quantization(Precision.INT4, 8, ScaleDtype.FP32, 0.03f, CachePolicy.LRU)),
        SMALL.withOptimizer(ModelConfig.OptimizerKind.SGD).withQuantization(Quantization.of(Precision.INT8)),
        SMALL.withEmbeddingAdagrad(ModelConfig.EmbeddingAdagrad.ROWWISE)
            .withQuantization(Quantization.of(Precision.INT4).withGroup(2)),
    };
  }

  @Test
  void aSnapshotWithOptimizerStateShouldResumeTrainingBitForBit() {
    for (ModelConfig c : configs()) {
      Dlrm straight = trained(c, 0, 1280, new Dlrm(c));
      Dlrm half = trained(c, 0, 640, new Dlrm(c));
      byte[] bytes = SnapshotCodec.encode(half, true);
      assertEquals(2, SnapshotCodec.readHeader(bytes).formatVersion());
      Dlrm resumed = SnapshotCodec.decode(bytes);
      assertEquals(c, resumed.config());
      assertTrue(ModelTensors.of(half).sameAs(ModelTensors.of(resumed)), c.toString());
      assertEquals(arrayOf(half).cachedLines(), arrayOf(resumed).cachedLines());
      trained(c, 640, 640, resumed);
      assertTrue(arrayOf(straight).evictions() > 0, "the cache evicted: the test covers re-quantization");
      assertTrue(ModelTensors.of(straight).sameAs(ModelTensors.of(resumed)), "resumed " + c);
      assertArrayEquals(SnapshotCodec.encode(straight, true), SnapshotCodec.encode(resumed, true));
    }
  }

  @Test
  void aServingSnapshotShouldHoldNoCacheAndLeaveTheModelAsItWas() {
    for (ModelConfig c : configs()) {
      Dlrm m = trained(c, 0, 640, new Dlrm(c));
      Dlrm twin = trained(c, 0, 640, new Dlrm(c));
      byte[] serving = SnapshotCodec.encode(m, false);
      byte[] training = SnapshotCodec.encode(m, true);
      assertTrue(serving.length < training.length);
      Dlrm back = SnapshotCodec.decode(serving);
      assertEquals(0, arrayOf(back).cachedLines());
      assertTrue(arrayOf(m).cachedLines() > 0);
      // Cached lines are flushed rounded to nearest: close to the live scores, not equal.
      float[] live = score(m);
      float[] served = score(back);
      for (int i = 0; i < live.length; i++) {
        assertEquals(live[i], served[i], 0.02f, c + " row " + i);
      }
      assertArrayEquals(served, score(SnapshotCodec.decode(SnapshotCodec.encode(back, false))));
      // Encoding touched nothing: the model trains on exactly as its twin.
      trained(c, 640, 320, m);
      trained(c, 640, 320, twin);
      assertTrue(ModelTensors.of(m).sameAs(ModelTensors.of(twin)), c.toString());
    }
  }

  @Test
  void theModelsTopicShouldCarryFewerBytes() {
    ModelConfig k = ModelConfig.preset("kaggle");
    long fp32 = SnapshotCodec.encode(new Dlrm(k), false).length;
    long int8 = SnapshotCodec.encode(new Dlrm(k.withQuantization(Quantization.of(Precision.INT8))), false).length;
    long int4 = SnapshotCodec.encode(new Dlrm(k.withQuantization(Quantization.of(Precision.INT4))), false).length;
    long dense = 4 * SnapshotCodec.denseParameterCount(k);
    System.out.printf("serving snapshot bytes, kaggle preset: fp32 %d, int8 %d, int4 %d (dense layers %d)%n", fp32,
        int8, int4, dense);
    assertTrue(int8 - dense < (fp32 - dense) / 3);
    assertTrue(int4 < int8);
  }

  @Test
  void floatModelsShouldStillBeWrittenAsVersionOne() {
    assertEquals(1, SnapshotCodec.readHeader(SnapshotCodec.encode(new Dlrm(SMALL), true)).formatVersion());
  }

  @Test
  void decoderShouldRefuseABadCacheSection() {
    ModelConfig c = configs()[0];
    Dlrm m = trained(c, 0, 320, new Dlrm(c));
    byte[] good = SnapshotCodec.encode(m, true);
    // The first cached line's index sits right after the header of the 'cache.lines' tensor.
    int at = indexOf(good, "cache.lines".getBytes(java.nio.charset.StandardCharsets.UTF_8)) + 11 + 1 + 4 + 1;
    byte[] bad = good.clone();
    java.nio.ByteBuffer.wrap(bad).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(at, 1 << 29);
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update(bad, 0, bad.length - 4);
    java.nio.ByteBuffer.wrap(bad).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(bad.length - 4, (int) crc.getValue());
    String msg = assertThrows(SnapshotFormatException.class, () -> SnapshotCodec.decode(bad)).getMessage();
    assertTrue(msg.contains("cache line 536870912 is out of range"), msg);
  }

  private static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    throw new AssertionError("not found");
  }

  static float[] score(Dlrm m) {
    SyntheticCriteo s = new SyntheticCriteo(8, -1);
    Batch b = new Batch(64);
    for (int i = 20_000; i < 20_064; i++) {
      b.add(s.sample(i).row());
    }
    float[] out = new float[64];
    m.score(b, out);
    return out;
  }

  /** The version-2 golden files of docs/snapshot-format.md §7 decode and score as recorded, cache applied. */
  @Test
  void goldenSnapshotsOfFormatVersionTwoShouldDecodeAndScore() throws java.io.IOException {
    for (String name : new String[] {"small-robe-int8-v2", "small-robe-int4-v2"}) {
      byte[] golden;
      java.util.List<String> expected;
      try (java.io.InputStream in = getClass().getResourceAsStream("/golden/" + name + ".trsn");
           java.io.InputStream rows = getClass().getResourceAsStream("/golden/" + name + ".scores.tsv")) {
        golden = in.readAllBytes();
        expected = new String(rows.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).lines().toList();
      }
      assertEquals(2, SnapshotCodec.readHeader(golden).formatVersion());
      Dlrm m = SnapshotCodec.decode(golden);
      assertTrue(arrayOf(m).cachedLines() > 0, name + " carries a cache");
      assertEquals(10, expected.size());
      Batch b = new Batch(1);
      float[] out = new float[1];
      for (String line : expected) {
        int tab = line.indexOf('\t');
        b.clear();
        b.add(io.tinyrec.model.data.CriteoParser.parse(line.substring(tab + 1), name, 1, true));
        m.score(b, out);
        assertEquals(Float.parseFloat(line.substring(0, tab)), out[0], 1e-6f, name + ": " + line);
      }
    }
  }
}
