package io.tinyrec.replay;

import java.nio.file.Path;
import java.util.List;

/**
 * What a replay did. Every row read was either produced or rejected; every produced record was
 * either acknowledged by Kafka or failed (or, after an abort, neither: then {@link #allAcknowledged()}
 * is false).
 *
 * @param rowsRead non-blank lines (or synthetic rows) taken from the input
 * @param produced records handed to the producer
 * @param acknowledged records Kafka acknowledged (acks=all)
 * @param rejected malformed lines, written to --rejects when given
 * @param failed records Kafka did not take
 * @param valueBytes total size of the produced values
 * @param keyBytes total size of the produced keys
 * @param seconds wall-clock time from the start (the producer created, as ProducerPerformance counts) to the last
 *     acknowledgement
 * @param countSeconds part of {@code seconds} spent waiting for input lines to be counted (the pass
 *     that lays out event times when --rows-per-day is not given)
 * @param stopped whether the replay stopped before the end of its input (Ctrl-C or a failure)
 * @param firstError the first failure's message, or null
 * @param resume where to resume, or null when the whole input was replayed and acknowledged
 */
public record ReplaySummary(long rowsRead, long produced, long acknowledged, long rejected, long failed,
    long valueBytes, long keyBytes, double seconds, double countSeconds, boolean stopped, String firstError, Resume resume) {

  /**
   * The flags that continue an unfinished replay with identical event ids and times.
   *
   * @param inputs the files still to replay, starting with the one to resume in (empty for synthetic)
   * @param fromLine the first line not yet acknowledged in the first of them
   * @param startDay the day of that file's first line
   */
  public record Resume(List<Path> inputs, long fromLine, int startDay) {}

  /** True when every produced record was acknowledged. */
  public boolean allAcknowledged() {
    return failed == 0 && acknowledged == produced;
  }

  /** Rows per second while replaying: over {@code seconds} less the counting pass. */
  public double rowsPerSecond() {
    double t = seconds - countSeconds;
    return t > 0 ? rowsRead / t : 0;
  }
}
