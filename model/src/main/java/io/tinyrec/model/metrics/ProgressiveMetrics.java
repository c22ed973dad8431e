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

  /**
   * The complete state (both counters, the histogram and the window's ring), so a checkpointed
   * stream resumes its metrics where it stopped. {@link #decode} reverses it.
   */
  public byte[] encode() {
    var bytes = new java.io.ByteArrayOutputStream(64 + ringFill * 5);
    try (var out = new java.io.DataOutputStream(bytes)) {
      out.writeInt(window);
      out.writeLong(count);
      out.writeDouble(llSum);
      out.writeDouble(scoreSum);
      out.writeLong(clicks);
      int nonEmpty = 0;
      for (int b = 0; b < AucHistogram.BINS; b++) {
        nonEmpty += total.positivesIn(b) != 0 || total.negativesIn(b) != 0 ? 1 : 0;
      }
      out.writeInt(nonEmpty);
      for (int b = 0; b < AucHistogram.BINS; b++) {
        if (total.positivesIn(b) != 0 || total.negativesIn(b) != 0) {
          out.writeInt(b);
          out.writeLong(total.positivesIn(b));
          out.writeLong(total.negativesIn(b));
        }
      }
      out.writeDouble(wLlSum);
      out.writeDouble(wScoreSum);
      out.writeLong(wClicks);
      out.writeInt(ringFill);
      int start = ringFill == window ? ringPos : 0;
      for (int i = 0; i < ringFill; i++) {
        int k = (start + i) % window;
        out.writeFloat(ringScore[k]);
        out.writeBoolean(ringLabel[k]);
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** Restores metrics written by {@link #encode}. */
  public static ProgressiveMetrics decode(byte[] bytes) {
    try (var in = new java.io.DataInputStream(new java.io.ByteArrayInputStream(bytes))) {
      ProgressiveMetrics m = new ProgressiveMetrics(in.readInt());
      m.count = in.readLong();
      m.llSum = in.readDouble();
      m.scoreSum = in.readDouble();
      m.clicks = in.readLong();
      int nonEmpty = in.readInt();
      for (int i = 0; i < nonEmpty; i++) {
        int b = in.readInt();
        m.total.addBin(b, true, in.readLong());
        m.total.addBin(b, false, in.readLong());
      }
      double wLl = in.readDouble();
      double wScore = in.readDouble();
      long wClk = in.readLong();
      int fill = in.readInt();
      for (int i = 0; i < fill; i++) {
        float score = in.readFloat();
        boolean label = in.readBoolean();
        int bin = AucHistogram.bin(score);
        m.ringBin[m.ringPos] = bin;
        m.ringScore[m.ringPos] = score;
        m.ringLabel[m.ringPos] = label;
        m.ringPos = m.ringPos + 1 == m.window ? 0 : m.ringPos + 1;
        m.windowHist.addBin(bin, label, 1);
      }
      m.ringFill = fill;
      m.wLlSum = wLl;
      m.wScoreSum = wScore;
      m.wClicks = wClk;
      return m;
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException("corrupt progressive-metrics state (" + bytes.length + " bytes)", e);
    }
  }
}
