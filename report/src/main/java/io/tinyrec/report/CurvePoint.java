package io.tinyrec.report;

/**
 * Progressive-validation metrics of one run at one moment: after {@code events} events were scored
 * (each before the model learned from it). NaN where a value is undefined or unknown, e.g. AUC
 * before both classes were seen, or {@code seconds} for a source without a clock.
 *
 * @param events events scored so far
 * @param seconds wall-clock seconds since the run's first event
 * @param auc AUC over every event so far
 * @param ne normalized entropy over every event so far
 * @param logloss mean log loss over every event so far
 * @param windowAuc AUC over the last {@link RunCurve#metricsWindow()} events
 * @param windowNe NE over the same window
 * @param windowLogloss log loss over the same window
 * @param eventsPerSecond throughput since the previous point (NaN for the first point of a file without it)
 */
public record CurvePoint(long events, double seconds, double auc, double ne, double logloss, double windowAuc,
    double windowNe, double windowLogloss, double eventsPerSecond) {
  public CurvePoint {
    if (events < 0) {
      throw new IllegalArgumentException("a curve point needs events >= 0, got " + events);
    }
  }
}
