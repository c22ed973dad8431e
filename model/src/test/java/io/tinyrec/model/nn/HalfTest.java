package io.tinyrec.model.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class HalfTest {
  @Test
  void everyBinary16ShouldSurviveARoundTripThroughFloat() {
    for (int h = 0; h < 1 << 16; h++) {
      float f = Half.fp16ToFloat((short) h);
      if (Float.isNaN(f)) {
        assertTrue(Float.isNaN(Half.fp16ToFloat(Half.fp16(f))), "NaN stays NaN");
        continue;
      }
      assertEquals(h, Half.fp16(f) & 0xFFFF, "half 0x" + Integer.toHexString(h) + " = " + f);
    }
  }

  @Test
  void fp16ShouldRoundToNearestEvenLikeIeee() {
    assertEquals(1f, Half.fp16ToFloat(Half.fp16(1f + 0x1p-11f)), "a tie rounds to the even neighbour");
    assertEquals(1f + 0x1p-9f, Half.fp16ToFloat(Half.fp16(1f + 0x1.8p-10f)), "a tie rounds to even, upwards");
    assertEquals(65504f, Half.fp16ToFloat(Half.fp16(65519f)));
    assertEquals(Float.POSITIVE_INFINITY, Half.fp16ToFloat(Half.fp16(65520f)));
    assertEquals(0x1p-24f, Half.fp16ToFloat(Half.fp16(0x1p-24f)), "smallest subnormal");
    assertEquals(0f, Half.fp16ToFloat(Half.fp16(0x1p-25f)), "half the smallest subnormal ties to zero");
    assertEquals(0x1p-24f, Half.fp16ToFloat(Half.fp16(0x1.000002p-25f)));
    assertEquals(-2.5f, Half.fp16ToFloat(Half.fp16(-2.5f)));
    // Against the nearest representable value found by search, for random floats of every size.
    SplittableRandom r = new SplittableRandom(1);
    for (int i = 0; i < 3_000; i++) {
      float f = (float) (r.nextDouble(-1, 1) * Math.pow(2, r.nextInt(-26, 16)));
      float got = Half.fp16ToFloat(Half.fp16(f));
      float best = nearestHalf(f);
      assertEquals(best, got, "fp16(" + f + ")");
    }
  }

  private static float nearestHalf(float f) {
    float best = 0;
    double bestErr = Double.MAX_VALUE;
    int bestBits = 0;
    for (int h = 0; h < 0x7C00; h++) {
      float v = Half.fp16ToFloat((short) h) * Math.signum(f == 0 ? 1 : f);
      double err = Math.abs((double) v - f);
      if (err < bestErr || (err == bestErr && (h & 1) == 0 && (bestBits & 1) == 1)) {
        best = v;
        bestErr = err;
        bestBits = h;
      }
    }
    return best;
  }

  @Test
  void bfloat16ShouldBeTheTopHalfRoundedAndStochasticRoundingUnbiased() {
    assertEquals(1f, Half.bf16ToFloat(Half.bf16(1f + 0x1p-8f)), "tie to even");
    assertEquals(1f + 0x1p-7f, Half.bf16ToFloat(Half.bf16(1f + 0x1.8p-8f)), "tie to even, upwards");
    float x = 1f + 0x1p-10f; // a quarter of the way from 1 to the next bfloat16
    SplittableRandom r = new SplittableRandom(2);
    double sum = 0;
    int n = 200_000;
    for (int i = 0; i < n; i++) {
      sum += Half.bf16ToFloat(Half.bf16Stochastic(x, r.nextInt(1 << 16)));
    }
    assertEquals(x, sum / n, 0x1p-7 * 0.01, "mean of stochastic rounding");
  }
}
