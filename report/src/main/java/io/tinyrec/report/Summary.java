package io.tinyrec.report;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** The few lines {@code tinyrec report} prints: where the page is, each run's numbers, its drift. */
final class Summary {
  private Summary() {}

  static String text(ReportConfig cfg, ReportData data, List<Optional<DriftAnalysis>> drifts, Path html, int plots) {
    StringBuilder s = new StringBuilder();
    s.append("report: ").append(html).append(" (").append(plots).append(" plots)\n");
    for (int i = 0; i < data.runs().size(); i++) {
      RunCurve r = data.runs().get(i);
      CurvePoint l = r.last();
      s.append(String.format(Locale.ROOT, "%s: %s events, AUC %s (window %s), NE %s (window %s), logloss %s, %s "
              + "events/s%n", r.label(), Fmt.count(r.events()), Fmt.metric(l == null ? Double.NaN : l.auc()),
          Fmt.metric(l == null ? Double.NaN : l.windowAuc()), Fmt.metric(l == null ? Double.NaN : l.ne()),
          Fmt.metric(l == null ? Double.NaN : l.windowNe()), Fmt.metric(l == null ? Double.NaN : l.logloss()),
          Fmt.rate(r.eventsPerSecond())));
      Optional<DriftAnalysis> d = drifts.get(i);
      if (d.isPresent()) {
        s.append("  ").append(Fmt.drift(d.get())).append('\n');
      } else if (cfg.driftAt().isPresent()) {
        s.append(String.format(Locale.ROOT, "  drift at %,d: no window AUC on both sides of it in this run%n",
            cfg.driftAt().getAsLong()));
      }
    }
    if (!data.snapshots().isEmpty()) {
      SnapshotPoint first = data.snapshots().get(0);
      SnapshotPoint last = data.snapshots().get(data.snapshots().size() - 1);
      long max = data.snapshots().stream().mapToLong(SnapshotPoint::codecBytes).max().orElse(0);
      s.append(String.format(Locale.ROOT, "snapshots: %d (versions %d..%d), last %s trained on %s events, largest %s%n",
          data.snapshots().size(), first.version(), last.version(), Fmt.mib(last.codecBytes()),
          Fmt.count(last.eventsTrained()), Fmt.mib(max)));
    }
    return s.toString();
  }
}
