package io.tinyrec.report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;
import org.jfree.chart.JFreeChart;

/**
 * {@code tinyrec report}: reads a run (the scores and models topics of the streaming job, and/or
 * learn curves), and writes report.html with one PNG per plot: progressive AUC and NE over events
 * (whole run and window), model versions and snapshot sizes over time, and throughput. The demo
 * calls {@link #run} at its end; the command does the same.
 *
 * <p>From the scores topic the metrics are recomputed from the ScoredEvents themselves, in scoring
 * order, with the model module's {@link io.tinyrec.model.metrics.ProgressiveMetrics}: the same
 * numbers {@code learn} and the job's merger compute, independent of either. Stateless.
 */
public final class Report {
  /** The plot files, in page order. */
  public static final String AUC_PNG = "auc.png";
  public static final String NE_PNG = "ne.png";
  public static final String VERSIONS_PNG = "model-versions.png";
  public static final String SIZES_PNG = "snapshot-sizes.png";
  public static final String THROUGHPUT_PNG = "throughput.png";
  public static final String HTML = "report.html";

  private Report() {}

  /**
   * Reads the inputs and writes the report. Warnings about the inputs (bad records skipped) go to
   * {@code warn} as they are found, and into the page's notes.
   *
   * @throws IllegalArgumentException for an input that cannot be used at all (a missing file, a
   *     malformed curve line, a missing topic), with a message naming it
   */
  public static ReportResult run(ReportConfig cfg, Consumer<String> warn) throws IOException {
    return write(collect(cfg, warn), cfg);
  }

  /** Reads every input of {@code cfg} into curves and snapshots. */
  public static ReportData collect(ReportConfig cfg, Consumer<String> warn) throws IOException {
    List<RunCurve> runs = new ArrayList<>();
    List<SnapshotPoint> snaps = new ArrayList<>();
    List<String> notes = new ArrayList<>();
    Consumer<String> both = w -> {
      notes.add(w);
      warn.accept(w);
    };
    if (cfg.kafka() != null) {
      KafkaRunReader.Source src = cfg.kafka();
      KafkaRunReader.Result r = KafkaRunReader.read(src, both);
      long origin = Math.min(r.scores().firstTimeMs(),
          r.snapshots().isEmpty() ? Long.MAX_VALUE : r.snapshots().get(0).createdAtMs());
      if (origin == Long.MAX_VALUE) {
        origin = 0;
      }
      String servers = src.client().getProperty("bootstrap.servers");
      if (r.scores().size() > 0) {
        runs.add(r.scores().toCurve("job (topic " + src.scoresTopic() + ")", "topic " + src.scoresTopic() + " on "
            + servers, cfg.metricsWindow(), cfg.targetPoints(), origin));
      }
      for (SnapshotPoint p : r.snapshots()) {
        snaps.add(new SnapshotPoint(p.model(), p.version(), p.epoch(), p.createdAtMs(),
            (p.createdAtMs() - origin) / 1000.0, p.eventsTrained(), p.codecBytes(), p.auc(), p.windowAuc(),
            p.metricsWindow()));
      }
      notes.add(String.format(Locale.ROOT, "topic %s: %,d records, %,d scored events used, %,d without a label, "
              + "%,d undecodable (skipped)", src.scoresTopic(), r.scoreRecords(), r.scores().size() - r.scores()
              .unlabeled(), r.scores().unlabeled(), r.badScores()));
      if (src.modelsTopic() != null) {
        notes.add(String.format(Locale.ROOT, "topic %s: %,d records, %,d snapshots%s, %,d undecodable (skipped)%s",
            src.modelsTopic(), r.snapshotRecords(), r.snapshots().size(),
            src.modelName() == null ? "" : " of model " + src.modelName(), r.badSnapshots(),
            r.otherModels() > 0 ? String.format(Locale.ROOT, ", %,d of other models left out", r.otherModels()) : ""));
        if (r.snapshots().size() > 1) {
          notes.add("the models topic is compacted: once the broker compacts it, only the latest snapshot of each "
              + "model remains, so older versions may be missing from the plots");
        }
      }
      if (r.scores().size() == 0) {
        both.accept("topic " + src.scoresTopic() + " has no scored events: no metric curves from Kafka");
      }
    }
    for (Path f : cfg.learnCurves()) {
      RunCurve c = LearnCurveFile.read(f);
      if (c.points().size() == 1) {
        notes.add(f + ": one point only (a learn --json line?); run learn with --curve FILE for a curve");
      }
      runs.add(c);
    }
    if (cfg.driftAt().isPresent()) {
      for (RunCurve run : runs) {
        if (run.metricsWindow() > cfg.driftAt().getAsLong() / 4) {
          notes.add(String.format(Locale.ROOT, "%s: the metrics window (%,d events) is long next to the drift point "
                  + "(%,d): while the model is still learning, early events leaving the window can mask the drop; a "
                  + "window of about a tenth of the drift point shows it sharper (%s)", run.label(),
              run.metricsWindow(), cfg.driftAt().getAsLong(), run.source().startsWith("topic ")
                  ? "report --metrics-window" : "learn --metrics-window"));
        }
      }
    }
    return new ReportData(runs, snaps, notes);
  }

