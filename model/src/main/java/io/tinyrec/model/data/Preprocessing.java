package io.tinyrec.model.data;

/**
 * The feature transforms shared by training and serving. Any change here changes every model's
 * meaning, so the snapshot format document (docs/snapshot-format.md) spells out each one. Every
 * path into the model (a parsed TSV line, a {@link CriteoRow}, a ClickEvent's fields) goes through
 * these methods.
 */
public final class Preprocessing {
  /**
   * {@link #logTransform} of 0 .. TABLE-1, computed once by the same expression: most Criteo dense
   * values are small counts, and Math.log1p costs about 20 ns, 13 times a row (3% of scoring).
   */
  private static final int TABLE = 4096;
  private static final float[] LOG1P = new float[TABLE];

  static {
    for (int x = 0; x < TABLE; x++) {
      LOG1P[x] = exactLogTransform(x);
    }
  }

  private Preprocessing() {}

  /** Dense transform: log(1 + max(x, 0)), computed in double and rounded once to float. */
  public static float logTransform(int x) {
    int v = Math.max(x, 0);
    return v < TABLE ? LOG1P[v] : exactLogTransform(v);
  }

  /** {@link #logTransform} without the table, by its definition. */
  static float exactLogTransform(int x) {
    return (float) Math.log1p(Math.max(x, 0));
  }

  /** The model's input for a dense field: its {@link #logTransform}, or 0 when the field is missing. */
  public static float denseFeature(int raw, boolean missing) {
    return missing ? 0f : logTransform(raw);
  }

  /**
   * The value a categorical field is hashed as: its unsigned 32-bit value, or
   * {@link CriteoRow#MISSING_CATEGORY} (outside every 32-bit value) when the field is missing.
   */
  public static long categoryValue(int raw, boolean missing) {
    return missing ? CriteoRow.MISSING_CATEGORY : Integer.toUnsignedLong(raw);
  }
}
