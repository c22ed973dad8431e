package io.tinyrec.report;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A written report: the page, the plots, what they show, and the text summary printed by the
 * command. Immutable.
 *
 * @param html the report.html file
 * @param pngs one PNG per plot, in page order
 * @param data the curves and snapshots plotted
 * @param drifts per run (same order as {@code data.runs()}): the drift analysis, if a drift was given or found
 * @param summary a few lines for a terminal
 */
public record ReportResult(Path html, List<Path> pngs, ReportData data, List<Optional<DriftAnalysis>> drifts,
    String summary) {
  public ReportResult {
    pngs = List.copyOf(pngs);
    drifts = List.copyOf(drifts);
  }
}
