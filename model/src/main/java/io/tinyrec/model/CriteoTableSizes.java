package io.tinyrec.model;

import java.util.Arrays;
import java.util.Locale;

/**
 * The row counts of the 26 full (uncompressed) categorical tables of the two public Criteo data
 * sets, used to state ROBE-Z compression: compression = (sum of rows x d) / M.
 *
 * <p>Kaggle: the distinct values of each feature in the Display Advertising Challenge train.txt,
 * as counted by the DLRM reference preprocessing. Terabyte: the same for the 24 days with the
 * MLPerf cap of 40M rows per table (max-ind-range=40000000), the configuration whose tables make up
 * the roughly 100 GB usually quoted at d=128.
 */
public enum CriteoTableSizes {
  KAGGLE(new long[] {1460, 583, 10131227, 2202608, 305, 24, 12517, 633, 3, 93145, 5683, 8351593, 3194, 27, 14992,
      5461306, 10, 5652, 2173, 4, 7046547, 18, 15, 286181, 105, 142572}),
  TERABYTE(new long[] {39884406, 39043, 17289, 7420, 20263, 3, 7120, 1543, 63, 38532951, 2953546, 403346, 10, 2208,
      11938, 155, 4, 976, 14, 39979771, 25641295, 39664984, 585935, 12972, 108, 36});

  private final long[] rows;

  CriteoTableSizes(long[] rows) {
    this.rows = rows;
  }

  public long[] rows() {
    return rows.clone();
  }

  public long totalRows() {
    return Arrays.stream(rows).sum();
  }

  /** Floats in the full tables at embedding dimension d. */
  public long fullFloats(int dim) {
    return totalRows() * dim;
  }

  /**
   * The ROBE array size M for a compression factor against these tables, rounded to a multiple
   * of Z so blocks tile the array exactly.
   */
  public int robeSizeFor(double compression, int dim, int z) {
    if (!(compression >= 1) || Double.isInfinite(compression)) {
      throw new ConfigException("{compression} must be a factor >= 1 such as 1000x, got " + compression);
    }
    double m = fullFloats(dim) / compression;
    long rounded = Math.max(z, Math.round(m / z) * z);
    if (rounded > Integer.MAX_VALUE - 8) {
      throw new ConfigException("{compression} " + compression + "x of the " + name().toLowerCase(Locale.ROOT)
          + " tables at d=" + dim + " needs " + rounded + " floats, more than one Java array holds; compress more");
    }
    return (int) rounded;
  }

  /** Parses "1000x" or "1000" into a factor. */
  public static double parseCompression(String s) {
    String t = s.trim().toLowerCase(Locale.ROOT);
    if (t.endsWith("x")) {
      t = t.substring(0, t.length() - 1);
    }
    try {
      return Double.parseDouble(t);
    } catch (NumberFormatException e) {
      throw new ConfigException("{compression} must look like 1000x, got '" + s + "'");
    }
  }
}
