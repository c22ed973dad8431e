package io.tinyrec.serving;

import io.tinyrec.model.ModelConfig;
import java.util.Map;

/**
 * What a loaded snapshot is, apart from its weights: the metadata of its ModelSnapshot record (or,
 * for a bare codec file, what the file and the codec header say) and where it came from. Immutable.
 *
 * @param modelName the model's name (the models topic's key)
 * @param version the snapshot's version, strictly increasing per model; 0 for a bare codec file,
 *     which carries none
 * @param epoch the merger's epoch; 0 for a bare codec file
 * @param createdAtMs when the job made the snapshot, epoch ms; a bare file's modification time
 * @param eventTimeWatermarkMs event-time watermark of the training stream, or Long.MIN_VALUE
 * @param eventsTrained events the model has learned from
 * @param config the model configuration from the codec (authoritative)
 * @param configMap the ModelSnapshot's config map as published (empty for a bare file)
 * @param metrics progressive metrics over all events trained, or null when not known
 * @param windowMetrics progressive metrics over the last {@code metricsWindow} events, or null
 * @param metricsWindow events in the window of windowMetrics (0 when not known)
 * @param codecBytes size of the model in the snapshot codec format
 * @param formatVersion the codec's format version (docs/snapshot-format.md)
 * @param optimizerState whether the codec carries optimizer state besides the weights
 * @param codecCrc the CRC-32 the codec stores in its last 4 bytes, of every byte before them: it
 *     identifies the weights (the CRC of the whole codec, which ModelSnapshot.checksum carries, is
 *     the same constant 2144df1c for every intact codec, since it covers the codec's own CRC)
 * @param source where it was read: "topic models partition 0 offset 41" or "file model.trsn"
 */
public record SnapshotInfo(String modelName, long version, long epoch, long createdAtMs, long eventTimeWatermarkMs,
    long eventsTrained, ModelConfig config, Map<String, String> configMap, Metrics metrics, Metrics windowMetrics,
    long metricsWindow, int codecBytes, int formatVersion, boolean optimizerState, long codecCrc, String source) {

  public SnapshotInfo {
    configMap = Map.copyOf(configMap);
  }

  /**
   * Progressive-validation metrics as the snapshot carries them (NaN where undefined).
   *
   * @param count events scored
   * @param auc area under the ROC curve
   * @param logloss mean binary cross-entropy
   * @param ne normalized entropy
   * @param calibration sum of scores over sum of clicks
   */
  public record Metrics(long count, double auc, double logloss, double ne, double calibration) {}
}
