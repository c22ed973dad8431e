package io.tinyrec.report;

import java.util.List;
import java.util.Optional;

/**
 * How a run's windowed AUC behaved around a concept drift: its level just before the drift, its
 * lowest point after it, and the first point after that low where it is back within
 * {@code tolerance} of the level before.
 *
 * <p>The level before is the window AUC at the last curve point at or before the drift, so its
 * window holds only events from before the drift. Resolution is the curve's point spacing.
 *
 * @param driftAt the event index of the drift (given, or where {@link #detect} found it)
 * @param detected true when {@link #detect} found the drift rather than being told it
 * @param tolerance how close to the level before counts as recovered (0.01 in the acceptance test)
 * @param beforeAt events at the point the level before was read
 * @param beforeAuc window AUC just before the drift
 * @param minAt events at the lowest window AUC after the drift
 * @param minAuc lowest window AUC after the drift
 * @param recoveredAt events at the first point from the low on with window AUC >= beforeAuc - tolerance, -1 if none
 * @param recoveredAuc window AUC there (NaN if none)
 * @param endAt events at the run's last point
 * @param endAuc window AUC at the run's last point
 */
public record DriftAnalysis(long driftAt, boolean detected, double tolerance, long beforeAt, double beforeAuc,
    long minAt, double minAuc, long recoveredAt, double recoveredAuc, long endAt, double endAuc) {

  /** The drop below the level before that {@link #detect} calls a drift. */
  public static final double DETECT_DROP = 0.02;

  public boolean recovered() {
    return recoveredAt >= 0;
  }

  /** True when the window AUC never fell further than the tolerance below the level before. */
  public boolean heldUp() {
    return minAuc >= beforeAuc - tolerance;
  }

  /** The level that counts as recovered. */
  public double threshold() {
    return beforeAuc - tolerance;
  }

  /**
   * The analysis around a known drift, or empty when the run has no windowed AUC before the drift or
   * none after it.
   */
  public static Optional<DriftAnalysis> at(RunCurve run, long driftAt, double tolerance, boolean detected) {
    List<CurvePoint> pts = run.points();
    int before = -1;
    for (int i = 0; i < pts.size() && pts.get(i).events() <= driftAt; i++) {
      if (Double.isFinite(pts.get(i).windowAuc())) {
        before = i;
      }
    }
    if (before < 0) {
      return Optional.empty();
    }
    int min = -1;
    int last = -1;
    for (int i = before + 1; i < pts.size(); i++) {
      CurvePoint p = pts.get(i);
      if (p.events() <= driftAt || !Double.isFinite(p.windowAuc())) {
        continue;
      }
      last = i;
      if (min < 0 || p.windowAuc() < pts.get(min).windowAuc()) {
        min = i;
      }
    }
    if (min < 0) {
      return Optional.empty();
    }
    double beforeAuc = pts.get(before).windowAuc();
    int recovered = -1;
    for (int i = min; i < pts.size(); i++) {
      double a = pts.get(i).windowAuc();
      if (Double.isFinite(a) && a >= beforeAuc - tolerance) {
        recovered = i;
        break;
      }
    }
    return Optional.of(new DriftAnalysis(driftAt, detected, tolerance, pts.get(before).events(), beforeAuc,
        pts.get(min).events(), pts.get(min).windowAuc(), recovered < 0 ? -1 : pts.get(recovered).events(),
        recovered < 0 ? Double.NaN : pts.get(recovered).windowAuc(), pts.get(last).events(),
        pts.get(last).windowAuc()));
  }

  /**
   * Looks for a drift the run was not told about: the deepest fall of the window AUC below its
   * running peak, counted only once the window is full (before that the window AUC mostly tracks
   * learning). A fall of at least {@link #DETECT_DROP} is called a drift at the peak before it:
   * the window AUC starts falling as soon as events after the drift enter the window.
   */
  public static Optional<DriftAnalysis> detect(RunCurve run, double tolerance) {
    List<CurvePoint> pts = run.points();
    long from = run.metricsWindow() > 0 ? run.metricsWindow() : run.events() / 10;
    int peak = -1;
    int bestPeak = -1;
    double bestDrop = 0;
    for (int i = 0; i < pts.size(); i++) {
      CurvePoint p = pts.get(i);
      if (p.events() < from || !Double.isFinite(p.windowAuc())) {
        continue;
      }
      if (peak < 0 || p.windowAuc() > pts.get(peak).windowAuc()) {
        peak = i;
      }
      double drop = pts.get(peak).windowAuc() - p.windowAuc();
      if (drop > bestDrop) {
        bestDrop = drop;
        bestPeak = peak;
      }
    }
    if (bestPeak < 0 || bestDrop < DETECT_DROP) {
      return Optional.empty();
    }
    return at(run, pts.get(bestPeak).events(), tolerance, true);
  }
}
