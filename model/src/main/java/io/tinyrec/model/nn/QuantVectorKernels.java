package io.tinyrec.model.nn;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API implementation of the quantization kernels of {@link Kernels}. A class of its own so
 * that a float32 model never loads the int, byte and short vector classes, and the JIT compiles
 * the float32 kernels in the same world as before mixed precision existed (measured: the float32
 * train step is as fast as before, docs/benchmarks.md).
 */
final class QuantVectorKernels {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_512;
  private static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
  private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
  private static final VectorSpecies<Short> H16 = ShortVector.SPECIES_256;
  private static final int[] IOTA = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

  private QuantVectorKernels() {}

  // The quantization kernel below is written out in full, hash included, and is big enough that
  // C2 compiles it on its own rather than inline it into a large caller: inlined deep into one,
  // the Vector API's intrinsics were refused ("already compiled into a big method", node limits)
  // and every vector became an object, slower than the plain loops. It also avoids what JDK 17
  // does not compile to vector instructions: float min/max, their reductions and F2I.

  static void requantizeStochastic(int start, int end, int group, float[] w, int wOff, int levels, boolean fp16,
      boolean int4, byte[] codes, float[] sF, float[] bF, short[] sH, short[] bH, int key, float[] st, int sOff,
      short[] elemState, int[] scratch, float[] lanes) {
    IntVector iota = IntVector.fromArray(I, IOTA, 0);
    for (int from = start; from < end; from += group) {
      int n = Math.min(group, end - from);
      int vo = wOff + (from - start);
      int n16 = n & ~15;
      // Range of the group: lane-wise selects, then across the lanes in lane order (see Kernels).
      float lo;
      float hi;
      if (n16 > 0) {
        FloatVector vlo = FloatVector.fromArray(S, w, vo);
        FloatVector vhi = vlo;
        for (int k = 16; k < n16; k += 16) {
          FloatVector x = FloatVector.fromArray(S, w, vo + k);
          vlo = vlo.blend(x, x.compare(VectorOperators.LT, vlo));
          vhi = vhi.blend(x, x.compare(VectorOperators.GT, vhi));
        }
        vlo.intoArray(lanes, 0);
        vhi.intoArray(lanes, 16);
        lo = lanes[0];
        hi = lanes[16];
        for (int j = 1; j < 16; j++) {
          lo = lanes[j] < lo ? lanes[j] : lo;
          hi = lanes[16 + j] > hi ? lanes[16 + j] : hi;
        }
        for (int k = n16; k < n; k++) {
          float x = w[vo + k];
          lo = x < lo ? x : lo;
          hi = x > hi ? x : hi;
        }
      } else {
        lo = w[vo];
        hi = lo;
        for (int k = 1; k < n; k++) {
          float x = w[vo + k];
          lo = x < lo ? x : lo;
          hi = x > hi ? x : hi;
        }
      }
      long fit = Kernels.fitGroup(lo, hi, levels, fp16, from / group, sF, bF, sH, bH);
      float b = Float.intBitsToFloat((int) (fit >>> 32));
      float s = Float.intBitsToFloat((int) fit);
      float inv = s > 0f ? 1f / s : 0f;
      float top = levels;
      for (int k = 0; k < n16; k += 16) {
        // Kernels.srHash on the 16 elements from+k ..
        IntVector h = iota.add(from + k).mul(0x9E3779B9).lanewise(VectorOperators.XOR, key);
        h = h.lanewise(VectorOperators.XOR, h.lanewise(VectorOperators.LSHR, 16)).mul(0x85EBCA6B);
        h = h.lanewise(VectorOperators.XOR, h.lanewise(VectorOperators.LSHR, 13)).mul(0xC2B2AE35);
        h = h.lanewise(VectorOperators.XOR, h.lanewise(VectorOperators.LSHR, 16));
        FloatVector u = ((FloatVector) h.lanewise(VectorOperators.LSHR, 16).convert(VectorOperators.I2F, 0))
            .mul(0x1p-16f);
        FloatVector x = FloatVector.fromArray(S, w, vo + k).sub(b).mul(inv).add(u);
        x = FloatVector.zero(S).blend(x, x.compare(VectorOperators.GE, 0f)); // negative and NaN give 0
        x = x.blend(top, x.compare(VectorOperators.GT, top));
        // Truncation without F2I (or a mask cast, which JDK 17 runs in Java): adding 2^23 rounds
        // to the nearest integer, one less where that rounded up gives the floor, and the floor
        // plus 2^23 holds it in its low mantissa bits.
        FloatVector r = x.add(0x1p23f).sub(0x1p23f);
        FloatVector f = r.sub(FloatVector.zero(S).blend(1f, r.compare(VectorOperators.GT, x)));
        IntVector c = f.add(0x1p23f).reinterpretAsInts().sub(0x4B000000);
        if (int4) {
          c.intoArray(scratch, k);
        } else {
          c.convertShape(VectorOperators.I2B, B16, 0).reinterpretAsBytes().intoArray(codes, from + k);
        }
        if (st != null) {
          IntVector bits = FloatVector.fromArray(S, st, sOff + (from - start) + k).reinterpretAsInts();
          bits.add(h.and(0xFFFF)).lanewise(VectorOperators.LSHR, 16)
              .convertShape(VectorOperators.I2S, H16, 0).reinterpretAsShorts().intoArray(elemState, from + k);
        }
      }
      for (int k = n16; k < n; k++) {
        int e = from + k;
        int h = Kernels.srHash(key, e);
        int c = Kernels.stochasticCode(w[vo + k], b, inv, levels, h);
        if (int4) {
          scratch[k] = c;
        } else {
          codes[e] = (byte) c;
        }
        if (st != null) {
          elemState[e] = Kernels.bf16Stochastic(st[sOff + (from - start) + k], h);
        }
      }
      if (int4) {
        for (int k = 0; k < n; k++) {
          Kernels.putCode4(codes, from + k, scratch[k]);
        }
      }
    }
  }

  static void dequantizeInt8(int n, byte[] codes, int cOff, float scale, float bias, float[] dst, int dOff) {
    int n16 = n & ~15;
    for (int k = 0; k < n16; k += 16) {
      IntVector c = ((IntVector) ByteVector.fromArray(B16, codes, cOff + k).convertShape(VectorOperators.B2I, I, 0))
          .and(0xFF);
      // Multiply, then add: two roundings, as the format document specifies (no fused multiply-add).
      ((FloatVector) c.convert(VectorOperators.I2F, 0)).mul(scale).add(bias).intoArray(dst, dOff + k);
    }
    for (int k = n16; k < n; k++) {
      dst[dOff + k] = (codes[cOff + k] & 0xFF) * scale + bias;
    }
  }
}
