package io.tinyrec.report;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Synthetic inputs for the report's tests: scored events with a planted AUC, curves with a drift. */
final class Synthetic {
  private Synthetic() {}

  /** A score for an event: positives shifted up by {@code separation}, through a sigmoid. */
  static float score(SplittableRandom rnd, boolean positive, double separation) {
    double z = rnd.nextGaussian() + (positive ? separation : 0) - 1.0;
    return (float) (1 / (1 + Math.exp(-z)));
  }

  /**
   * A curve whose window AUC climbs to 0.75, drops to {@code low} after the drift at 50,000 and
   * comes back to {@code end} by 100,000, a point every 1,000 events.
   */
  static RunCurve driftCurve(String label, double low, double end) {
    List<CurvePoint> pts = new ArrayList<>();
    for (long e = 1000; e <= 100_000; e += 1000) {
      double w;
      if (e <= 50_000) {
        w = 0.6 + 0.15 * e / 50_000.0;
      } else if (e <= 60_000) {
        w = 0.75 - (0.75 - low) * (e - 50_000) / 10_000.0;
      } else {
        w = low + (end - low) * (e - 60_000) / 40_000.0;
      }
      double ne = 1.1 - (w - 0.5);
      pts.add(new CurvePoint(e, e / 10_000.0, w - 0.02, ne + 0.02, 0.5, w, ne, 0.49, 10_000));
    }
    List<RatePoint> rates = new ArrayList<>();
    for (int s = 1; s <= 10; s++) {
      rates.add(new RatePoint(s, 9_000 + 200 * s));
    }
    return new RunCurve(label, "synthetic", 10_000, pts, rates, 10.0);
  }
}
