package io.tinyrec.model.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ProgressiveMetricsTest {
  /** O(n^2) AUC with ties counted half, the definition the histogram approximates. */
  static double exactAuc(float[] p, boolean[] y, int from, int to) {
    double num = 0;
    long pos = 0;
    long neg = 0;
    for (int i = from; i < to; i++) {
      if (y[i]) {
        pos++;
      } else {
        neg++;
      }
    }
    for (int i = from; i < to; i++) {
      if (!y[i]) {
        continue;
      }
      for (int j = from; j < to; j++) {
        if (!y[j]) {
          num += p[i] > p[j] ? 1 : p[i] == p[j] ? 0.5 : 0;
        }
      }
    }
    return num / ((double) pos * neg);
  }

  @Test
  void aucShouldBeWithinItsStatedBoundOfTheExactValueOverallAndInTheWindow() {
    SplittableRandom r = new SplittableRandom(1);
    int n = 3000;
    int window = 700;
    float[] p = new float[n];
    boolean[] y = new boolean[n];
    ProgressiveMetrics m = new ProgressiveMetrics(window);
    for (int i = 0; i < n; i++) {
      y[i] = r.nextDouble() < 0.25;
      p[i] = (float) (1 / (1 + Math.exp(-(r.nextGaussian() + (y[i] ? 0.8 : 0)))));
      m.add(p[i], y[i]);
    }
    MetricsSnapshot all = m.overall();
    double exact = exactAuc(p, y, 0, n);
    assertTrue(Math.abs(all.auc() - exact) <= all.aucErrorBound() + 1e-12, all.auc() + " vs " + exact);
    assertTrue(all.aucErrorBound() < 1e-3, "bound " + all.aucErrorBound());
    MetricsSnapshot w = m.windowed();
    assertEquals(window, w.count());
    double exactW = exactAuc(p, y, n - window, n);
    assertTrue(Math.abs(w.auc() - exactW) <= w.aucErrorBound() + 1e-12, w.auc() + " vs " + exactW);
  }

  @Test
  void loglossNeAndCalibrationShouldMatchTheirDefinitions() {
    ProgressiveMetrics m = new ProgressiveMetrics(10);
    m.add(0.8f, true);
    m.add(0.4f, false);
    m.add(0.1f, false);
    m.add(0.5f, true);
    MetricsSnapshot s = m.overall();
    double ll = -(Math.log(0.8f) + Math.log(1 - (double) 0.4f) + Math.log(1 - (double) 0.1f) + Math.log(0.5f)) / 4;
    assertEquals(ll, s.logloss(), 1e-9);
    double entropy = -(0.5 * Math.log(0.5) + 0.5 * Math.log(0.5));
    assertEquals(ll / entropy, s.ne(), 1e-9);
    assertEquals((0.8f + 0.4f + 0.1f + 0.5f) / 2.0, s.calibration(), 1e-6);
    assertEquals(1.0, s.auc(), 1e-12);
    assertEquals(0.5, s.ctr(), 1e-12);
  }

  @Test
  void windowShouldForgetOldEventsExactly() {
    ProgressiveMetrics m = new ProgressiveMetrics(2);
    m.add(0.9f, false);
    m.add(0.1f, true);
    m.add(0.7f, true);
    m.add(0.2f, false);
    MetricsSnapshot w = m.windowed();
    assertEquals(2, w.count());
    assertEquals(1.0, w.auc(), 1e-12);
    assertEquals(-(Math.log(0.7f) + Math.log(1 - (double) 0.2f)) / 2, w.logloss(), 1e-9);
    assertTrue(m.overall().auc() < 0.5);
  }
}
