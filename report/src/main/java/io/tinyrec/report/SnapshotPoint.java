package io.tinyrec.report;

/**
 * What the report keeps of one ModelSnapshot on the models topic: its metadata, not its weights.
 *
 * @param model the model name (the record key)
 * @param version the snapshot's version
 * @param epoch the merger epoch (it increases on each restore)
 * @param createdAtMs wall-clock creation time, epoch milliseconds
 * @param seconds creation time in seconds since the report's time origin
 * @param eventsTrained events the model had learned from
 * @param codecBytes size of the snapshot codec bytes (the model itself)
 * @param auc the merger's progressive AUC over all events trained
 * @param windowAuc the merger's progressive AUC over its last {@code metricsWindow} events
 * @param metricsWindow the merger's window size
 */
public record SnapshotPoint(String model, long version, long epoch, long createdAtMs, double seconds,
    long eventsTrained, long codecBytes, double auc, double windowAuc, long metricsWindow) {}
