package io.tinyrec.serving;

/**
 * One model ready to serve: its metadata and its scorer, swapped in and out as a whole. A request
 * that reads the current ServedModel once scores every row with that one version. Immutable.
 *
 * @param info what the snapshot is and where it came from
 * @param scorer the thread-safe scorer of its weights
 * @param loadedAtMs when this process finished loading it, epoch ms
 */
public record ServedModel(SnapshotInfo info, Scorer scorer, long loadedAtMs) {
  /** Milliseconds since the snapshot was created (by the job, or the file's modification time). */
  public long ageMillis(long nowMs) {
    return Math.max(0, nowMs - info.createdAtMs());
  }
}
