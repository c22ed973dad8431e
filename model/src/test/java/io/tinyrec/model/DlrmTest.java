package io.tinyrec.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyrec.model.metrics.ProgressiveMetrics;
import io.tinyrec.model.nn.Param;
import io.tinyrec.model.synthetic.SyntheticCriteo;
import org.junit.jupiter.api.Test;

class DlrmTest {
  static Dlrm trainOn(ModelConfig c, SyntheticCriteo s, int rows, int batchSize, ProgressiveMetrics m) {
    Dlrm model = new Dlrm(c);
    Batch batch = new Batch(batchSize);
    float[] scores = new float[batchSize];
    for (int i = 0; i < rows; i += batchSize) {
      batch.clear();
      for (int j = i; j < Math.min(rows, i + batchSize); j++) {
        batch.add(s.sample(j).row());
      }
      model.trainStepInPlace(batch, scores);
      if (m != null) {
        for (int j = 0; j < batch.size(); j++) {
          m.add(scores[j], batch.label(j) != 0f);
        }
      }
    }
    return model;
  }

  @Test
  void aConfigWithoutAnEmbeddingKindOrOptimizerIsRefusedNotTakenForHashOrAdagrad() {
    ModelConfig k = ModelConfig.preset("small");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ModelConfig(k.dim(),
        k.bottom(), k.top(), false, null, k.robeSize(), k.robeZ(), k.rowsPerTable(), k.optimizer(),
        k.embeddingAdagrad(), k.lrDense(), k.lrEmbedding(), k.adagradEps(), k.seed(), k.quantization()));
    assertTrue(e.getMessage().contains("embedding kind"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new ModelConfig(k.dim(), k.bottom(), k.top(), false,
        k.embedding(), k.robeSize(), k.robeZ(), k.rowsPerTable(), null, k.embeddingAdagrad(), k.lrDense(),
        k.lrEmbedding(), k.adagradEps(), k.seed(), k.quantization()));
    assertTrue(e.getMessage().contains("optimizer"), e.getMessage());
  }

  @Test
  void theFiniteGradientScreenSeesEveryDenseGradient() {
    Dlrm m = new Dlrm(ModelConfig.preset("small"));
    Batch b = new Batch(16);
    SyntheticCriteo gen = new SyntheticCriteo(5, -1);
    for (int i = 0; i < 16; i++) {
      b.add(gen.sample(i).row());
    }
    m.trainStepInPlace(b, new float[16]);
    assertTrue(m.denseGradientsFinite());
    int checked = 0;
    for (Param p : m.denseParams()) {
      float[] g = p.grad();
      for (float bad : new float[] {Float.POSITIVE_INFINITY, Float.NaN}) {
        int at = g.length - 1;
        float kept = g[at];
        g[at] = bad;
        assertFalse(m.denseGradientsFinite(), "a non-finite value in a gradient of " + g.length + " floats");
        g[at] = kept;
      }
      checked++;
    }
    assertTrue(checked >= 6, "every weight and bias of the small preset's layers: " + checked);
    assertTrue(m.denseGradientsFinite());
  }

  @Test
  void sameSeedShouldGiveBitIdenticalWeightsAfterTraining() {
    for (ModelConfig.OptimizerKind opt : ModelConfig.OptimizerKind.values()) {
      ModelConfig c = ModelConfig.preset("small").withOptimizer(opt).withLearningRates(0.05f, 0.05f);
      SyntheticCriteo s = new SyntheticCriteo(2, -1);
      Dlrm a = trainOn(c, s, 2000, 64, null);
      Dlrm b = trainOn(c, s, 2000, 64, null);
      for (int i = 0; i < a.denseParams().size(); i++) {
        assertArrayEquals(a.denseParams().get(i).value(), b.denseParams().get(i).value(), opt + " " + i);
      }
      assertArrayEquals(a.embedding().weights(), b.embedding().weights());
      assertFalse(java.util.Arrays.equals(new Dlrm(c).embedding().weights(),
          new Dlrm(c.withSeed(c.seed() + 1)).embedding().weights()));
    }
  }

