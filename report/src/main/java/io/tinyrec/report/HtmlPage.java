package io.tinyrec.report;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * report.html: one self-contained page. Each plot is embedded as a data: URI (the page still shows
 * when copied alone) and linked to its PNG file beside it. Key numbers come first, as tables.
 */
final class HtmlPage {
  private HtmlPage() {}

  static String render(ReportConfig cfg, ReportData data, List<Optional<DriftAnalysis>> drifts, List<Report.Plot> plots)
      throws IOException {
    StringBuilder h = new StringBuilder(1 << 16);
    h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>").append(esc(cfg.title()))
        .append("</title>\n<style>\n")
        .append("body{font-family:system-ui,-apple-system,'DejaVu Sans',sans-serif;margin:2em auto;max-width:1060px;")
        .append("color:#222;padding:0 1em}\n")
        .append("table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #ccc;padding:.3em .6em;")
        .append("text-align:right}th{background:#f3f3f3}td.l,th.l{text-align:left}\n")
        .append("figure{margin:1.5em 0}img{max-width:100%;border:1px solid #eee}figcaption{color:#555;")
        .append("font-size:.9em}\n.bad{color:#b00000;font-weight:bold}.ok{color:#006b2d;font-weight:bold}\n")
        .append("</style>\n</head>\n<body>\n<h1>").append(esc(cfg.title())).append("</h1>\n<p>Written ")
        .append(esc(Instant.now().toString())).append(" by <code>tinyrec report</code>. Inputs:</p>\n<ul>\n");
    for (RunCurve r : data.runs()) {
      h.append("<li>").append(esc(r.label())).append(": ").append(esc(r.source())).append("</li>\n");
    }
    if (!data.snapshots().isEmpty()) {
      h.append("<li>model snapshots").append(cfg.kafka() == null || cfg.kafka().modelsTopic() == null ? ""
          : ": topic " + esc(cfg.kafka().modelsTopic())).append("</li>\n");
    }
    h.append("</ul>\n");

    h.append("<h2>Key numbers</h2>\n<table>\n<tr><th class=\"l\">run</th><th>events</th><th>AUC</th><th>NE</th>")
        .append("<th>log loss</th><th>window</th><th>window AUC</th><th>window NE</th><th>events/s</th>")
        .append("<th>wall time</th></tr>\n");
    for (RunCurve r : data.runs()) {
      CurvePoint l = r.last();
      h.append("<tr><td class=\"l\">").append(esc(r.label())).append("</td><td>").append(Fmt.count(r.events()))
          .append("</td><td>").append(Fmt.metric(l.auc())).append("</td><td>").append(Fmt.metric(l.ne()))
          .append("</td><td>").append(Fmt.metric(l.logloss())).append("</td><td>")
          .append(r.metricsWindow() > 0 ? Fmt.count(r.metricsWindow()) : "-").append("</td><td>")
          .append(Fmt.metric(l.windowAuc())).append("</td><td>").append(Fmt.metric(l.windowNe())).append("</td><td>")
          .append(Fmt.rate(r.eventsPerSecond())).append("</td><td>").append(Fmt.seconds(r.wallSeconds()))
          .append("</td></tr>\n");
    }
    h.append("</table>\n");

    boolean anyDrift = drifts.stream().anyMatch(Optional::isPresent);
    if (anyDrift || cfg.driftAt().isPresent()) {
      h.append("<h2>Drift and recovery</h2>\n<p>").append(cfg.driftAt().isPresent()
              ? "Drift point given with <code>--drift-at</code>."
              : "No drift point was given; a fall of the window AUC of at least "
                  + String.format(Locale.ROOT, "%.2f", DriftAnalysis.DETECT_DROP)
                  + " below its running peak (once the window is full) was taken as one, placed at that peak.")
          .append(String.format(Locale.ROOT, " Recovered means the window AUC is back within %.2f of its value just "
              + "before the drift.", cfg.tolerance())).append("</p>\n")
          .append("<table>\n<tr><th class=\"l\">run</th><th>drift at</th><th>window AUC before</th>")
          .append("<th>lowest after</th><th>at</th><th>back within tolerance at</th><th>events after drift</th>")
          .append("<th>window AUC at end</th><th class=\"l\">verdict</th></tr>\n");
      for (int i = 0; i < data.runs().size(); i++) {
        RunCurve r = data.runs().get(i);
        Optional<DriftAnalysis> od = drifts.get(i);
        if (od.isEmpty()) {
          h.append("<tr><td class=\"l\">").append(esc(r.label())).append("</td><td colspan=\"8\" class=\"l\">")
              .append(cfg.driftAt().isPresent() ? "no window AUC on both sides of the drift" : "no drift found")
              .append("</td></tr>\n");
          continue;
        }
        DriftAnalysis d = od.get();
        String verdict = d.heldUp() ? "<span class=\"ok\">held up</span>"
            : d.recovered() ? "<span class=\"ok\">recovered</span>" : "<span class=\"bad\">not recovered</span>";
        h.append("<tr><td class=\"l\">").append(esc(r.label())).append("</td><td>").append(Fmt.count(d.driftAt()))
            .append(d.detected() ? " (found)" : "").append("</td><td>").append(Fmt.metric(d.beforeAuc()))
            .append("</td><td>").append(Fmt.metric(d.minAuc())).append("</td><td>").append(Fmt.count(d.minAt()))
            .append("</td><td>").append(d.recovered() ? Fmt.count(d.recoveredAt()) : "-").append("</td><td>")
            .append(d.recovered() ? Fmt.count(d.recoveredAt() - d.driftAt()) : "-").append("</td><td>")
            .append(Fmt.metric(d.endAuc())).append("</td><td class=\"l\">").append(verdict).append("</td></tr>\n");
      }
      h.append("</table>\n");
    }

    if (!data.snapshots().isEmpty()) {
      List<SnapshotPoint> s = data.snapshots();
      SnapshotPoint first = s.get(0);
      SnapshotPoint last = s.get(s.size() - 1);
      long max = s.stream().mapToLong(SnapshotPoint::codecBytes).max().orElse(0);
      long epochs = s.stream().mapToLong(SnapshotPoint::epoch).distinct().count();
      h.append("<h2>Model snapshots</h2>\n<table>\n<tr><th>snapshots</th><th>versions</th><th>epochs</th>")
          .append("<th>last size</th><th>largest</th><th>events trained (last)</th><th>merger AUC (last)</th>")
          .append("<th>merger window AUC (last)</th></tr>\n<tr><td>").append(s.size()).append("</td><td>")
          .append(first.version()).append(" .. ").append(last.version()).append("</td><td>").append(epochs)
          .append("</td><td>").append(Fmt.mib(last.codecBytes())).append("</td><td>").append(Fmt.mib(max))
          .append("</td><td>").append(Fmt.count(last.eventsTrained())).append("</td><td>")
          .append(Fmt.metric(last.auc())).append("</td><td>").append(Fmt.metric(last.windowAuc()))
          .append("</td></tr>\n</table>\n");
    }

    if (!data.notes().isEmpty()) {
      h.append("<h2>Notes on the inputs</h2>\n<ul>\n");
      for (String n : data.notes()) {
        h.append("<li>").append(esc(n)).append("</li>\n");
      }
      h.append("</ul>\n");
    }

    h.append("<h2>Plots</h2>\n");
    if (data.snapshots().isEmpty()) {
      h.append("<p>No model snapshots in these inputs (learn curves have none), so no plots of model versions and "
          + "snapshot sizes: those come from the models topic.</p>\n");
    }
    for (Report.Plot p : plots) {
      byte[] png = Files.readAllBytes(cfg.outDir().resolve(p.file()));
      h.append("<figure id=\"").append(esc(p.file())).append("\">\n<img src=\"data:image/png;base64,")
          .append(Base64.getEncoder().encodeToString(png)).append("\" alt=\"").append(esc(p.chart().getTitle()
              .getText())).append("\">\n<figcaption>").append(esc(p.caption())).append(". <a href=\"")
          .append(esc(p.file())).append("\">").append(esc(p.file())).append("</a></figcaption>\n</figure>\n");
    }
    h.append("</body>\n</html>\n");
    return h.toString();
  }

  static String esc(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '&' -> b.append("&amp;");
        case '"' -> b.append("&quot;");
        case '\'' -> b.append("&#39;");
        default -> b.append(c);
      }
    }
    return b.toString();
  }
}
