package io.tinyrec.model.nn;

/**
 * Dense matrix kernels used by every layer, with one entry point and two implementations: a
 * Vector API one (when the JVM was started with {@code --add-modules jdk.incubator.vector}) and a
 * plain-Java fallback. Both compute the same sums in the same order per output element only
 * within one implementation: bit-identical results need the same implementation on both sides.
 *
 * <p>Matrices are row-major float arrays with explicit offsets and strides. Stateless and
 * thread-safe.
 */
public final class Kernels {
  private static final boolean VECTOR = detectVector();

  private Kernels() {}

  private static boolean detectVector() {
    if (Boolean.getBoolean("tinyrec.scalar")) {
      return false;
    }
    return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
  }

  /** Which implementation is in use: "vector-512" style, or "scalar". */
  public static String implementation() {
    return VECTOR ? VectorKernels.describe() : "scalar";
  }

  /**
   * C(m x n) = [C +] A(m x k) * B(k x n), where A(i,p) = a[aOff + i*ars + p*acs] (so a transposed
   * A is just swapped strides), B(p,j) = b[bOff + p*ldb + j] and C(i,j) = c[cOff + i*ldc + j].
   */
  public static void gemm(int m, int n, int k, float[] a, int aOff, int ars, int acs, float[] b, int bOff, int ldb,
      float[] c, int cOff, int ldc, boolean accumulate) {
    if (m == 0 || n == 0) {
      return;
    }
    if (VECTOR) {
      VectorKernels.gemm(m, n, k, a, aOff, ars, acs, b, bOff, ldb, c, cOff, ldc, accumulate);
    } else {
      ScalarKernels.gemm(m, n, k, a, aOff, ars, acs, b, bOff, ldb, c, cOff, ldc, accumulate);
    }
  }

  /** out[j] (+)= sum over rows i < m of x[i*ld + j], for j < n. */
  public static void columnSums(int m, int n, float[] x, int ld, float[] out, boolean accumulate) {
    if (!accumulate) {
      java.util.Arrays.fill(out, 0, n, 0f);
    }
    for (int i = 0; i < m; i++) {
      int row = i * ld;
      for (int j = 0; j < n; j++) {
        out[j] += x[row + j];
      }
    }
  }
}
