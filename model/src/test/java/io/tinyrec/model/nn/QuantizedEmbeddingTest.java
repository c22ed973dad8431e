package io.tinyrec.model.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyrec.model.Batch;
import io.tinyrec.model.Dlrm;
import io.tinyrec.model.ModelConfig;
import io.tinyrec.model.ModelConfig.CachePolicy;
import io.tinyrec.model.ModelConfig.Precision;
import io.tinyrec.model.ModelConfig.Quantization;
import io.tinyrec.model.ModelConfig.ScaleDtype;
import io.tinyrec.model.sync.ModelTensors;
import io.tinyrec.model.synthetic.SyntheticCriteo;
import java.util.List;
import org.junit.jupiter.api.Test;

class QuantizedEmbeddingTest {
  static final ModelConfig SMALL = ModelConfig.preset("small").withLearningRates(0.05f, 0.05f);

  static ModelConfig quantized(ModelConfig c, Precision p, int group, float cache, CachePolicy policy) {
    return c.withQuantization(new Quantization(p, group, ScaleDtype.FP16, cache, policy));
  }

  static List<Batch> batches(long seed, int count, int size) {
    SyntheticCriteo s = new SyntheticCriteo(seed, -1);
    java.util.ArrayList<Batch> out = new java.util.ArrayList<>();
    for (int b = 0; b < count; b++) {
      Batch batch = new Batch(size);
      for (int i = 0; i < size; i++) {
        batch.add(s.sample((long) b * size + i).row());
      }
      out.add(batch);
    }
    return out;
  }

  /** The category values of {@link #batches}' rows, batch by batch. */
  static List<long[]> cats(long seed, int count, int size) {
    SyntheticCriteo s = new SyntheticCriteo(seed, -1);
    java.util.ArrayList<long[]> out = new java.util.ArrayList<>();
    for (int b = 0; b < count; b++) {
      long[] c = new long[size * ModelConfig.NUM_SPARSE];
      for (int i = 0; i < size; i++) {
        System.arraycopy(s.sample((long) b * size + i).row().categoryValues(), 0, c, i * ModelConfig.NUM_SPARSE,
            ModelConfig.NUM_SPARSE);
      }
      out.add(c);
    }
    return out;
  }

  static void train(Dlrm m, List<Batch> batches) {
    for (Batch b : batches) {
      m.trainStepInPlace(b, null);
    }
  }

  static QuantizedArray arrayOf(Dlrm m) {
    return ((QuantizedRobeEmbedding) m.embedding()).array();
  }

  @Test
  void initialWeightsShouldBeTheFloatModelsRoundedToNearest() {
    for (Precision p : new Precision[] {Precision.INT8, Precision.INT4}) {
      ModelConfig c = quantized(SMALL, p, 0, 0.05f, CachePolicy.LFU);
      Dlrm q = new Dlrm(c);
      Dlrm f = new Dlrm(SMALL);
      float[] v = ((QuantizedRobeEmbedding) q.embedding()).values();
      float[] w = f.embedding().weights();
      QuantizedArray a = arrayOf(q);
      for (int i = 0; i < w.length; i++) {
        float step = a.scale(i / c.quantGroupSize());
        // Half a step, plus the fp16 rounding of the scale and bias (2^-11 relative) over the range.
        float bound = 0.5f * step + 0.02f * 0x1p-10f + 1e-7f;
        assertTrue(Math.abs(v[i] - w[i]) <= bound, p + " element " + i + ": " + v[i] + " vs " + w[i]);
      }
      // The dense layers are drawn exactly as the float model's.
      assertTrue(java.util.Arrays.equals(q.denseParams().get(0).value(), f.denseParams().get(0).value()));
    }
  }