  @Test
  void shouldLearnThePlantedTeacherOnTheSyntheticStream() {
    // What "learns" means here: after 60k rows the windowed AUC closes at least 60% of the gap
    // between chance (0.5) and the teacher's own AUC on the same rows.
    SyntheticCriteo s = new SyntheticCriteo(4, -1);
    ProgressiveMetrics teacher = new ProgressiveMetrics(20_000);
    int rows = 60_000;
    for (int i = 0; i < rows; i++) {
      teacher.add((float) s.sample(i).probability(), s.sample(i).row().label() == 1);
    }
    ModelConfig c = ModelConfig.preset("kaggle").withBottom(new int[] {64, 16}).withTop(new int[] {64, 1})
        .withRobeSize(1 << 18).withOptimizer(ModelConfig.OptimizerKind.ADAGRAD).withLearningRates(0.01f, 0.01f);
    ProgressiveMetrics m = new ProgressiveMetrics(20_000);
    trainOn(c, s, rows, 128, m);
    double best = teacher.windowed().auc();
    double got = m.windowed().auc();
    assertTrue(got - 0.5 >= 0.6 * (best - 0.5), "window auc " + got + ", teacher " + best);
    assertTrue(m.windowed().ne() < 1.0, "NE " + m.windowed().ne());
  }

  @Test
  void embeddingAdagradShouldBeTorchsPerFloatRuleOrTheRowWiseRuleAndLeaveUnreadFloatsAlone() {
    SyntheticCriteo s = new SyntheticCriteo(3, -1);
    for (ModelConfig.EmbeddingKind kind : ModelConfig.EmbeddingKind.values()) {
      for (ModelConfig.EmbeddingAdagrad mode : ModelConfig.EmbeddingAdagrad.values()) {
        ModelConfig c = ModelConfig.preset("small").withEmbedding(kind).withEmbeddingAdagrad(mode)
            .withLearningRates(0.05f, 0.02f);
        Dlrm model = trainOn(c, s, 256, 64, null); // non-zero accumulators to start from
        io.tinyrec.model.nn.Embedding e = model.embedding();
        boolean elementwise = mode == ModelConfig.EmbeddingAdagrad.ELEMENTWISE;
        assertEquals(elementwise ? e.weights().length : e.numBlocks(), e.optimizerState().length);
        Batch batch = new Batch(64);
        for (int j = 256; j < 320; j++) {
          batch.add(s.sample(j).row());
        }
        assertTrue(model.computeGradients(batch, null));
        float[] w0 = e.weights().clone();
        float[] s0 = e.optimizerState().clone();
        float[] g = new float[w0.length];
        for (int i = 0; i < g.length; i++) {
          g[i] = e.gradientAt(i);
        }
        e.applyUpdateInPlace(io.tinyrec.model.nn.Optimizer.of(c), c.lrEmbedding());
        float lr = c.lrEmbedding();
        float eps = c.adagradEps();
        int unread = 0;
        for (int b = 0; b < e.numBlocks(); b++) {
          int from = b * e.blockSize();
          int to = Math.min(w0.length, from + e.blockSize());
          float sq = 0f;
          for (int i = from; i < to; i++) {
            sq += g[i] * g[i];
          }
          float acc = elementwise ? 0f : s0[b] + sq / (to - from);
          for (int i = from; i < to; i++) {
            String where = kind + "/" + mode + " float " + i;
            if (g[i] == 0f) {
              unread += sq != 0f ? 1 : 0;
              assertEquals(Float.floatToRawIntBits(w0[i]), Float.floatToRawIntBits(e.weights()[i]), where);
              continue;
            }
            float want;
            if (elementwise) {
              float si = s0[i] + g[i] * g[i];
              assertEquals(si, e.optimizerState()[i], where);
              want = w0[i] - lr * g[i] / ((float) Math.sqrt(si) + eps);
            } else {
              assertEquals(acc, e.optimizerState()[b], where);
              want = w0[i] - lr / ((float) Math.sqrt(acc) + eps) * g[i];
            }
            assertEquals(want, e.weights()[i], where);
          }
          if (elementwise && sq == 0f) {
            for (int i = from; i < to; i++) {
              assertEquals(s0[i], e.optimizerState()[i]);
            }
          } else if (sq == 0f) {
            assertEquals(s0[b], e.optimizerState()[b]);
          }
        }
        if (kind == ModelConfig.EmbeddingKind.ROBE) {
          assertTrue(unread > 0, "ROBE-Z chunks start anywhere, so touched blocks hold floats no lookup read");
        }
      }
    }
  }

