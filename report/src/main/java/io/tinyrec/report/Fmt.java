package io.tinyrec.report;

import java.util.Locale;

/** Number formatting shared by the page and the text summary: NaN shows as a dash. */
final class Fmt {
  private Fmt() {}

  static String metric(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%.4f", v) : "-";
  }

  static String count(long v) {
    return String.format(Locale.ROOT, "%,d", v);
  }

  static String rate(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%,.0f", v) : "-";
  }

  static String seconds(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%.1f s", v) : "-";
  }

  static String mib(long bytes) {
    return String.format(Locale.ROOT, "%.2f MiB", bytes / (1024.0 * 1024.0));
  }

  /** One sentence on a drift analysis, e.g. for the summary and the page. */
  static String drift(DriftAnalysis d) {
    StringBuilder s = new StringBuilder();
    s.append(String.format(Locale.ROOT, "%s %,d: window AUC %.4f just before (at %,d), lowest %.4f at %,d; ",
        d.detected() ? "drift found near" : "drift at", d.driftAt(), d.beforeAuc(), d.beforeAt(), d.minAuc(),
        d.minAt()));
    if (d.heldUp()) {
      s.append(String.format(Locale.ROOT, "it never fell more than %.2f below its level before the drift", d.tolerance()));
    } else if (d.recovered()) {
      s.append(String.format(Locale.ROOT, "back within %.2f (>= %.4f) at %,d, %,d events after the drift (%.4f)",
          d.tolerance(), d.threshold(), d.recoveredAt(), d.recoveredAt() - d.driftAt(), d.recoveredAuc()));
    } else {
      s.append(String.format(Locale.ROOT, "NOT back within %.2f (>= %.4f) by the end of the run (%.4f at %,d, "
          + "%.4f short)", d.tolerance(), d.threshold(), d.endAuc(), d.endAt(), d.threshold() - d.endAuc()));
    }
    return s.toString();
  }
}
