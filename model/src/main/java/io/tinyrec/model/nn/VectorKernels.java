package io.tinyrec.model.nn;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API implementation of {@link Kernels#gemm}: register tiles of 6 rows by 32 columns
 * (12 accumulators), blocked over k so a B panel stays in L1/L2 across the row tiles. The
 * tile bodies are generated (see the build notes in docs/benchmarks.md) and written out in full so
 * C2 keeps every accumulator in a register. Columns past the last multiple of 16 take a scalar path.
 */
final class VectorKernels {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_512;
  private static final int ROWS = 6;
  private static final int KBLOCK = 256;

  private VectorKernels() {}

  static String describe() {
    return "vector-" + S.vectorBitSize() + " (preferred " + FloatVector.SPECIES_PREFERRED.vectorBitSize() + ")";
  }

  static void gemm(int m, int n, int k, float[] a, int aOff, int ars, int acs, float[] b, int bOff, int ldb,
      float[] c, int cOff, int ldc, boolean accumulate) {
    int n32 = n & ~31;
    int n16 = n & ~15;
    for (int k0 = 0; k0 < k || k0 == 0; k0 += KBLOCK) {
      int k1 = Math.min(k, k0 + KBLOCK);
      boolean zero = !accumulate && k0 == 0;
      for (int j = 0; j < n32; j += 32) {
        int i = 0;
        for (; i + ROWS <= m; i += ROWS) {
          tile6x2(k0, k1, zero, a, aOff + i * ars, ars, acs, b, bOff + j, ldb, c, cOff + i * ldc + j, ldc);
        }
        for (; i < m; i++) {
          tile1x2(k0, k1, zero, a, aOff + i * ars, ars, acs, b, bOff + j, ldb, c, cOff + i * ldc + j, ldc);
        }
      }
      if (n16 > n32) {
        int i = 0;
        for (; i + ROWS <= m; i += ROWS) {
          tile6x1(k0, k1, zero, a, aOff + i * ars, ars, acs, b, bOff + n32, ldb, c, cOff + i * ldc + n32, ldc);
        }
        for (; i < m; i++) {
          tile1x1(k0, k1, zero, a, aOff + i * ars, ars, acs, b, bOff + n32, ldb, c, cOff + i * ldc + n32, ldc);
        }
      }
      if (n > n16) {
        for (int i = 0; i < m; i++) {
          int ci = cOff + i * ldc;
          for (int j = n16; j < n; j++) {
            float s = zero ? 0f : c[ci + j];
            for (int p = k0; p < k1; p++) {
              s += a[aOff + i * ars + p * acs] * b[bOff + p * ldb + j];
            }
            c[ci + j] = s;
          }
        }
      }
      if (k == 0) {
        break;
      }
    }
  }

  private static void tile6x2(int k0, int k1, boolean zero, float[] a, int aRow, int ars, int acs,
      float[] b, int bCol, int ldb, float[] c, int cRow, int ldc) {
    int a0 = aRow + 0 * ars;
    int o0 = cRow + 0 * ldc;
    int a1 = aRow + 1 * ars;
    int o1 = cRow + 1 * ldc;
    int a2 = aRow + 2 * ars;
    int o2 = cRow + 2 * ldc;
    int a3 = aRow + 3 * ars;
    int o3 = cRow + 3 * ldc;
    int a4 = aRow + 4 * ars;
    int o4 = cRow + 4 * ldc;
    int a5 = aRow + 5 * ars;
    int o5 = cRow + 5 * ldc;
    FloatVector c00 = zero ? FloatVector.zero(S) : FloatVector.fromArray(S, c, o0 + 0);
    FloatVector c01 = zero ? FloatVector.zero(S) : FloatVector.fromArray(S, c, o0 + 16);
    FloatVector c10 = zero ? FloatVector.zero(S) : FloatVector.fromArray(S, c, o1 + 0);
    FloatVector c11 = zero ? FloatVector.zero(S) : FloatVector.fromArray(S, c, o1 + 16);
    FloatVector c20 = zero ? FloatVector.zero(S) : FloatVector.fromArray(S, c, o2 + 0);
    FloatVector c21 = zero ? FloatVector.zero(S) : FloatVector.fromArray(S, c, o2 + 16);
    FloatVector c30 = zero ? FloatVector.zero(S) : FloatVector.fromArray(S, c, o3 + 0);
    FloatVector c31 = zero ? FloatVector.zero(S) : FloatVector.fromArray(S, c, o3 + 16);
    FloatVector c40 = zero ? FloatVector.zero(S) : FloatVector.fromArray(S, c, o4 + 0);
    FloatVector c41 = zero ? FloatVector.zero(S) : FloatVector.fromArray(S, c, o4 + 16);
    FloatVector c50 = zero ? FloatVector.zero(S) : FloatVector.fromArray(S, c, o5 + 0);
    FloatVector c51 = zero ? FloatVector.zero(S) : FloatVector.fromArray(S, c, o5 + 16);
    for (int p = k0; p < k1; p++) {
      int bp = bCol + p * ldb;
      FloatVector b0 = FloatVector.fromArray(S, b, bp + 0);
      FloatVector b1 = FloatVector.fromArray(S, b, bp + 16);
      int ap = p * acs;
      FloatVector x;
      x = FloatVector.broadcast(S, a[a0 + ap]);
      c00 = x.fma(b0, c00);
      c01 = x.fma(b1, c01);
      x = FloatVector.broadcast(S, a[a1 + ap]);
      c10 = x.fma(b0, c10);
      c11 = x.fma(b1, c11);
      x = FloatVector.broadcast(S, a[a2 + ap]);
      c20 = x.fma(b0, c20);
      c21 = x.fma(b1, c21);
      x = FloatVector.broadcast(S, a[a3 + ap]);
      c30 = x.fma(b0, c30);
      c31 = x.fma(b1, c31);
      x = FloatVector.broadcast(S, a[a4 + ap]);
      c40 = x.fma(b0, c40);
      c41 = x.fma(b1, c41);
      x = FloatVector.broadcast(S, a[a5 + ap]);
      c50 = x.fma(b0, c50);
      c51 = x.fma(b1, c51);
    }
    c00.intoArray(c, o0 + 0);
    c01.intoArray(c, o0 + 16);
    c10.intoArray(c, o1 + 0);
    c11.intoArray(c, o1 + 16);
    c20.intoArray(c, o2 + 0);
    c21.intoArray(c, o2 + 16);
    c30.intoArray(c, o3 + 0);
    c31.intoArray(c, o3 + 16);
    c40.intoArray(c, o4 + 0);
    c41.intoArray(c, o4 + 16);
    c50.intoArray(c, o5 + 0);
    c51.intoArray(c, o5 + 16);
  }

  private static void tile1x2(int k0, int k1, boolean zero, float[] a, int aRow, int ars, int acs,
      float[] b, int bCol, int ldb, float[] c, int cRow, int ldc) {
    int a0 = aRow + 0 * ars;
    int o0 = cRow + 0 * ldc;
    FloatVector c00 = zero ? FloatVector.zero(S) : FloatVector.fromArray(S, c, o0 + 0);
    FloatVector c01 = zero ? FloatVector.zero(S) : FloatVector.fromArray(S, c, o0 + 16);
    for (int p = k0; p < k1; p++) {
      int bp = bCol + p * ldb;
      FloatVector b0 = FloatVector.fromArray(S, b, bp + 0);
      FloatVector b1 = FloatVector.fromArray(S, b, bp + 16);
      int ap = p * acs;
      FloatVector x;
      x = FloatVector.broadcast(S, a[a0 + ap]);
      c00 = x.fma(b0, c00);
      c01 = x.fma(b1, c01);
    }
    c00.intoArray(c, o0 + 0);
    c01.intoArray(c, o0 + 16);
  }

  private static void tile6x1(int k0, int k1, boolean zero, float[] a, int aRow, int ars, int acs,
      float[] b, int bCol, int ldb, float[] c, int cRow, int ldc) {
    int a0 = aRow + 0 * ars;
    int o0 = cRow + 0 * ldc;
    int a1 = aRow + 1 * ars;
    int o1 = cRow + 1 * ldc;
    int a2 = aRow + 2 * ars;
    int o2 = cRow + 2 * ldc;
    int a3 = aRow + 3 * ars;
    int o3 = cRow + 3 * ldc;
    int a4 = aRow + 4 * ars;
    int o4 = cRow + 4 * ldc;
    int a5 = aRow + 5 * ars;
    int o5 = cRow + 5 * ldc;
    FloatVector c00 = zero ? FloatVector.zero(S) : FloatVector.fromArray(S, c, o0 + 0);
    FloatVector c10 = zero ? FloatVector.zero(S) : FloatVector.fromArray(S, c, o1 + 0);
    FloatVector c20 = zero ? FloatVector.zero(S) : FloatVector.fromArray(S, c, o2 + 0);
    FloatVector c30 = zero ? FloatVector.zero(S) : FloatVector.fromArray(S, c, o3 + 0);
    FloatVector c40 = zero ? FloatVector.zero(S) : FloatVector.fromArray(S, c, o4 + 0);
    FloatVector c50 = zero ? FloatVector.zero(S) : FloatVector.fromArray(S, c, o5 + 0);
    for (int p = k0; p < k1; p++) {
      int bp = bCol + p * ldb;
      FloatVector b0 = FloatVector.fromArray(S, b, bp + 0);
      int ap = p * acs;
      FloatVector x;
      x = FloatVector.broadcast(S, a[a0 + ap]);
      c00 = x.fma(b0, c00);
      x = FloatVector.broadcast(S, a[a1 + ap]);
      c10 = x.fma(b0, c10);
      x = FloatVector.broadcast(S, a[a2 + ap]);
      c20 = x.fma(b0, c20);
      x = FloatVector.broadcast(S, a[a3 + ap]);
      c30 = x.fma(b0, c30);
      x = FloatVector.broadcast(S, a[a4 + ap]);
      c40 = x.fma(b0, c40);
      x = FloatVector.broadcast(S, a[a5 + ap]);
      c50 = x.fma(b0, c50);
    }
    c00.intoArray(c, o0 + 0);
    c10.intoArray(c, o1 + 0);
    c20.intoArray(c, o2 + 0);
    c30.intoArray(c, o3 + 0);
    c40.intoArray(c, o4 + 0);
    c50.intoArray(c, o5 + 0);
  }

  private static void tile1x1(int k0, int k1, boolean zero, float[] a, int aRow, int ars, int acs,
      float[] b, int bCol, int ldb, float[] c, int cRow, int ldc) {
    int a0 = aRow + 0 * ars;
    int o0 = cRow + 0 * ldc;
    FloatVector c00 = zero ? FloatVector.zero(S) : FloatVector.fromArray(S, c, o0 + 0);
    for (int p = k0; p < k1; p++) {
      int bp = bCol + p * ldb;
      FloatVector b0 = FloatVector.fromArray(S, b, bp + 0);
      int ap = p * acs;
      FloatVector x;
      x = FloatVector.broadcast(S, a[a0 + ap]);
      c00 = x.fma(b0, c00);
    }
    c00.intoArray(c, o0 + 0);
  }
}