  /**
   * With every line cached nothing is ever re-quantized: training is float32 training from the
   * dequantized initial weights, bit for bit, for every optimizer.
   */
  @Test
  void withEveryLineCachedTrainingShouldEqualFloatTrainingBitForBit() {
    List<Batch> data = batches(3, 12, 32);
    for (ModelConfig.OptimizerKind o : ModelConfig.OptimizerKind.values()) {
      for (ModelConfig.EmbeddingAdagrad mode : ModelConfig.EmbeddingAdagrad.values()) {
        for (int group : new int[] {0, 8}) {
          ModelConfig base = SMALL.withOptimizer(o).withEmbeddingAdagrad(mode);
          Dlrm q = new Dlrm(quantized(base, Precision.INT8, group, 1f, CachePolicy.LRU));
          Dlrm f = new Dlrm(base);
          float[] start = ((QuantizedRobeEmbedding) q.embedding()).values();
          System.arraycopy(start, 0, f.embedding().weights(), 0, start.length);
          train(q, data);
          train(f, data);
          String what = o + "/" + mode + "/group " + group;
          assertEquals(0, arrayOf(q).evictions(), what);
          float[] got = ((QuantizedRobeEmbedding) q.embedding()).values();
          float[] want = f.embedding().weights();
          for (int i = 0; i < want.length; i++) {
            assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), what + " element " + i);
          }
          for (int p = 0; p < f.denseParams().size(); p++) {
            assertTrue(java.util.Arrays.equals(f.denseParams().get(p).value(), q.denseParams().get(p).value()), what);
          }
          if (o == ModelConfig.OptimizerKind.ADAGRAD) {
            assertStateMatches(q, f, what);
          }
        }
      }
    }
  }

  private static void assertStateMatches(Dlrm q, Dlrm f, String what) {
    QuantizedArray a = arrayOf(q);
    float[] want = f.embedding().optimizerState();
    float[] w = new float[a.lineLength()];
    float[] s = new float[a.lineLength() + 1];
    for (int l = 0; l < a.numLines(); l++) {
      a.readLogical(l, w, s);
      int start = l * a.lineLength();
      if (a.stateKind() == QuantizedArray.StateKind.ELEMENT) {
        for (int k = 0; k < a.lengthOf(l); k++) {
          assertEquals(want[start + k], s[k], what + " state of element " + (start + k));
        }
      } else {
        for (int k = 0; k < a.logicalStateLength(l); k++) {
          assertEquals(want[start / a.blockZ() + k], s[k], what + " row state of block " + (start / a.blockZ() + k));
        }
      }
    }
  }

  @Test
  void theSameSeedShouldGiveTheSameBitsWithEvictions() {
    List<Batch> data = batches(5, 20, 32);
    for (CachePolicy policy : CachePolicy.values()) {
      for (Precision p : new Precision[] {Precision.INT8, Precision.INT4}) {
        ModelConfig c = quantized(SMALL, p, 0, 0.02f, policy);
        Dlrm a = new Dlrm(c);
        Dlrm b = new Dlrm(c);
        train(a, data);
        train(b, data);
        assertTrue(arrayOf(a).evictions() > 100, "the small cache evicts");
        assertTrue(ModelTensors.of(a).sameAs(ModelTensors.of(b)), policy + "/" + p);
        assertEquals(ModelTensors.of(a).checksum(), ModelTensors.of(b).checksum());
      }
    }
  }

  @Test
  void theCacheShouldHoldItsCapacityAfterEveryStep() {
    ModelConfig c = quantized(SMALL, Precision.INT8, 0, 0.05f, CachePolicy.LFU);
    Dlrm m = new Dlrm(c);
    QuantizedArray a = arrayOf(m);
    assertEquals((int) Math.floor(0.05 * a.numLines()), a.capacity());
    for (Batch b : batches(6, 10, 64)) {
      m.trainStepInPlace(b, null);
      assertTrue(a.cachedLines() <= a.capacity(), a.cachedLines() + " cached lines, capacity " + a.capacity());
    }
    assertEquals(a.capacity(), a.cachedLines());
  }

  @Test
  void lfuShouldKeepAHotLineThatLruLetsGo() {
    for (CachePolicy policy : CachePolicy.values()) {
      ModelConfig c = quantized(SMALL.withRobeSize(4096), Precision.INT8, 0, 8f / 1024, policy);
      QuantizedArray a = new QuantizedArray(c);
      assertEquals(8, a.capacity());
      int hot = 5;
      boolean kept = true;
      for (int round = 0; round < 50; round++) {
        a.acquire(hot);
        // A burst of cold lines, more than the cache holds.
        for (int k = 0; k < 12; k++) {
          a.acquire(100 + (round * 12 + k) % 900);
        }
        if (round >= 5) {
          kept &= a.isCached(hot); // once it has been seen more often than the cold lines
        }
      }
      assertEquals(policy == CachePolicy.LFU, kept, policy + " keeps the hot line");
    }
  }

  @Test
  void stochasticRoundingOnEvictionShouldBeUnbiased() {
    ModelConfig c = quantized(SMALL.withRobeSize(64), Precision.INT4, 0, 0.25f, CachePolicy.LRU);
    QuantizedArray a = new QuantizedArray(c);
    int n = a.lineLength();
    float[] w = new float[n];
    float[] s = new float[n + 1];
    // Values 0 and 15 pin the grid to steps of 1; the middle values sit between grid points.
    w[0] = 0f;
    w[1] = 15f;
    w[2] = 3.25f;
    w[3] = 7.9f;
    double sum2 = 0;
    double sum3 = 0;
    int rounds = 20_000;
    float[] back = new float[n];
    for (int r = 0; r < rounds; r++) {
      a.writeBack(0, w, 0, s, 0); // as training writes a line back: a new draw every time
      a.readLogical(0, back, s);
      sum2 += back[2];
      sum3 += back[3];
      assertTrue(back[2] == 3f || back[2] == 4f);
    }
    assertEquals(3.25, sum2 / rounds, 0.02);
    assertEquals(7.9, sum3 / rounds, 0.02);
  }

  @Test
  void scoringAloneShouldChangeNothing() {
    Dlrm m = new Dlrm(quantized(SMALL, Precision.INT8, 0, 0.05f, CachePolicy.LFU));
    train(m, batches(7, 5, 32));
    ModelTensors before = ModelTensors.of(m).copy();
    long evictions = arrayOf(m).evictions();
    float[] out = new float[32];
    for (Batch b : batches(8, 5, 32)) {
      m.score(b, out);
    }
    assertTrue(before.sameAs(ModelTensors.of(m)));
    assertEquals(evictions, arrayOf(m).evictions());
  }

  @Test
  void int8WithACacheShouldLearnAboutAsWellAsFloat() {
    List<Batch> data = batches(9, 150, 64);
    double f = progressiveAuc(new Dlrm(SMALL), data);
    double q8 = progressiveAuc(new Dlrm(quantized(SMALL, Precision.INT8, 0, 0.05f, CachePolicy.LFU)), data);
    double q4 = progressiveAuc(new Dlrm(quantized(SMALL, Precision.INT4, 0, 0.01f, CachePolicy.LFU)), data);
    System.out.printf("progressive AUC on 9,600 rows: fp32 %.4f, int8 %.4f, int4 %.4f%n", f, q8, q4);
    assertTrue(q8 > f - 0.01, "int8 " + q8 + " vs fp32 " + f);
    assertTrue(q4 > 0.6, "int4 learns: " + q4);
  }

  static double progressiveAuc(Dlrm m, List<Batch> data) {
    io.tinyrec.model.metrics.ProgressiveMetrics pm = new io.tinyrec.model.metrics.ProgressiveMetrics(100_000);
    float[] out = new float[64];
    for (Batch b : data) {
      m.trainStepInPlace(b, out);
      for (int i = 0; i < b.size(); i++) {
        pm.add(out[i], b.label(i) != 0f);
      }
    }
    return pm.overall().auc();
  }

  @Test
  void configShouldRefuseWhatItCannotStore() {
    String hash = assertThrows(IllegalArgumentException.class, () -> SMALL.withEmbedding(ModelConfig.EmbeddingKind.HASH)
        .withQuantization(Quantization.of(Precision.INT8))).getMessage();
    assertTrue(hash.contains("hash tables stay fp32"), hash);
    String group = assertThrows(IllegalArgumentException.class,
        () -> SMALL.withQuantization(Quantization.of(Precision.INT8).withGroup(6))).getMessage();
    assertTrue(group.contains("quantization.group must be a multiple or a divisor of robeZ=4"), group);
    String odd = assertThrows(IllegalArgumentException.class, () -> SMALL.withRobeZ(1)
        .withQuantization(Quantization.of(Precision.INT4).withGroup(0))).getMessage();
    assertTrue(odd.contains("must be even"), odd);
    String fraction = assertThrows(IllegalArgumentException.class,
        () -> Quantization.of(Precision.INT8).withCacheFraction(1.5f)).getMessage();
    assertTrue(fraction.contains("quantization.cacheFraction must be between 0 and 1"), fraction);
    assertEquals(SMALL, SMALL.withQuantization(new Quantization(Precision.FP32, 64, ScaleDtype.FP32, 0.3f,
        CachePolicy.LRU)), "fp32 ignores the quantization settings");
  }

  @Test
  void aWriteThroughCacheOfZeroLinesShouldStillTrain() {
    Dlrm m = new Dlrm(quantized(SMALL, Precision.INT8, 0, 0f, CachePolicy.LRU));
    List<Batch> data = batches(10, 5, 32);
    train(m, data);
    assertEquals(0, arrayOf(m).cachedLines());
    assertTrue(arrayOf(m).evictions() > 0);
  }

  /** The default int8 setting at the kaggle preset's M stores array, scales and cache in 1/3 of the fp32 array. */
  @Test
  void defaultInt8ShouldTakeAtMostAThirdOfTheFloatArraysMemory() {
    ModelConfig k = ModelConfig.preset("kaggle");
    long fp32 = 4L * k.robeSize();
    QuantizedArray a = new QuantizedArray(k.withQuantization(Quantization.of(Precision.INT8)));
    assertTrue(3 * a.storageBytes() <= fp32, a.storageBytes() + " bytes against " + fp32);
    assertFalse(a.hasState());
  }

  /** Everything a model's state consists of, bookkeeping of the cache included, as bytes. */
  static byte[] stateBytes(Dlrm m) throws java.io.IOException {
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    ModelTensors.of(m).writeTo(new java.io.DataOutputStream(bytes));
    return bytes.toByteArray();
  }

  /**
   * Scoring in a caller's scratch (the serving path, {@link Embedding#gather}) gives the scores the
   * training path (lookup) gives for the same state, bit for bit, with cached and uncached lines
   * alike, and it leaves no trace: a twin that never scored trains on to the same bytes, cache
   * bookkeeping included.
   */
  @Test
  void scoringInAScratchShouldEqualTheTrainingPathAndChangeNothing() throws Exception {
    List<Batch> warm = batches(21, 6, 32);
    List<Batch> more = batches(22, 4, 32);
    List<long[]> moreCats = cats(22, 4, 32);
    for (Precision p : new Precision[] {Precision.INT8, Precision.INT4}) {
      for (CachePolicy policy : CachePolicy.values()) {
        ModelConfig c = quantized(SMALL, p, 0, 0.05f, policy);
        Dlrm scored = new Dlrm(c);
        Dlrm twin = new Dlrm(c);
        train(scored, warm);
        train(twin, warm);
        String what = p + "/" + policy;
        QuantizedArray a = arrayOf(scored);
        assertTrue(a.cachedLines() > 0 && a.cachedLines() < a.numLines(), what + ": some lines cached, not all");
        Dlrm.Scratch scratch = scored.newScratch();
        for (int k = 0; k < more.size(); k++) {
          Batch b = more.get(k);
          long[] cats = moreCats.get(k);
          float[] served = new float[b.size()];
          scored.score(b, served, scratch);
          float[] own = new float[b.size()];
          scored.score(b, own);
          // The embedding values themselves: gather against lookup.
          int n = b.size() * ModelConfig.NUM_SPARSE * c.dim();
          float[] gathered = new float[n];
          float[] looked = new float[n];
          scored.embedding().gather(b.size(), cats, gathered);
          twin.embedding().lookup(b.size(), cats, looked);
          twin.embedding().discardGradients();
          assertTrue(java.util.Arrays.equals(gathered, looked), what + ": gather equals lookup");
          float[] trained = new float[b.size()];
          twin.trainStepInPlace(b, trained); // scores with the current weights, then trains
          for (int i = 0; i < b.size(); i++) {
            assertEquals(Float.floatToRawIntBits(trained[i]), Float.floatToRawIntBits(served[i]), what + " row " + i);
            assertEquals(Float.floatToRawIntBits(trained[i]), Float.floatToRawIntBits(own[i]), what + " row " + i);
          }
          scored.trainStepInPlace(b, null);
        }
        assertTrue(a.evictions() > 0, what + ": the cache evicted");
        assertTrue(java.util.Arrays.equals(stateBytes(twin), stateBytes(scored)),
            what + ": scoring changed the model's state");
      }
    }
  }

  /** Many threads gather from one model at once, each in its own scratch, and agree with one thread. */
  @Test
  void gatherShouldBeSafeFromManyThreads() throws Exception {
    ModelConfig c = quantized(SMALL, Precision.INT8, 0, 0.05f, CachePolicy.LFU);
    Dlrm m = new Dlrm(c);
    train(m, batches(23, 6, 32));
    Batch all = batches(24, 1, 200).get(0);
    float[] want = new float[all.size()];
    m.score(all, want);
    byte[] before = stateBytes(m);
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
    try {
      List<java.util.concurrent.Future<float[]>> results = new java.util.ArrayList<>();
      for (int t = 0; t < 4; t++) {
        results.add(pool.submit(() -> {
          Dlrm.Scratch scratch = m.newScratch();
          float[] got = new float[all.size()];
          for (int round = 0; round < 20; round++) {
            m.score(all, got, scratch);
          }
          return got;
        }));
      }
      for (java.util.concurrent.Future<float[]> f : results) {
        assertTrue(java.util.Arrays.equals(want, f.get()));
      }
    } finally {
      pool.shutdownNow();
    }
    assertTrue(java.util.Arrays.equals(before, stateBytes(m)));
  }
}
