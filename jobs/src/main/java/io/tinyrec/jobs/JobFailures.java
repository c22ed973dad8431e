package io.tinyrec.jobs;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * What a failed job's exception means to the person running it, in one sentence with what to do.
 * Flink wraps the cause of a failure many levels deep: a full checkpoint disk surfaces as
 * "Exceeded checkpoint tolerable failure threshold", with "No space left on device" among hundreds
 * of lines of causes.
 */
public final class JobFailures {
  private JobFailures() {}

  /**
   * One line for a failure this class recognises, or empty (then the caller reports the exception
   * as it is).
   *
   * @param failure what the job's result threw
   * @param checkpointDir where the job wrote its checkpoints
   * @param latestCheckpoint the newest retained checkpoint, if any, to resume from
   */
  public static Optional<String> explain(Throwable failure, Path checkpointDir, Optional<Path> latestCheckpoint) {
    return explain(failure, checkpointDir, latestCheckpoint, false);
  }

  /**
   * As above; {@code diskFull}: the checkpoint directory's disk has no room for another checkpoint
   * now. Flink's "tolerable failure threshold" failure carries no cause (the I/O errors are in its
   * checkpoint history and its log), so that is how a full disk is told from other causes.
   */
  public static Optional<String> explain(Throwable failure, Path checkpointDir, Optional<Path> latestCheckpoint,
      boolean diskFull) {
    String resume = latestCheckpoint.map(p -> " Then resume with --restore-from " + p + ".").orElse("");
    // The deepest cause that says what happened wins over the wrappers around it.
    boolean threshold = false;
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      String m = t.getMessage() == null ? "" : t.getMessage();
      String lower = m.toLowerCase(Locale.ROOT);
      if (lower.contains("no space left on device") || lower.contains("disk quota exceeded")) {
        return Optional.of("the job stopped: writing a checkpoint to " + checkpointDir + " failed: the disk is full ("
            + firstLine(m) + "). Free space there, or give --checkpoint-dir a larger disk." + resume);
      }
      if (t instanceof java.nio.file.AccessDeniedException || lower.contains("permission denied")) {
        return Optional.of("the job stopped: it may not write its checkpoints to " + checkpointDir + " ("
            + firstLine(m) + "). Give it a directory it can write to." + resume);
      }
      if (t instanceof org.apache.flink.runtime.execution.SuppressRestartsException && t.getCause() != null) {
        return Optional.of("the job stopped: " + firstLine(t.getCause().getMessage()));
      }
      threshold |= lower.contains("exceeded checkpoint tolerable failure threshold");
    }
    if (threshold) {
      return Optional.of(diskFull
          ? "the job stopped: its checkpoints to " + checkpointDir + " kept failing because the disk is full. Free "
              + "space there, or give --checkpoint-dir a larger disk." + resume
          : "the job stopped: its checkpoints to " + checkpointDir + " kept failing (the log above says why for "
              + "each)." + resume);
    }
    return Optional.empty();
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return (nl < 0 ? s : s.substring(0, nl)).trim();
  }
}
