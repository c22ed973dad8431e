package io.tinyrec.report;

import java.util.List;

/**
 * Everything one report shows: the runs' curves, the model snapshots, and notes on the inputs
 * (records skipped and why). Immutable.
 *
 * @param runs one curve per run, overlaid on the metric plots
 * @param snapshots model snapshots in the order of their creation time (empty without a models topic)
 * @param notes remarks about the inputs for people, e.g. "3 undecodable records skipped"
 */
public record ReportData(List<RunCurve> runs, List<SnapshotPoint> snapshots, List<String> notes) {
  public ReportData {
    runs = List.copyOf(runs);
    snapshots = List.copyOf(snapshots);
    notes = List.copyOf(notes);
  }
}
