package io.tinyrec.model.data;

import java.util.Arrays;

/**
 * The fields of one Criteo row in reusable arrays, filled by {@link FastCriteoParser} without
 * allocating: a reader that handles hundreds of thousands of rows a second parses each line into
 * the same instance and uses it before the next line. {@link #toRow()} makes an immutable
 * {@link CriteoRow} when one is needed.
 *
 * <p>Mutable and not thread-safe. The field meanings are those of {@link CriteoRow}.
 */
public final class CriteoFields {
  /** 0 or 1, or {@link CriteoRow#NO_LABEL}. */
  public int label;
  /** I1..I13; entry i is undefined where bit i of {@link #denseMissing} is set. */
  public final int[] dense = new int[CriteoRow.NUM_DENSE];
  public int denseMissing;
  /** C1..C26 as unsigned 32-bit values; entry t is undefined where bit t of {@link #catMissing} is set. */
  public final int[] cats = new int[CriteoRow.NUM_CATS];
  public int catMissing;

  /** Copies a row's fields in. */
  public void set(CriteoRow row) {
    label = row.label();
    System.arraycopy(row.dense(), 0, dense, 0, CriteoRow.NUM_DENSE);
    denseMissing = row.denseMissing();
    System.arraycopy(row.cats(), 0, cats, 0, CriteoRow.NUM_CATS);
    catMissing = row.catMissing();
  }

  /** An immutable row with these fields (missing entries zeroed, as CriteoParser leaves them). */
  public CriteoRow toRow() {
    int[] d = Arrays.copyOf(dense, CriteoRow.NUM_DENSE);
    int[] c = Arrays.copyOf(cats, CriteoRow.NUM_CATS);
    for (int i = 0; i < CriteoRow.NUM_DENSE; i++) {
      if ((denseMissing >>> i & 1) != 0) {
        d[i] = 0;
      }
    }
    for (int t = 0; t < CriteoRow.NUM_CATS; t++) {
      if ((catMissing >>> t & 1) != 0) {
        c[t] = 0;
      }
    }
    return new CriteoRow(label, d, denseMissing, c, catMissing);
  }
}
