package io.tinyrec.model.nn;

/**
 * 16-bit floats, as JDK 17 has no conversion of its own: IEEE-754 binary16 (fp16, for the scales
 * and biases of a quantized array) and bfloat16 (the top half of a float32, for the Adagrad
 * accumulators of lines outside the FP32 cache). Stateless and thread-safe.
 */
public final class Half {
  private Half() {}

  /** The binary16 nearest to f (ties to even), with subnormals, infinities and NaN as IEEE-754 has them. */
  public static short fp16(float f) {
    int bits = Float.floatToRawIntBits(f);
    int sign = (bits >>> 16) & 0x8000;
    int exp = (bits >>> 23) & 0xFF;
    int mant = bits & 0x7FFFFF;
    if (exp == 0xFF) {
      return (short) (sign | 0x7C00 | (mant != 0 ? 0x200 | (mant >>> 13) : 0));
    }
    int e = exp - 127 + 15;
    if (e >= 0x1F) {
      return (short) (sign | 0x7C00); // overflow to infinity
    }
    if (e <= 0) {
      if (e < -10) {
        return (short) sign; // below half the smallest subnormal: zero
      }
      // Subnormal: shift the mantissa with its implicit bit, rounding to nearest even.
      int m = mant | 0x800000;
      int shift = 14 - e;
      int half = 1 << (shift - 1);
      int rounded = m + half - 1 + ((m >>> shift) & 1);
      return (short) (sign | (rounded >>> shift));
    }
    int rounded = mant + 0xFFF + ((mant >>> 13) & 1);
    // A carry out of the mantissa moves into the exponent, which is what rounding up needs.
    int h = (e << 10) + (rounded >>> 13);
    if (h >= 0x7C00) {
      return (short) (sign | 0x7C00);
    }
    return (short) (sign | h);
  }

  /** The float32 value of a binary16 (exact). */
  public static float fp16ToFloat(short h) {
    int sign = (h & 0x8000) << 16;
    int exp = (h >>> 10) & 0x1F;
    int mant = h & 0x3FF;
    if (exp == 0x1F) {
      return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
    }
    if (exp == 0) {
      if (mant == 0) {
        return Float.intBitsToFloat(sign);
      }
      float v = mant * 0x1p-24f; // subnormal: exact in float32
      return sign != 0 ? -v : v;
    }
    return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
  }

  /** The bfloat16 nearest to f (ties to even); NaN stays NaN. */
  public static short bf16(float f) {
    int bits = Float.floatToRawIntBits(f);
    if ((bits & 0x7FFFFFFF) > 0x7F800000) {
      return (short) ((bits >>> 16) | 0x40);
    }
    return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
  }

  /**
   * f rounded to bfloat16 stochastically: up with probability equal to the fraction of the way to
   * the next bfloat16, using 16 random bits. The rounding is unbiased, so small increments of an
   * accumulator survive on average where rounding to nearest would drop them. For finite f whose
   * rounding does not overflow.
   */
  public static short bf16Stochastic(float f, int random16) {
    int bits = Float.floatToRawIntBits(f);
    if ((bits & 0x7F800000) == 0x7F800000) {
      return bf16(f);
    }
    return (short) ((bits + (random16 & 0xFFFF)) >>> 16);
  }

  /** The float32 value of a bfloat16 (exact). */
  public static float bf16ToFloat(short b) {
    return Float.intBitsToFloat((b & 0xFFFF) << 16);
  }
}
