package io.tinyrec.model.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The vector kernels must agree with the plain loops on every shape the layers use and on edges. */
class KernelsTest {
  private static float[] random(SplittableRandom r, int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (r.nextDouble() * 2 - 1);
    }
    return v;
  }

  @Test
  void gemmShouldMatchScalarLoopsForNormalAndTransposedOperands() {
    SplittableRandom r = new SplittableRandom(1);
    int[][] shapes = {{128, 512, 13}, {13, 512, 128}, {128, 368, 256}, {9, 49, 300}, {1, 1, 1}, {17, 15, 3},
        {8, 48, 0}, {3, 97, 5}, {17, 256, 7}, {27, 96, 131}, {9, 16, 4}, {8, 64, 3}, {128, 1, 256}, {256, 1, 128}, {40, 1, 37}};
    for (int[] s : shapes) {
      int m = s[0];
      int n = s[1];
      int k = s[2];
      float[] a = random(r, Math.max(1, m * k));
      float[] b = random(r, Math.max(1, k * n));
      for (boolean transposedA : new boolean[] {false, true}) {
        int ars = transposedA ? 1 : k;
        int acs = transposedA ? m : 1;
        for (boolean acc : new boolean[] {false, true}) {
          float[] c1 = random(new SplittableRandom(m * 31L + n), m * n);
          float[] c2 = c1.clone();
          Kernels.gemm(m, n, k, a, 0, ars, acs, b, 0, n, c1, 0, n, acc);
          ScalarKernels.gemm(m, n, k, a, 0, ars, acs, b, 0, n, c2, 0, n, acc);
          for (int i = 0; i < c1.length; i++) {
            assertEquals(c2[i], c1[i], 1e-4f * (1 + Math.abs(c2[i])),
                m + "x" + n + "x" + k + " transposedA=" + transposedA + " acc=" + acc + " at " + i);
          }
        }
      }
    }
  }

  /**
   * The packed and the strided tiles, the 1-row tiles and the scalar column tail all sum each
   * output's fused products in order of k, so every path gives the bits of the plain loop
   * {@code s = fma(a[i][p], b[p][j], s)}: learn and the job depend on it for bit-exact training.
   */
  /**
   * The kernels run at the machine's own vector width, never a wider one that the JVM would
   * emulate: a hard-coded 512-bit species made training 31x slower with -XX:UseAVX=2.
   */
  @Test
  void kernelsUseTheMachinesOwnVectorWidth() {
    String impl = Kernels.implementation();
    System.out.println("kernels: " + impl);
    org.junit.jupiter.api.Assumptions.assumeTrue(impl.startsWith("vector"), "the plain-Java fallback has no width");
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("vector-(\\d+) \\(preferred (\\d+)\\)").matcher(impl);
    assertTrue(m.matches(), impl);
    int used = Integer.parseInt(m.group(1));
    int preferred = Integer.parseInt(m.group(2));
    assertEquals(Math.min(512, preferred), used, impl);
  }

  @Test
  void gemmShouldSumFusedProductsInOrderOfKOnEveryPath() {
    org.junit.jupiter.api.Assumptions.assumeTrue(Kernels.implementation().startsWith("vector"),
        "the plain-Java fallback sums in another order; this test is about the vector kernels");
    SplittableRandom r = new SplittableRandom(3);
    // m x n x k: packed with leftover rows and all three panel widths, k over two blocks with an
    // odd last block; strided (m < 16); strided because B is narrow (n <= 48); a scalar column tail.
    int[][] shapes = {{131, 368, 257}, {27, 96, 131}, {9, 256, 40}, {64, 48, 100}, {40, 53, 130}, {256, 512, 368}};
    for (int[] s : shapes) {
      int m = s[0];
      int n = s[1];
      int k = s[2];
      float[] a = random(r, m * k);
      float[] b = random(r, k * n);
      for (boolean transposedA : new boolean[] {false, true}) {
        int ars = transposedA ? 1 : k;
        int acs = transposedA ? m : 1;
        for (boolean acc : new boolean[] {false, true}) {
          float[] c = random(new SplittableRandom(m * 31L + n), m * n);
          float[] expected = c.clone();
          for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
              float sum = acc ? expected[i * n + j] : 0f;
              for (int p = 0; p < k; p++) {
                sum = Math.fma(a[i * ars + p * acs], b[p * n + j], sum);
              }
              expected[i * n + j] = sum;
            }
          }
          Kernels.gemm(m, n, k, a, 0, ars, acs, b, 0, n, c, 0, n, acc);
          assertArrayEquals(expected, c, m + "x" + n + "x" + k + " transposedA=" + transposedA + " acc=" + acc);
        }
      }
    }
  }

  @Test
  void transposeShouldBeExactForAnyShape() {
    SplittableRandom r = new SplittableRandom(2);
    for (int[] s : new int[][] {{128, 416}, {351, 128}, {13, 512}, {1, 1}, {33, 7}}) {
      float[] src = random(r, s[0] * s[1]);
      float[] dst = new float[s[0] * s[1]];
      Kernels.transpose(s[0], s[1], src, 0, s[1], dst, 0, s[0]);
      float[] back = new float[src.length];
      Kernels.scalarTranspose(s[1], s[0], dst, 0, s[0], back, 0, s[1]);
      assertArrayEquals(src, back);
    }
  }

  @Test
  void elementwiseKernelsShouldMatchTheirDefinitions() {
    SplittableRandom r = new SplittableRandom(3);
    int m = 5;
    int n = 37;
    int ld = 48;
    float[] y = random(r, m * ld);
    float[] bias = random(r, n);
    float[] expect = y.clone();
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        expect[i * ld + j] = Math.max(expect[i * ld + j] + bias[j], 0f);
      }
    }
    Kernels.addBiasInPlace(m, n, y, ld, bias, true);
    assertArrayEquals(expect, y);
    float[] dy = random(r, m * ld);
    float[] masked = dy.clone();
    for (int i = 0; i < m * ld; i++) {
      if (i % ld < n && y[i] <= 0f) {
        masked[i] = 0f;
      }
    }
    Kernels.reluMaskInPlace(m, n, y, dy, ld);
    assertArrayEquals(masked, dy);
    float[] sums = new float[n];
    Kernels.columnSums(m, n, dy, ld, sums);
    for (int j = 0; j < n; j++) {
      float s = 0f;
      for (int i = 0; i < m; i++) {
        s += dy[i * ld + j];
      }
      assertEquals(s, sums[j], 1e-6f);
    }
  }

  @Test
  void optimizerKernelsShouldMatchTheScalarDefinitionBitForBit() {
    SplittableRandom r = new SplittableRandom(4);
    int n = 1000 + 7;
    float[] w = random(r, n);
    float[] g = random(r, n);
    float[] s = new float[n];
    for (int i = 0; i < n; i++) {
      s[i] = Math.abs(random(r, 1)[0]);
    }
    float[] w2 = w.clone();
    float[] s2 = s.clone();
    Kernels.adagradInPlace(n, w, g, s, 0.01f, 1e-10f);
    for (int i = 0; i < n; i++) {
      float si = s2[i] + g[i] * g[i];
      s2[i] = si;
      w2[i] -= 0.01f * g[i] / ((float) Math.sqrt(si) + 1e-10f);
    }
    assertArrayEquals(s2, s);
    assertArrayEquals(w2, w);
    Kernels.sgdInPlace(n, w, g, 0.1f);
    for (int i = 0; i < n; i++) {
      w2[i] -= 0.1f * g[i];
    }
    assertArrayEquals(w2, w);
  }

  /** Quantization must give the same bits in both implementations: snapshots and sync depend on it. */
  @Test
  void requantizationShouldAgreeBitForBitWithThePlainLoops() {
    SplittableRandom r = new SplittableRandom(7);
    for (int[] shape : new int[][] {{0, 64, 64}, {0, 64, 16}, {0, 37, 16}, {16, 48, 32}, {0, 10, 4}, {0, 128, 128}}) {
      int start = shape[0];
      int end = shape[1];
      int group = shape[2];
      for (boolean int4 : new boolean[] {false, true}) {
        for (boolean fp16 : new boolean[] {false, true}) {
          int levels = int4 ? 15 : 255;
          float[] w = random(r, end - start + 3);
          w[5] = -0f;
          w[6] = 0f;
          float[] st = new float[end - start + 3];
          for (int i = 0; i < st.length; i++) {
            st[i] = (float) (r.nextDouble() * 1e-2);
          }
          st[2] = Float.POSITIVE_INFINITY;
          int groups = (end + group - 1) / group;
          byte[] ca = new byte[end];
          byte[] cb = new byte[end];
          float[] sa = new float[groups];
          float[] sb = new float[groups];
          float[] ba = new float[groups];
          float[] bb = new float[groups];
          short[] ha = new short[groups];
          short[] hb = new short[groups];
          short[] ga = new short[groups];
          short[] gb = new short[groups];
          short[] ea = new short[end];
          short[] eb = new short[end];
          Kernels.requantizeStochastic(start, end, group, w, 3, levels, fp16, int4, ca, sa, ba, ha, ga, 0x5EED, st, 3,
              ea, new int[group], new float[32]);
          Kernels.scalarRequantizeStochastic(start, end, group, w, 3, levels, fp16, int4, cb, sb, bb, hb, gb, 0x5EED, st,
              3, eb);
          String what = "elements " + start + ".." + end + " group " + group + (int4 ? " int4" : " int8")
              + (fp16 ? " fp16" : " fp32");
          assertArrayEquals(cb, ca, what + ": codes");
          assertArrayEquals(eb, ea, what + ": bf16 state");
          assertArrayEquals(sb, sa, what + ": scales");
          assertArrayEquals(bb, ba, what + ": biases");
          assertArrayEquals(hb, ha, what + ": fp16 scales");
          assertArrayEquals(gb, ga, what + ": fp16 biases");
        }
      }
    }
  }

  @Test
  void dequantizationShouldBeAMultiplyThenAnAdd() {
    byte[] codes = new byte[100];
    new SplittableRandom(3).nextBytes(codes);
    for (int n : new int[] {1, 15, 16, 17, 64, 99}) {
      float[] got = new float[n];
      Kernels.dequantizeInt8(n, codes, 1, 0.01f, -0.3f, got, 0);
      for (int i = 0; i < n; i++) {
        float want = (codes[1 + i] & 0xFF) * 0.01f;
        want = want + -0.3f;
        assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got[i]), "n=" + n + " element " + i);
      }
    }
  }
}
