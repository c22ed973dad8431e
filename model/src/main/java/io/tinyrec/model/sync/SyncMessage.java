package io.tinyrec.model.sync;

/** A decoded ModelSync message, as the learners' broadcast side sees it. */
public class SyncMessage {
  public long epoch;
  public long version;
  /** True for a whole model, false for a delta on {@link #baseVersion}. */
  public boolean full;
  public long baseVersion;
  /** The model (full) or the merged chunks (delta), in model/'s formats. */
  public byte[] payload;
  public long eventsTrained;
  /** Per learner subtask, its latest update included in this version (-1 if none). */
  public long[] mergedSeq;
  /** The final message of a bounded run. */
  public boolean last;

  public SyncMessage() {}

  /** The sequence number of {@code learner}'s latest update included in this version, or -1. */
  public long mergedSeqOf(int learner) {
    return mergedSeq != null && learner < mergedSeq.length ? mergedSeq[learner] : -1;
  }
}
