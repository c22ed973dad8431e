package io.tinyrec.model.sync;

/**
 * What a learner sends the merger: its change to the model since its last update (a
 * {@link io.tinyrec.model.sync.ChunkDelta} with before-values), and the progressive-validation
 * results of the events behind it.
 */
public class LearnerUpdate {
  /** Learner subtask index. */
  public int learner;
  /** The epoch the learner runs in (the checkpoint id it was restored from, 0 on a fresh start). */
  public long epoch;
  /**
   * Not a change: a learner restored from a checkpoint asks for the epoch's full model, which it
   * needs before it can train (the merger may have sent it already).
   */
  public boolean requestsFull;
  /** Per-learner sequence number within the epoch, from 0. */
  public long seq;
  /** The encoded ChunkDelta (may be empty of chunks). */
  public byte[] delta;
  /** Scores and labels (0/1) of the labelled events scored since the last update, in order. */
  public float[] scores;
  public byte[] labels;
  /** Labelled events trained on (including those in skipped updates) since the last update. */
  public long eventsTrained;
  /** Batches whose update was skipped for a non-finite loss or gradient, since the last update. */
  public long skippedUpdates;
  /** Latest event time seen by this learner, epoch ms (Long.MIN_VALUE if none). */
  public long maxEventTime;
  /** The learner's input has ended: this is its final update. */
  public boolean last;

  public LearnerUpdate() {}
}