  @Test
  void nonFiniteInputShouldSkipTheUpdateAndCountIt() {
    ModelConfig c = ModelConfig.preset("small");
    Dlrm model = new Dlrm(c);
    float[] before = model.denseParams().get(0).value().clone();
    Batch batch = new Batch(2);
    float[] dense = new float[13];
    dense[3] = Float.NaN;
    batch.add(dense, new long[26], 1f);
    batch.add(new float[13], new long[26], 0f);
    assertFalse(model.trainStepInPlace(batch, new float[2]));
    assertEquals(1, model.skippedUpdates());
    assertEquals(0, model.rowsTrained());
    assertArrayEquals(before, model.denseParams().get(0).value());
    batch.clear();
    batch.add(new float[13], new long[26], 1f);
    assertTrue(model.trainStepInPlace(batch, new float[1]));
    assertEquals(1, model.rowsTrained());
  }

  @Test
  void configShouldExplainWhatIsWrong() {
    ModelConfig k = ModelConfig.preset("kaggle");
    assertTrue(assertThrows(IllegalArgumentException.class, () -> k.withRobeSize(3)).getMessage()
        .contains("robeSize must be >= robeZ=16 floats, got 3"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> k.withRobeZ(5)).getMessage()
        .contains("robeZ must divide dim=16"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> k.withBottom(new int[] {64, 8})).getMessage()
        .contains("must end in dim=16"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> ModelConfig.preset("huge")).getMessage()
        .contains("unknown preset"));
    assertEquals(367, k.topInputWidth());
    assertEquals(16 + 27 * 28 / 2, k.withSelfInteraction(true).topInputWidth());
  }

  @Test
  void compressionShouldBeStatedAgainstTheFullTables() {
    long full = CriteoTableSizes.KAGGLE.fullFloats(16);
    assertEquals(33_762_577L * 16, full);
    int m = CriteoTableSizes.KAGGLE.robeSizeFor(1000, 16, 16);
    assertEquals(0, m % 16);
    assertEquals(full / 1000.0, m, 16);
    assertEquals(1000.0, CriteoTableSizes.parseCompression("1000x"));
    assertThrows(IllegalArgumentException.class, () -> CriteoTableSizes.parseCompression("lots"));
    assertThrows(IllegalArgumentException.class, () -> CriteoTableSizes.KAGGLE.robeSizeFor(0.5, 16, 16));
  }

  @Test
  void parameterOrderShouldBeBottomThenTopWeightThenBias() {
    java.util.List<String> names = new Dlrm(ModelConfig.preset("small")).denseParams().stream().map(Param::name)
        .toList();
    assertEquals(java.util.List.of("bottom.0.weight", "bottom.0.bias", "bottom.1.weight", "bottom.1.bias",
        "top.0.weight", "top.0.bias", "top.1.weight", "top.1.bias"), names);
  }

  @Test
  void scoringInItsOwnScratchShouldEqualTheTrainingPathAndBeSafeFromManyThreads() throws Exception {
    ModelConfig c = ModelConfig.preset("small").withLearningRates(0.05f, 0.05f);
    SyntheticCriteo s = new SyntheticCriteo(4, -1);
    Dlrm model = trainOn(c, s, 1000, 64, null);
    int n = 200;
    Batch all = new Batch(n);
    for (int i = 0; i < n; i++) {
      all.add(s.sample(5000 + i).row());
    }
    float[] want = new float[n];
    model.score(all, want);
    // Each thread scores the rows one at a time and in batches of its own size, in its own scratch.
    int threads = 4;
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
    try {
      java.util.List<java.util.concurrent.Future<float[]>> results = new java.util.ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int size = 1 + t * 13;
        results.add(pool.submit(() -> {
          Dlrm.Scratch scratch = model.newScratch();
          float[] got = new float[n];
          float[] out = new float[size];
          Batch b = new Batch(size);
          for (int round = 0; round < 20; round++) {
            for (int i = 0; i < n; i += size) {
              b.clear();
              for (int j = i; j < Math.min(n, i + size); j++) {
                b.add(s.sample(5000 + j).row());
              }
              model.score(b, out, scratch);
              System.arraycopy(out, 0, got, i, b.size());
            }
          }
          return got;
        }));
      }
      for (java.util.concurrent.Future<float[]> f : results) {
        float[] got = f.get();
        for (int i = 0; i < n; i++) {
          assertEquals(want[i], got[i], 1e-6f, "row " + i);
        }
      }
    } finally {
      pool.shutdownNow();
    }
    // A scratch fits any model of the same layout (a newer version), and no other.
    model.score(all, new float[n], new Dlrm(c.withSeed(9)).newScratch());
    Dlrm other = new Dlrm(c.withTop(new int[] {16, 1}));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> model.score(all, want, other.newScratch()));
    assertTrue(e.getMessage().contains("another layout"), e.getMessage());
  }
}
