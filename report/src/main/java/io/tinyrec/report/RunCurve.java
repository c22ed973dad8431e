package io.tinyrec.report;

import java.util.List;

/**
 * One run's progressive metrics over events, as plotted: from the scores topic or from a learn curve.
 * Points are in increasing order of events. Immutable.
 *
 * @param label the run's name in legends and tables (a topic name, or a curve file's name)
 * @param source where it was read from, for people
 * @param metricsWindow events in the sliding window of the window metrics (0 if unknown)
 * @param points the curve, in increasing order of events
 * @param throughput events per second over wall-clock time, in increasing order of time
 * @param wallSeconds wall-clock seconds from the first event to the last (NaN if unknown)
 */
public record RunCurve(String label, String source, int metricsWindow, List<CurvePoint> points,
    List<RatePoint> throughput, double wallSeconds) {
  public RunCurve {
    points = List.copyOf(points);
    throughput = List.copyOf(throughput);
    for (int i = 1; i < points.size(); i++) {
      if (points.get(i).events() < points.get(i - 1).events()) {
        throw new IllegalArgumentException(label + ": curve points must be in increasing order of events, got "
            + points.get(i).events() + " after " + points.get(i - 1).events());
      }
    }
  }

  /** The last point, or null for an empty curve. */
  public CurvePoint last() {
    return points.isEmpty() ? null : points.get(points.size() - 1);
  }

  /** Events in the run (those of the last point). */
  public long events() {
    CurvePoint l = last();
    return l == null ? 0 : l.events();
  }

  /** Events per second over the whole run, or NaN when the run has no clock. */
  public double eventsPerSecond() {
    return wallSeconds > 0 ? events() / wallSeconds : Double.NaN;
  }
}
