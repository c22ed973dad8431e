package io.tinyrec.model.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tinyrec.model.Batch;
import io.tinyrec.model.Dlrm;
import io.tinyrec.model.ModelConfig;
import io.tinyrec.model.sync.ModelTensors;
import io.tinyrec.model.synthetic.SyntheticCriteo;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Training gives the same model bit for bit at every vector width: this test runs in the model
 * module's executions at 512, 256 and 128 bits (see model/pom.xml) against one checksum, so a model
 * trained on an AVX-512 machine and one trained on AVX2 or NEON are the same model, and serving
 * scores alike on any of them. (The plain-Java fallback sums in another order.)
 */
class SameResultsAtEveryWidthTest {

  @Test
  void trainingGivesTheSameModelAtEveryVectorWidth() {
    Assumptions.assumeTrue(Kernels.implementation().startsWith("vector"), "the plain-Java fallback sums differently");
    long[] sums = new long[2];
    String[] presets = {"small", "kaggle"};
    for (int n = 0; n < presets.length; n++) {
      String preset = presets[n];
      Dlrm m = new Dlrm(ModelConfig.preset(preset));
      SyntheticCriteo gen = new SyntheticCriteo(5, -1);
      Batch b = new Batch(128);
      float[] scores = new float[128];
      for (int step = 0; step < 12; step++) {
        b.clear();
        for (int i = 0; i < 128; i++) {
          b.add(gen.sample(step * 128L + i).row());
        }
        m.trainStepInPlace(b, scores);
      }
      sums[n] = ModelTensors.of(m).checksum();
      System.out.printf("%s after 12 steps at %s: checksum %d%n", preset, Kernels.implementation(), sums[n]);
    }
    assertEquals(EXPECTED_SMALL, sums[0], "small preset at " + Kernels.implementation());
    assertEquals(EXPECTED_KAGGLE, sums[1], "kaggle preset at " + Kernels.implementation());
  }

  /** ModelTensors.checksum() after the training above, computed once at 512 bits. */

  static final long EXPECTED_SMALL = 2067651343L;
  static final long EXPECTED_KAGGLE = 3580527004L;
}
