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
  /**
   * The quantization kernels are written for 16 floats per vector (with 128-bit byte and 256-bit
   * short vectors beside them); at other widths the scalar ones run rather than emulated vectors.
   */
  private static final boolean QUANT_VECTOR = VECTOR && VectorKernels.L == 16;

  private Kernels() {}

  private static boolean detectVector() {
    if (Boolean.getBoolean("tinyrec.scalar")) {
      return false;
    }
    // The module check comes first: VectorKernels cannot even load without the module.
    return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent() && VectorKernels.usable();
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

  /** Whether x[0 .. n) holds no NaN and no infinity. */
  public static boolean allFinite(int n, float[] x) {
    if (VECTOR) {
      return VectorKernels.allFinite(n, x);
    }
    float s = 0f;
    for (int i = 0; i < n; i++) {
      s += x[i] * 0f;
    }
    return s == 0f;
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

  // ---------------------------------------------------------------- quantization (QuantizedArray)

  /**
   * The 32 random bits stochastic rounding draws for element e of a re-quantization with key
   * {@code key}: MurmurHash3's finaliser of key ^ (e * 0x9E3779B9). Counter-based, so the same
   * element of the same re-quantization always gets the same bits, in either implementation.
   */
  static int srHash(int key, int e) {
    int h = key ^ (e * 0x9E3779B9);
    h ^= h >>> 16;
    h *= 0x85EBCA6B;
    h ^= h >>> 13;
    h *= 0xC2B2AE35;
    return h ^ (h >>> 16);
  }

  /**
   * Re-quantizes elements start .. end of an array (one line: whole groups of {@code group}
   * floats, the last maybe shorter) from FP32 values w[wOff ..] with stochastic rounding, and,
   * if st is not null, their Adagrad accumulators st[sOff ..] into bfloat16. Per group:
   * {@link #fitGroup} from the smallest and largest value; each element e draws h =
   * {@link #srHash}(key, e), its code is {@link #stochasticCode} with the high 16 bits of h and its
   * accumulator {@link #bf16Stochastic} with the low 16. Both implementations give the same bits.
   * scratch holds a group's INT4 codes before packing; lanes is 32 floats of scratch.
   */
  static void requantizeStochastic(int start, int end, int group, float[] w, int wOff, int levels, boolean fp16,
      boolean int4, byte[] codes, float[] sF, float[] bF, short[] sH, short[] bH, int key, float[] st, int sOff,
      short[] elemState, int[] scratch, float[] lanes) {
    if (QUANT_VECTOR) {
      QuantVectorKernels.requantizeStochastic(start, end, group, w, wOff, levels, fp16, int4, codes, sF, bF, sH, bH, key, st,
          sOff, elemState, scratch, lanes);
      return;
    }
    scalarRequantizeStochastic(start, end, group, w, wOff, levels, fp16, int4, codes, sF, bF, sH, bH, key, st, sOff,
        elemState);
  }

  static void scalarRequantizeStochastic(int start, int end, int group, float[] w, int wOff, int levels, boolean fp16,
      boolean int4, byte[] codes, float[] sF, float[] bF, short[] sH, short[] bH, int key, float[] st, int sOff,
      short[] elemState) {
    for (int from = start; from < end; from += group) {
      int n = Math.min(group, end - from);
      int vo = wOff + (from - start);
      // The smallest and largest value by selects (x < lo ? x : lo). The vector form's lane j sees
      // elements j, j+16, ... and the lanes then meet in order; for finite values (the only kind
      // a trained line holds) both find the same two numbers, and fitGroup makes a zero +0.
      float lo = w[vo];
      float hi = lo;
      for (int k = 1; k < n; k++) {
        float x = w[vo + k];
        lo = x < lo ? x : lo;
        hi = x > hi ? x : hi;
      }
      long fit = fitGroup(lo, hi, levels, fp16, from / group, sF, bF, sH, bH);
      float b = Float.intBitsToFloat((int) (fit >>> 32));
      float s = Float.intBitsToFloat((int) fit);
      float inv = s > 0f ? 1f / s : 0f;
      for (int k = 0; k < n; k++) {
        int e = from + k;
        int h = srHash(key, e);
        int c = stochasticCode(w[vo + k], b, inv, levels, h);
        if (int4) {
          putCode4(codes, e, c);
        } else {
          codes[e] = (byte) c;
        }
        if (st != null) {
          elemState[e] = bf16Stochastic(st[sOff + (from - start) + k], h);
        }
      }
    }
  }

  /**
   * Fits a group to its range [lo, hi]: bias = lo and scale = (hi - lo) / levels, each rounded to
   * fp16 first when stored so (clamped to fp16's finite range, so that a diverged weight cannot
   * become an infinite scale; a zero is made +0). Stores them at index g of the given arrays and
   * returns the stored pair as float32 bits, bias high and scale low.
   */
  static long fitGroup(float lo, float hi, int levels, boolean fp16, int g, float[] sF, float[] bF, short[] sH,
      short[] bH) {
    lo += 0f; // -0 becomes +0: the two implementations may meet a signed zero in another order
    hi += 0f;
    float s = (hi - lo) / levels;
    float b = lo;
    if (fp16) {
      short bh = Half.fp16(Math.max(-65504f, Math.min(65504f, b)));
      short sh = Half.fp16(Math.min(65504f, s));
      bH[g] = bh;
      sH[g] = sh;
      b = Half.fp16ToFloat(bh);
      s = Half.fp16ToFloat(sh);
    } else {
      bF[g] = b;
      sF[g] = s;
    }
    return ((long) Float.floatToRawIntBits(b) << 32) | (Float.floatToRawIntBits(s) & 0xFFFFFFFFL);
  }

  /**
   * The stochastically rounded code of value w: x = (w - bias) * inv + (h >>> 16) / 2^16, set to 0
   * if negative or NaN and to levels if above, then truncated.
   */
  static int stochasticCode(float w, float bias, float inv, int levels, int h) {
    float x = (w - bias) * inv + (h >>> 16) * 0x1p-16f;
    if (!(x >= 0f)) {
      x = 0f;
    } else if (x > levels) {
      x = levels;
    }
    return (int) x;
  }

  /**
   * An accumulator rounded to bfloat16 stochastically with the low 16 bits of h: the float's bits
   * plus those 16, cut to the top half. Unbiased for finite values; infinities stay infinite (the
   * accumulators are never NaN: a non-finite update is skipped).
   */
  static short bf16Stochastic(float x, int h) {
    return (short) ((Float.floatToRawIntBits(x) + (h & 0xFFFF)) >>> 16);
  }

  /** Sets INT4 code c (0 .. 15) of element i: the low nibble of byte i/2 for even i, the high for odd. */
  static void putCode4(byte[] codes, int i, int c) {
    int b = i >> 1;
    int shift = (i & 1) << 2;
    codes[b] = (byte) ((codes[b] & ~(0xF << shift)) | (c << shift));
  }

  /** dst[dOff + k] = (codes[cOff + k] & 0xFF) * scale + bias for k < n: a float32 multiply, then an add. */
  static void dequantizeInt8(int n, byte[] codes, int cOff, float scale, float bias, float[] dst, int dOff) {
    if (QUANT_VECTOR && n >= 16) {
      QuantVectorKernels.dequantizeInt8(n, codes, cOff, scale, bias, dst, dOff);
      return;
    }
    for (int k = 0; k < n; k++) {
      dst[dOff + k] = (codes[cOff + k] & 0xFF) * scale + bias;
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
