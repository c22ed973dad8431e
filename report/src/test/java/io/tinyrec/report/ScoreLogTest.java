package io.tinyrec.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ScoreLogTest {
  /** Exact AUC by sorting: the share of (positive, negative) pairs ordered right, ties half. */
  static double exactAuc(List<float[]> scored) {
    List<float[]> s = new ArrayList<>(scored);
    s.sort((a, b) -> Float.compare(a[0], b[0]));
    double num = 0;
    long negBelow = 0;
    long pos = 0;
    int i = 0;
    while (i < s.size()) {
      int j = i;
      long p = 0;
      long n = 0;
      while (j < s.size() && s.get(j)[0] == s.get(i)[0]) {
        if (s.get(j)[1] > 0) {
          p++;
        } else {
          n++;
        }
        j++;
      }
      num += p * (negBelow + 0.5 * n);
      negBelow += n;
      pos += p;
      i = j;
    }
    return num / ((double) pos * negBelow);
  }

  @Test
  void shouldMatchAnExactAucComputedIndependentlyInScoringOrder() {
    SplittableRandom rnd = new SplittableRandom(7);
    ScoreLog log = new ScoreLog();
    List<float[]> all = new ArrayList<>();
    List<float[]> lastWindow = new ArrayList<>();
    int n = 20_000;
    int window = 5_000;
    long t0 = 1_700_000_000_000L;
    // Added out of time order (two "partitions" interleaved backwards): the log must sort by time.
    float[] scores = new float[n];
    int[] labels = new int[n];
    for (int i = 0; i < n; i++) {
      labels[i] = rnd.nextDouble() < 0.25 ? 1 : 0;
      scores[i] = Synthetic.score(rnd, labels[i] == 1, i < n / 2 ? 1.5 : 0.5);
    }
    for (int i = n - 1; i >= 0; i--) {
      log.add(scores[i], labels[i], t0 + i); // one event a millisecond
    }
    log.add(0.5f, null, t0 + n / 2); // no label: counted, not scored
    for (int i = 0; i < n; i++) {
      all.add(new float[] {scores[i], labels[i]});
      if (i >= n - window) {
        lastWindow.add(new float[] {scores[i], labels[i]});
      }
    }
    RunCurve c = log.toCurve("t", "test", window, 100, t0);
    assertEquals(1, log.unlabeled());
    assertEquals(n, c.events());
    assertEquals(exactAuc(all), c.last().auc(), 1e-3);
    assertEquals(exactAuc(lastWindow), c.last().windowAuc(), 1e-3);
    // The stronger first half shows in the window AUC at its end: the order was the time order.
    CurvePoint half = c.points().stream().filter(p -> p.events() == n / 2).findFirst().orElseThrow();
    assertTrue(half.windowAuc() > c.last().windowAuc() + 0.1, half + " vs " + c.last());
    assertEquals(100, c.points().size());
    assertEquals((n - 1) / 1000.0, c.last().seconds(), 1e-9);
    assertEquals(n / ((n - 1) / 1000.0), c.eventsPerSecond(), 1.0);
    double total = c.throughput().stream().mapToDouble(RatePoint::eventsPerSecond).average().orElseThrow();
    assertEquals(1000.0, total, 50.0); // one event a millisecond
  }
}
