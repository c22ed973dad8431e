package io.tinyrec.model.metrics;

/**
 * Counts positives and negatives per score bin so AUC can be computed in bounded memory.
 *
 * <p>Bins are the top bits of the float's IEEE-754 representation, {@code floatToIntBits(p) >>> 14}
 * for p in [0, 1]: 65,025 bins that are logarithmic in p, each spanning a relative width of at
 * most 2^-9 (0.2%). Pairs in different bins are ordered exactly; pairs in the same bin are counted
 * as ties (half credit). The AUC returned is therefore exact up to {@link #errorBound()}, the
 * share of (positive, negative) pairs that share a bin, halved: the true AUC lies in
 * [auc - bound, auc + bound]. Memory is 2 x 65,025 longs. Not thread-safe.
 */
public final class AucHistogram {
  private static final int SHIFT = 14;
  static final int BINS = (Float.floatToIntBits(1f) >>> SHIFT) + 1;
  private final long[] pos = new long[BINS];
  private final long[] neg = new long[BINS];
  private long positives;
  private long negatives;

  static int bin(float p) {
    float c = p > 0f ? Math.min(p, 1f) : 0f; // NaN and negatives land in bin 0
    return Float.floatToIntBits(c) >>> SHIFT;
  }

  public void add(float p, boolean positive) {
    addBin(bin(p), positive, 1);
  }

  long positivesIn(int b) {
    return pos[b];
  }

  long negativesIn(int b) {
    return neg[b];
  }

  void addBin(int b, boolean positive, long delta) {
    if (positive) {
      pos[b] += delta;
      positives += delta;
    } else {
      neg[b] += delta;
      negatives += delta;
    }
  }

  public long positives() {
    return positives;
  }

  public long negatives() {
    return negatives;
  }

  /** AUC, or NaN when either class is absent. */
  public double auc() {
    if (positives == 0 || negatives == 0) {
      return Double.NaN;
    }
    double num = 0;
    long negBelow = 0;
    for (int b = 0; b < BINS; b++) {
      if (pos[b] != 0) {
        num += pos[b] * (negBelow + 0.5 * neg[b]);
      }
      negBelow += neg[b];
    }
    return num / ((double) positives * negatives);
  }

  /** Maximum distance between {@link #auc()} and the exact AUC of the same scores. */
  public double errorBound() {
    if (positives == 0 || negatives == 0) {
      return Double.NaN;
    }
    double tied = 0;
    for (int b = 0; b < BINS; b++) {
      tied += (double) pos[b] * neg[b];
    }
    return tied / (2.0 * positives * negatives);
  }

  public void clear() {
    java.util.Arrays.fill(pos, 0);
    java.util.Arrays.fill(neg, 0);
    positives = 0;
    negatives = 0;
  }
}
