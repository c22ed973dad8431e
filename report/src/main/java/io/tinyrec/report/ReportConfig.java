package io.tinyrec.report;

import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;

/**
 * The settings of one report, validated: where to write it, what to read, and how to analyse it.
 *
 * @param outDir directory for report.html and the PNGs (created if missing)
 * @param title the page's heading
 * @param kafka the scores and models topics to read, or null
 * @param learnCurves files written by {@code learn --curve} (or {@code learn --json}), overlaid as runs
 * @param metricsWindow events in the sliding window when metrics are recomputed from the scores topic
 * @param driftAt the event index of a known drift; empty to look for one ({@link DriftAnalysis#detect})
 * @param tolerance how close to the pre-drift window AUC counts as recovered
 * @param targetPoints about how many points a curve recomputed from the scores topic gets
 * @param width width of each PNG, pixels
 * @param height height of each PNG, pixels
 */
public record ReportConfig(Path outDir, String title, KafkaRunReader.Source kafka, List<Path> learnCurves,
    int metricsWindow, OptionalLong driftAt, double tolerance, int targetPoints, int width, int height) {

  public static final int DEFAULT_METRICS_WINDOW = 100_000;
  public static final double DEFAULT_TOLERANCE = 0.01;

  public ReportConfig {
    learnCurves = learnCurves == null ? List.of() : List.copyOf(learnCurves);
    driftAt = driftAt == null ? OptionalLong.empty() : driftAt;
    if (outDir == null) {
      throw new IllegalArgumentException("--out is required: the directory the report is written to");
    }
    if (kafka == null && learnCurves.isEmpty()) {
      throw new IllegalArgumentException("nothing to report: give --bootstrap-servers (scores and models topics) "
          + "or --learn-json FILE..., or both");
    }
    if (metricsWindow < 1) {
      throw new IllegalArgumentException("--metrics-window must be >= 1 event, got " + metricsWindow);
    }
    if (driftAt.isPresent() && driftAt.getAsLong() < 1) {
      throw new IllegalArgumentException("--drift-at must be >= 1 (an event index), got " + driftAt.getAsLong());
    }
    if (!(tolerance > 0 && tolerance < 1)) {
      throw new IllegalArgumentException("--recovery-tolerance must be in (0, 1), got " + tolerance);
    }
    if (targetPoints < 10) {
      throw new IllegalArgumentException("a curve needs >= 10 points, got " + targetPoints);
    }
    if (width < 200 || height < 150) {
      throw new IllegalArgumentException("plots must be at least 200 x 150 pixels, got " + width + " x " + height);
    }
  }

  /** The defaults: 100,000-event window, tolerance 0.01, 500 points, 1000 x 500 plots, no drift given. */
  public static ReportConfig of(Path outDir, KafkaRunReader.Source kafka, List<Path> learnCurves) {
    return new ReportConfig(outDir, "tinyrec report", kafka, learnCurves, DEFAULT_METRICS_WINDOW,
        OptionalLong.empty(), DEFAULT_TOLERANCE, 500, 1000, 500);
  }

  public ReportConfig withDriftAt(long k) {
    return new ReportConfig(outDir, title, kafka, learnCurves, metricsWindow, OptionalLong.of(k), tolerance,
        targetPoints, width, height);
  }

  public ReportConfig withTitle(String t) {
    return new ReportConfig(outDir, t, kafka, learnCurves, metricsWindow, driftAt, tolerance, targetPoints, width,
        height);
  }

  public ReportConfig withMetricsWindow(int w) {
    return new ReportConfig(outDir, title, kafka, learnCurves, w, driftAt, tolerance, targetPoints, width, height);
  }
}
