package io.tinyrec.model.metrics;

/**
 * Progressive-validation metrics at one moment, over some span of events.
 *
 * @param count events scored
 * @param auc area under the ROC curve (NaN until both classes were seen)
 * @param aucErrorBound the true AUC is within this distance of {@code auc} (see {@link AucHistogram})
 * @param logloss mean binary cross-entropy, with scores clipped to [1e-12, 1 - 1e-12]
 * @param ne normalized entropy: logloss divided by the entropy of the empirical click rate
 * @param calibration sum of scores divided by sum of clicks
 * @param ctr empirical click rate
 */
public record MetricsSnapshot(long count, double auc, double aucErrorBound, double logloss, double ne,
    double calibration, double ctr) {

  public static final MetricsSnapshot EMPTY = new MetricsSnapshot(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
      Double.NaN, Double.NaN);

  static MetricsSnapshot of(AucHistogram h, long count, double llSum, double scoreSum, long clicks) {
    if (count == 0) {
      return EMPTY;
    }
    double ctr = (double) clicks / count;
    double ll = llSum / count;
    double entropy = ctr <= 0 || ctr >= 1 ? Double.NaN : -(ctr * Math.log(ctr) + (1 - ctr) * Math.log(1 - ctr));
    return new MetricsSnapshot(count, h.auc(), h.errorBound(), ll, ll / entropy,
        clicks == 0 ? Double.NaN : scoreSum / clicks, ctr);
  }
}
