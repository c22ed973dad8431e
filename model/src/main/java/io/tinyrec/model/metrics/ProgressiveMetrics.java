package io.tinyrec.model.metrics;

/**
 * Streaming AUC, log loss, NE and calibration, over the whole run and over a sliding window of
 * the last {@code window} events, in bounded memory: two {@link AucHistogram}s plus a ring of
 * {@code window} entries. Adding an event is O(1); reading AUC is O(bins). Not thread-safe.
 */
public final class ProgressiveMetrics {
  private static final double CLIP = 1e-12;
  private final AucHistogram total = new AucHistogram();
  private final AucHistogram windowHist = new AucHistogram();
  private final int window;
  private final int[] ringBin;
  private final float[] ringScore;
  private final boolean[] ringLabel;
  private int ringPos;
  private int ringFill;
  private long count;
  private double llSum;
  private double scoreSum;
  private long clicks;
  private double wLlSum;
  private double wScoreSum;
  private long wClicks;

  public ProgressiveMetrics(int window) {
    if (window < 1) {
      throw new IllegalArgumentException("metrics window must be >= 1 event, got " + window);
    }
    this.window = window;
    this.ringBin = new int[window];
    this.ringScore = new float[window];
    this.ringLabel = new boolean[window];
  }

  public int window() {
    return window;
  }

  static double logloss(float p, boolean label) {
    double q = Math.min(Math.max(p, CLIP), 1 - CLIP);
    return label ? -Math.log(q) : -Math.log(1 - q);
  }

  public void add(float score, boolean label) {
    int bin = AucHistogram.bin(score);
    double ll = logloss(score, label);
    total.addBin(bin, label, 1);
    count++;
    llSum += ll;
    scoreSum += score;
    clicks += label ? 1 : 0;
    if (ringFill == window) {
      int old = ringPos;
      windowHist.addBin(ringBin[old], ringLabel[old], -1);
      wLlSum -= logloss(ringScore[old], ringLabel[old]);
      wScoreSum -= ringScore[old];
      wClicks -= ringLabel[old] ? 1 : 0;
    } else {
      ringFill++;
    }
    ringBin[ringPos] = bin;
    ringScore[ringPos] = score;
    ringLabel[ringPos] = label;
    ringPos = ringPos + 1 == window ? 0 : ringPos + 1;
    windowHist.addBin(bin, label, 1);
    wLlSum += ll;
    wScoreSum += score;
    wClicks += label ? 1 : 0;
  }

  public long count() {
    return count;
  }

  /** Metrics over every event added. */
  public MetricsSnapshot overall() {
    return MetricsSnapshot.of(total, count, llSum, scoreSum, clicks);
  }

  /** Metrics over the last {@link #window()} events (fewer at the start). */
  public MetricsSnapshot windowed() {
    return MetricsSnapshot.of(windowHist, ringFill, wLlSum, wScoreSum, wClicks);
  }
}
