package io.tinyrec.model.sync;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * What a learner had learned and the merger had not seen when a checkpoint was taken: its change
 * (an encoded {@link ChunkDelta} with before-values, possibly empty of chunks), with the scores,
 * labels and counts of the events behind it. A learner restored from it sends it as an update.
 *
 * <p>Layout (big-endian, as {@link DataOutput} writes): i32 delta length and the delta; i32 count
 * n, then n pairs of (f32 score, u8 label); i64 events trained, i64 updates skipped, i64 latest
 * event time. The learner's checkpoint wraps it with a magic number and a version.
 */
public record UnsentWork(byte[] delta, float[] scores, byte[] labels, long trained, long skipped, long maxEventTime) {
  /** Nothing: no change, no events. */
  public static UnsentWork none() {
    return new UnsentWork(new byte[0], new float[0], new byte[0], 0, 0, Long.MIN_VALUE);
  }

  /** No change and no counts: restoring it sends nothing. */
  public boolean isEmpty(ModelTensors layout) {
    return scores.length == 0 && trained == 0 && skipped == 0
        && (delta.length == 0 || ChunkDelta.decode(delta, layout).isEmpty());
  }

  public void writeTo(DataOutput o) throws IOException {
    o.writeInt(delta.length);
    o.write(delta);
    o.writeInt(scores.length);
    for (int i = 0; i < scores.length; i++) {
      o.writeFloat(scores[i]);
      o.writeByte(labels[i]);
    }
    o.writeLong(trained);
    o.writeLong(skipped);
    o.writeLong(maxEventTime);
  }

  /** Reads what {@link #writeTo} wrote; {@code limit} bounds the lengths it believes. */
  public static UnsentWork readFrom(DataInput in, int limit) throws IOException {
    int len = in.readInt();
    if (len < 0 || len > limit) {
      throw new IOException("unsent work claims a delta of " + len + " bytes (at most " + limit + " fit)");
    }
    byte[] delta = new byte[len];
    in.readFully(delta);
    int n = in.readInt();
    if (n < 0 || n > limit / 5) {
      throw new IOException("unsent work claims " + n + " scores (at most " + limit / 5 + " fit)");
    }
    float[] scores = new float[n];
    byte[] labels = new byte[n];
    for (int i = 0; i < n; i++) {
      scores[i] = in.readFloat();
      labels[i] = in.readByte();
    }
    return new UnsentWork(delta, scores, labels, in.readLong(), in.readLong(), in.readLong());
  }
}
