package io.tinyrec.model.data;

import java.util.Arrays;

/**
 * One Criteo click-log row as it appears on the wire: a label, 13 raw integer counts and 26 hashed
 * categorical values (32-bit, written as eight hex digits). Missing fields are flagged in bit masks
 * (bit i set = field i missing), so a row is three small arrays and no boxing.
 *
 * <p>Immutable by convention: the arrays are owned by the row and must not be modified.
 *
 * @param label 0 or 1, or {@link #NO_LABEL} when the row carries none (serving input)
 * @param dense the 13 integer features I1..I13; value undefined where missing
 * @param denseMissing bit i set when I(i+1) was empty
 * @param cats the 26 categorical features C1..C26 as unsigned 32-bit values in an int
 * @param catMissing bit t set when C(t+1) was empty
 */
public record CriteoRow(int label, int[] dense, int denseMissing, int[] cats, int catMissing) {
  public static final int NUM_DENSE = 13;
  public static final int NUM_CATS = 26;
  public static final int NO_LABEL = -1;
  /** Value of a missing categorical in the hashing domain: outside every 32-bit value. */
  public static final long MISSING_CATEGORY = 1L << 32;

  public CriteoRow {
    if (dense.length != NUM_DENSE || cats.length != NUM_CATS) {
      throw new IllegalArgumentException("a Criteo row needs 13 dense and 26 categorical values, got "
          + dense.length + " and " + cats.length);
    }
    if (label != 0 && label != 1 && label != NO_LABEL) {
      throw new IllegalArgumentException("label must be 0, 1 or NO_LABEL, got " + label);
    }
  }

  public boolean hasLabel() {
    return label != NO_LABEL;
  }

  public boolean isDenseMissing(int i) {
    return (denseMissing >>> i & 1) != 0;
  }

  public boolean isCatMissing(int t) {
    return (catMissing >>> t & 1) != 0;
  }

  /**
   * The row of a ClickEvent's fields, typed as its Avro schema has them: a label of null, 0 or 1;
   * 13 dense values and 26 categorical values, each null where missing, the categoricals as
   * unsigned 32-bit values in a long. The training job and serving both turn events into rows
   * here, so an event is scored exactly as the same line of a TSV file is.
   *
   * @throws IllegalArgumentException naming the field and value when the lists have the wrong
   *     length, the label is not 0, 1 or null, or a categorical value is outside 0..4294967295
   */
  public static CriteoRow of(Integer label, java.util.List<Integer> dense, java.util.List<Long> cats) {
    if (dense == null || dense.size() != NUM_DENSE) {
      throw new IllegalArgumentException("dense has " + (dense == null ? "no" : dense.size()) + " values, expected "
          + NUM_DENSE);
    }
    if (cats == null || cats.size() != NUM_CATS) {
      throw new IllegalArgumentException("cats has " + (cats == null ? "no" : cats.size()) + " values, expected "
          + NUM_CATS);
    }
    if (label != null && label != 0 && label != 1) {
      throw new IllegalArgumentException("label is " + label + ", expected 0, 1 or null");
    }
    int[] d = new int[NUM_DENSE];
    int denseMissing = 0;
    for (int i = 0; i < NUM_DENSE; i++) {
      Integer x = dense.get(i);
      if (x == null) {
        denseMissing |= 1 << i;
      } else {
        d[i] = x;
      }
    }
    int[] c = new int[NUM_CATS];
    int catMissing = 0;
    for (int t = 0; t < NUM_CATS; t++) {
      Long v = cats.get(t);
      if (v == null) {
        catMissing |= 1 << t;
      } else if (v < 0 || v > 0xFFFF_FFFFL) {
        throw new IllegalArgumentException("cats[" + t + "] (C" + (t + 1) + ") is " + v + ", outside 0..4294967295");
      } else {
        c[t] = (int) (long) v;
      }
    }
    return new CriteoRow(label == null ? NO_LABEL : label, d, denseMissing, c, catMissing);
  }

  /** The model's dense input: log(1 + max(x, 0)), and 0 for a missing value. */
  public float denseFeature(int i) {
    return Preprocessing.denseFeature(dense[i], isDenseMissing(i));
  }

  /** The value fed to hashing: the unsigned 32-bit value, or {@link #MISSING_CATEGORY}. */
  public long categoryValue(int t) {
    return Preprocessing.categoryValue(cats[t], isCatMissing(t));
  }

  /** The 13 dense inputs of the model, {@link #denseFeature} of each field, in a new array. */
  public float[] denseFeatures() {
    float[] x = new float[NUM_DENSE];
    for (int i = 0; i < NUM_DENSE; i++) {
      x[i] = denseFeature(i);
    }
    return x;
  }

  /** The 26 hashed values, {@link #categoryValue} of each field, in a new array. */
  public long[] categoryValues() {
    long[] v = new long[NUM_CATS];
    for (int t = 0; t < NUM_CATS; t++) {
      v[t] = categoryValue(t);
    }
    return v;
  }

  /** The row back in Criteo TSV form (no trailing newline); the label is omitted if absent. */
  public String toTsv() {
    StringBuilder sb = new StringBuilder(256);
    if (hasLabel()) {
      sb.append(label).append('\t');
    }
    for (int i = 0; i < NUM_DENSE; i++) {
      if (!isDenseMissing(i)) {
        sb.append(dense[i]);
      }
      sb.append('\t');
    }
    for (int t = 0; t < NUM_CATS; t++) {
      if (!isCatMissing(t)) {
        String h = Integer.toHexString(cats[t]);
        for (int p = h.length(); p < 8; p++) {
          sb.append('0');
        }
        sb.append(h);
      }
      if (t < NUM_CATS - 1) {
        sb.append('\t');
      }
    }
    return sb.toString();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CriteoRow r && r.label == label && r.denseMissing == denseMissing
        && r.catMissing == catMissing && Arrays.equals(masked(dense, denseMissing), masked(r.dense, r.denseMissing))
        && Arrays.equals(masked(cats, catMissing), masked(r.cats, r.catMissing));
  }

  @Override
  public int hashCode() {
    return 31 * (31 * label + Arrays.hashCode(masked(dense, denseMissing))) + Arrays.hashCode(masked(cats, catMissing));
  }

  private static int[] masked(int[] v, int missing) {
    int[] c = v.clone();
    for (int i = 0; i < c.length; i++) {
      if ((missing >>> i & 1) != 0) {
        c[i] = 0;
      }
    }
    return c;
  }

  @Override
  public String toString() {
    return "CriteoRow[" + toTsv().replace('\t', ' ') + "]";
  }
}