  /** Writes report.html and the PNGs for {@code data} into {@code cfg.outDir()}. */
  public static ReportResult write(ReportData data, ReportConfig cfg) throws IOException {
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
    Path dir = cfg.outDir();
    Files.createDirectories(dir);
    List<Optional<DriftAnalysis>> drifts = new ArrayList<>();
    for (RunCurve run : data.runs()) {
      drifts.add(cfg.driftAt().isPresent()
          ? DriftAnalysis.at(run, cfg.driftAt().getAsLong(), cfg.tolerance(), false)
          : DriftAnalysis.detect(run, cfg.tolerance()));
    }
    DriftAnalysis[] marks = drifts.stream().map(o -> o.orElse(null)).toArray(DriftAnalysis[]::new);
    List<Plot> plots = new ArrayList<>();
    if (!data.runs().isEmpty()) {
      plots.add(new Plot(AUC_PNG, "Progressive AUC over events: each event scored before the model learned from it; "
          + "solid over the sliding window, dashed over the whole run" + (data.snapshots().isEmpty() ? ""
          : "; dots: the window AUC the job's merger recorded in each snapshot"),
          Charts.metricOverEvents("Progressive AUC", "AUC", data, marks, CurvePoint::auc, CurvePoint::windowAuc,
              true, true, false)));
      plots.add(new Plot(NE_PNG, "Normalized entropy (log loss over the entropy of the click rate; lower is better), "
          + "window solid, whole run dashed; the axis fits the runs after their first 5% of events, so a fresh "
          + "model's first values run off the top",
          Charts.metricOverEvents("Normalized entropy", "NE", data, marks, CurvePoint::ne, CurvePoint::windowNe,
              false, false, true)));
    }
    if (!data.snapshots().isEmpty()) {
      plots.add(new Plot(VERSIONS_PNG, "Model versions published on the models topic over time",
          Charts.versions(data)));
      plots.add(new Plot(SIZES_PNG, "Size of each snapshot's model bytes over time", Charts.snapshotSizes(data)));
    }
    if (data.runs().stream().anyMatch(r -> !r.throughput().isEmpty())) {
      plots.add(new Plot(THROUGHPUT_PNG, "Events scored per second over wall-clock time", Charts.throughput(data)));
    }
    List<Path> pngs = new ArrayList<>();
    for (Plot p : plots) {
      Path f = dir.resolve(p.file());
      try {
        Charts.save(p.chart(), f, cfg.width(), cfg.height());
      } catch (Error | RuntimeException e) {
        // A JDK without fonts fails deep inside AWT; say what is missing.
        throw new IllegalStateException("cannot render " + f + ": " + e + ". Rendering needs a JDK with AWT and a "
            + "font it can find (on Debian: apt-get install fontconfig fonts-dejavu-core)", e);
      }
      pngs.add(f);
    }
    Path html = dir.resolve(HTML);
    Files.writeString(html, HtmlPage.render(cfg, data, drifts, plots));
    return new ReportResult(html, pngs, data, drifts, Summary.text(cfg, data, drifts, html, pngs.size()));
  }

  /** One plot of the page. */
  record Plot(String file, String caption, JFreeChart chart) {}
}
