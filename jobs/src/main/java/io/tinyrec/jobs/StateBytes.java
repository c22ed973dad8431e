package io.tinyrec.jobs;

import java.io.ByteArrayOutputStream;

/**
 * Sizes the buffer an operator serialises its checkpointed state into. The learner's and the
 * merger's states are tens of MB (model, optimizer state, base copy); a ByteArrayOutputStream grown
 * from 1 MB by doubling allocates and copies about twice the state again on every checkpoint, as
 * humongous arrays. Sized from the last checkpoint's state plus an eighth, it usually allocates
 * once.
 */
public final class StateBytes {
  private static final int MIN = 1 << 20;

  private StateBytes() {}

  /** A buffer with room for a state of lastSize bytes and an eighth more (at least 1 MB). */
  public static ByteArrayOutputStream bufferFor(int lastSize) {
    long want = (long) lastSize + (lastSize >> 3);
    return new ByteArrayOutputStream((int) Math.min(Integer.MAX_VALUE - 8, Math.max(MIN, want)));
  }
}
