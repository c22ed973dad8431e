package io.tinyrec.model.nn;

import java.util.Arrays;

/** Plain-Java fallback for {@link Kernels}; used when the Vector API module is absent. */
final class ScalarKernels {
  private ScalarKernels() {}

  static void gemm(int m, int n, int k, float[] a, int aOff, int ars, int acs, float[] b, int bOff, int ldb,
      float[] c, int cOff, int ldc, boolean accumulate) {
    for (int i = 0; i < m; i++) {
      int ci = cOff + i * ldc;
      if (!accumulate) {
        Arrays.fill(c, ci, ci + n, 0f);
      }
      for (int p = 0; p < k; p++) {
        float av = a[aOff + i * ars + p * acs];
        if (av == 0f) {
          continue;
        }
        int bp = bOff + p * ldb;
        for (int j = 0; j < n; j++) {
          c[ci + j] += av * b[bp + j];
        }
      }
    }
  }
}
