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

  /** dst(j, i) = src(i, j) for i < rows, j < cols; row strides lds and ldd. Cache-blocked. */
  public static void transpose(int rows, int cols, float[] src, int srcOff, int lds, float[] dst, int dstOff, int ldd) {
    if (VECTOR) {
      VectorKernels.transpose(rows, cols, src, srcOff, lds, dst, dstOff, ldd);
      return;
    }
    scalarTranspose(rows, cols, src, srcOff, lds, dst, dstOff, ldd);
  }

  static void scalarTranspose(int rows, int cols, float[] src, int srcOff, int lds, float[] dst, int dstOff, int ldd) {
    // 8 x 8 blocks: the 8 destination lines and 8 source lines of a block stay in L1, and the
    // inner loop walks the destination contiguously.
    for (int i0 = 0; i0 < rows; i0 += 8) {
      int i1 = Math.min(rows, i0 + 8);
      for (int j0 = 0; j0 < cols; j0 += 8) {
        int j1 = Math.min(cols, j0 + 8);
        for (int j = j0; j < j1; j++) {
          int d = dstOff + j * ldd;
          int s = srcOff + j;
          for (int i = i0; i < i1; i++) {
            dst[d + i] = src[s + i * lds];
          }
        }
      }
    }
  }

  /**
   * Pairwise dot products over a feature-major block: t holds n vectors of dimension d for each of
   * cols batch columns, element k of vector i of column b at t[(i*d + k)*ld + b]. For each listed
   * pair p = (pi[p], pj[p]), out[p*ld + b] = sum over k of t(i,k,b) * t(j,k,b), summed in k order.
   */
  public static void pairDots(int pairs, int[] pi, int[] pj, int d, int cols, float[] t, int ld, float[] out) {
    if (VECTOR) {
      VectorKernels.pairDots(pairs, pi, pj, d, cols, t, ld, out);
      return;
    }
    for (int p = 0; p < pairs; p++) {
      int a = pi[p] * d * ld;
      int c = pj[p] * d * ld;
      int o = p * ld;
      java.util.Arrays.fill(out, o, o + cols, 0f);
      for (int k = 0; k < d; k++) {
        for (int b = 0; b < cols; b++) {
          out[o + b] += t[a + k * ld + b] * t[c + k * ld + b];
        }
      }
    }
  }

  /**
   * Backward of {@link #pairDots}: for each pair p and column b, with g = dOut[p*ld + b],
   * dt(i,·,b) += g * t(j,·,b) and dt(j,·,b) += g * t(i,·,b). dt must be zeroed by the caller.
   */
  public static void pairDotsBackward(int pairs, int[] pi, int[] pj, int d, int cols, float[] t, int ld, float[] dOut,
      float[] dt) {
    if (VECTOR) {
      VectorKernels.pairDotsBackward(pairs, pi, pj, d, cols, t, ld, dOut, dt);
      return;
    }
    for (int p = 0; p < pairs; p++) {
      int a = pi[p] * d * ld;
      int c = pj[p] * d * ld;
      int o = p * ld;
      for (int k = 0; k < d; k++) {
        for (int b = 0; b < cols; b++) {
          float g = dOut[o + b];
          dt[a + k * ld + b] += g * t[c + k * ld + b];
          dt[c + k * ld + b] += g * t[a + k * ld + b];
        }
      }
    }
  }

  /** dst[dstOff + i] += src[srcOff + i] for i < n. */
  public static void addInPlace(int n, float[] src, int srcOff, float[] dst, int dstOff) {
    if (VECTOR && n == 16) {
      VectorKernels.add16InPlace(src, srcOff, dst, dstOff);
      return;
    }
    for (int i = 0; i < n; i++) {
      dst[dstOff + i] += src[srcOff + i];
    }
  }

  /** w[i] -= lr * g[i] for i < n. */
  public static void sgdInPlace(int n, float[] w, float[] g, float lr) {
    if (VECTOR) {
      VectorKernels.sgdInPlace(n, w, g, lr);
      return;
    }
    for (int i = 0; i < n; i++) {
      w[i] -= lr * g[i];
    }
  }

  /**
   * Adagrad as PyTorch defines it, element-wise: s[i] += g[i]^2; w[i] -= lr * g[i] / (sqrt(s[i]) + eps).
   * Square root and division are correctly rounded in both implementations, so they agree bit for bit.
   */
  public static void adagradInPlace(int n, float[] w, float[] g, float[] s, float lr, float eps) {
    adagradInPlace(n, w, g, s, 0, lr, eps);
  }

  /** {@link #adagradInPlace(int, float[], float[], float[], float, float)} on elements off .. off+n of all three arrays. */
  public static void adagradInPlace(int n, float[] w, float[] g, float[] s, int off, float lr, float eps) {
    if (VECTOR) {
      VectorKernels.adagradInPlace(n, w, g, s, off, lr, eps);
      return;
    }
    for (int i = off; i < off + n; i++) {
      float gi = g[i];
      float si = s[i] + gi * gi;
      s[i] = si;
      w[i] -= lr * gi / ((float) Math.sqrt(si) + eps);
    }
  }

  /**
   * {@link #adagradInPlace(int, float[], float[], float[], float, float)} on n elements at separate
   * offsets of each array (w[wOff ..], g[gOff ..], s[sOff ..]), with the same arithmetic, so it
   * rounds exactly as the other forms do.
   */
  public static void adagradInPlace(int n, float[] w, int wOff, float[] g, int gOff, float[] s, int sOff, float lr,
      float eps) {
    if (VECTOR) {
      VectorKernels.adagradInPlace(n, w, wOff, g, gOff, s, sOff, lr, eps);
      return;
    }
    for (int i = 0; i < n; i++) {
      float gi = g[gOff + i];
      float si = s[sOff + i] + gi * gi;
      s[sOff + i] = si;
      w[wOff + i] -= lr * gi / ((float) Math.sqrt(si) + eps);
    }
  }

  /** out[j] = sum over rows i < m of x[i*ld + j], for j < n, summed in row order. */
  public static void columnSums(int m, int n, float[] x, int ld, float[] out) {
    if (VECTOR) {
      VectorKernels.columnSums(m, n, x, ld, out);
      return;
    }
    java.util.Arrays.fill(out, 0, n, 0f);
    for (int i = 0; i < m; i++) {
      int row = i * ld;
      for (int j = 0; j < n; j++) {
        out[j] += x[row + j];
      }
    }
  }

  /** y[i*ld + j] = act(y[i*ld + j] + bias[j]) for i < m, j < n, act = ReLU or identity. */
  public static void addBiasInPlace(int m, int n, float[] y, int ld, float[] bias, boolean relu) {
    if (VECTOR) {
      VectorKernels.addBiasInPlace(m, n, y, ld, bias, relu);
      return;
    }
    for (int i = 0; i < m; i++) {
      int row = i * ld;
      for (int j = 0; j < n; j++) {
        float v = y[row + j] + bias[j];
        y[row + j] = relu ? Math.max(v, 0f) : v;
      }
    }
  }

  /** dy[i*ld + j] = 0 where y[i*ld + j] <= 0 (the ReLU derivative), for i < m, j < n. */
  public static void reluMaskInPlace(int m, int n, float[] y, float[] dy, int ld) {
    if (VECTOR) {
      VectorKernels.reluMaskInPlace(m, n, y, dy, ld);
      return;
    }
    for (int i = 0; i < m; i++) {
      int row = i * ld;
      for (int j = 0; j < n; j++) {
        if (y[row + j] <= 0f) {
          dy[row + j] = 0f;
        }
      }
    }
  }
}
