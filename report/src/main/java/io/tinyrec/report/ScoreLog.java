package io.tinyrec.report;

import io.tinyrec.model.metrics.MetricsSnapshot;
import io.tinyrec.model.metrics.ProgressiveMetrics;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The scored events of a run (score, label, wall-clock time it was scored), held in primitive
 * arrays (13 bytes an event), and turned into a progressive-metrics curve in scoring order.
 *
 * <p>Scoring order is the order of the processing times; events scored in the same millisecond keep
 * the order they were added in. That is what the job's learners did: each scored an event before it
 * learned from it, so replaying the scores through {@link ProgressiveMetrics} in that order gives
 * the run's progressive metrics without the model. Events without a label are counted, not scored.
 * Not thread-safe.
 */
public final class ScoreLog {
  private float[] scores = new float[1024];
  private byte[] labels = new byte[1024];
  private long[] times = new long[1024];
  private int size;

  /**
   * Adds one scored event.
   *
   * @param label 1 click, 0 no click, null unknown
   * @param processingTimeMs when it was scored, epoch milliseconds
   */
  public void add(float score, Integer label, long processingTimeMs) {
    if (size == scores.length) {
      int n = Math.max(1024, Math.min(Integer.MAX_VALUE - 8, 2 * size));
      if (n == size) {
        throw new IllegalStateException("more than " + size + " scored events: too many for one report");
      }
      scores = Arrays.copyOf(scores, n);
      labels = Arrays.copyOf(labels, n);
      times = Arrays.copyOf(times, n);
    }
    scores[size] = score;
    labels[size] = label == null ? -1 : (byte) (label != 0 ? 1 : 0);
    times[size] = processingTimeMs;
    size++;
  }

  public int size() {
    return size;
  }

  /** The earliest processing time, or Long.MAX_VALUE when empty. */
  public long firstTimeMs() {
    long t = Long.MAX_VALUE;
    for (int i = 0; i < size; i++) {
      t = Math.min(t, times[i]);
    }
    return t;
  }

  /** Events added without a label. */
  public long unlabeled() {
    long n = 0;
    for (int i = 0; i < size; i++) {
      n += labels[i] < 0 ? 1 : 0;
    }
    return n;
  }

  /**
   * The run's curve: a point every {@code ceil(labeled / targetPoints)} labeled events (at least
   * 100) and at the last one, and throughput in about 100 spans of wall-clock time (at least 1 s
   * each). Seconds count from {@code originMs}.
   */
  public RunCurve toCurve(String label, String source, int metricsWindow, int targetPoints, long originMs) {
    int[] order = scoringOrder();
    long labeled = size - unlabeled();
    long step = Math.max(100, (labeled + targetPoints - 1) / Math.max(1, targetPoints));
    ProgressiveMetrics m = new ProgressiveMetrics(metricsWindow);
    List<CurvePoint> points = new ArrayList<>();
    long prevEvents = 0;
    long prevTime = size == 0 ? originMs : times[order[0]];
    for (int k = 0; k < size; k++) {
      int i = order[k];
      if (labels[i] < 0) {
        continue;
      }
      m.add(scores[i], labels[i] == 1);
      long n = m.count();
      if (n % step == 0 || n == labeled) {
        long t = times[i];
        double rate = t > prevTime ? (n - prevEvents) * 1000.0 / (t - prevTime) : Double.NaN;
        points.add(point(n, (t - originMs) / 1000.0, m.overall(), m.windowed(), rate));
        prevEvents = n;
        prevTime = t;
      }
    }
    double wall = size == 0 ? Double.NaN : (times[order[size - 1]] - times[order[0]]) / 1000.0;
    return new RunCurve(label, source, metricsWindow, points, throughput(order, originMs), wall);
  }

  static CurvePoint point(long events, double seconds, MetricsSnapshot o, MetricsSnapshot w, double rate) {
    return new CurvePoint(events, seconds, o.auc(), o.ne(), o.logloss(), w.auc(), w.ne(), w.logloss(), rate);
  }

  private List<RatePoint> throughput(int[] order, long originMs) {
    List<RatePoint> out = new ArrayList<>();
    if (size == 0) {
      return out;
    }
    long first = times[order[0]];
    long last = times[order[size - 1]];
    long span = Math.max(1000, (last - first + 99) / 100);
    int k = 0;
    for (long start = first; start <= last; start += span) {
      long end = start + span;
      long n = 0;
      while (k < size && times[order[k]] < end) {
        n++;
        k++;
      }
      // The last span may be partial: divide by the time it covers, at least 1 ms.
      long covered = Math.max(1, Math.min(end, last + 1) - start);
      out.add(new RatePoint((start + covered - originMs) / 1000.0, n * 1000.0 / covered));
    }
    return out;
  }

  /** Indices in increasing processing time, stable (a merge sort on the primitive keys). */
  private int[] scoringOrder() {
    int[] a = new int[size];
    for (int i = 0; i < size; i++) {
      a[i] = i;
    }
    boolean sorted = true;
    for (int i = 1; i < size && sorted; i++) {
      sorted = times[i] >= times[i - 1];
    }
    if (sorted) {
      return a;
    }
    int[] b = new int[size];
    for (int width = 1; width < size; width *= 2) {
      for (int lo = 0; lo < size; lo += 2 * width) {
        int mid = Math.min(lo + width, size);
        int hi = Math.min(lo + 2 * width, size);
        int i = lo;
        int j = mid;
        int o = lo;
        while (i < mid && j < hi) {
          b[o++] = times[a[j]] < times[a[i]] ? a[j++] : a[i++];
        }
        while (i < mid) {
          b[o++] = a[i++];
        }
        while (j < hi) {
          b[o++] = a[j++];
        }
      }
      int[] t = a;
      a = b;
      b = t;
    }
    return a;
  }
}
