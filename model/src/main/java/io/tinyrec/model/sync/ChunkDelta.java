package io.tinyrec.model.sync;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.zip.CRC32;

/**
 * A sparse change to a model: for each of its {@link ModelTensors} arrays, the chunks that changed,
 * with their new values ("after") and, for a learner's update, the values they had before it.
 *
 * <p>Merging is three-way, element by element ({@link #mergeInto}): where the authoritative value
 * still equals "before", nobody else changed it and it becomes "after" exactly; where it moved,
 * the learner's change {@code after - before} is added to it. With one learner every value takes
 * the first branch, so the merged model is the learner's model bit for bit; with several, the
 * changes add up as in data-parallel SGD.
 *
 * <p>Wire form (little-endian): magic "TRDL", u8 hasBefore, i32 arrays, then per array: i32 chunk
 * count, the chunk indices (i32, increasing), the "after" floats of those chunks in order, and the
 * "before" floats if present; then a CRC-32 of everything before it. Immutable once built.
 */
public final class ChunkDelta {
  private static final byte[] MAGIC = {'T', 'R', 'D', 'L'};
  private final int[][] chunks;
  private final float[][] after;
  private final float[][] before;

  private ChunkDelta(int[][] chunks, float[][] after, float[][] before) {
    this.chunks = chunks;
    this.after = after;
    this.before = before;
  }

  /**
   * The chunks where {@code now} differs from {@code base} (bitwise), with now's values as "after"
   * and, if {@code withBefore}, base's as "before".
   */
  public static ChunkDelta between(ModelTensors base, ModelTensors now, boolean withBefore) {
    base.requireSameLayout(now);
    int n = now.tensorCount();
    int[][] idx = new int[n][];
    float[][] aft = new float[n][];
    float[][] bef = withBefore ? new float[n][] : null;
    for (int i = 0; i < n; i++) {
      float[] x = base.array(i);
      float[] y = now.array(i);
      int len = now.chunkLength(i);
      int count = now.chunkCount(i);
      int[] found = new int[count];
      int k = 0;
      for (int c = 0; c < count; c++) {
        int from = c * len;
        int to = Math.min(y.length, from + len);
        for (int j = from; j < to; j++) {
          if (Float.floatToRawIntBits(x[j]) != Float.floatToRawIntBits(y[j])) {
            found[k++] = c;
            break;
          }
        }
      }
      idx[i] = Arrays.copyOf(found, k);
      aft[i] = gather(y, len, idx[i]);
      if (withBefore) {
        bef[i] = gather(x, len, idx[i]);
      }
    }
    return new ChunkDelta(idx, aft, bef);
  }

  private static float[] gather(float[] src, int len, int[] idx) {
    int total = 0;
    for (int c : idx) {
      total += Math.min(len, src.length - c * len);
    }
    float[] out = new float[total];
    int p = 0;
    for (int c : idx) {
      int from = c * len;
      int m = Math.min(len, src.length - from);
      System.arraycopy(src, from, out, p, m);
      p += m;
    }
    return out;
  }

  public boolean hasBefore() {
    return before != null;
  }

  /** Number of changed chunks over all arrays. */
  public int chunkCount() {
    int n = 0;
    for (int[] c : chunks) {
      n += c.length;
    }
    return n;
  }

  public boolean isEmpty() {
    return chunkCount() == 0;
  }

  /**
   * Merges this learner's change into the authoritative model, three-way (see the class comment),
   * and returns the merged values of the chunks it touched, as an after-only delta for the sync.
   */
  public ChunkDelta mergeInto(ModelTensors model) {
    if (before == null) {
      throw new IllegalStateException("a three-way merge needs the values before the change");
    }
    requireLayout(model);
    float[][] merged = new float[chunks.length][];
    // Accumulators first: a weight change that meets other learners' changes is scaled by them.
    for (int pass = 0; pass < 2; pass++) {
      for (int i = 0; i < chunks.length; i++) {
        if (model.isState(i) == (pass == 0)) {
          mergeArray(model, i);
          merged[i] = gather(model.array(i), model.chunkLength(i), chunks[i]);
        }
      }
    }
    return new ChunkDelta(chunks, merged, null);
  }

  /**
   * Three-way merge of one array. Where another learner moved a value, this learner's change is
   * added; for a weight with an Adagrad accumulator the change is first scaled by
   * sqrt(this learner's accumulator / the merged one): the step it would have taken had it seen the
   * other learners' squared gradients too. Without this, N learners that each take Adagrad's
   * normalised step move a parameter N times as far as sequential training would.
   */
  private void mergeArray(ModelTensors model, int i) {
    float[] g = model.array(i);
    int len = model.chunkLength(i);
    float[] a = after[i];
    float[] b = before[i];
    int s = model.stateOf(i);
    float[] acc = s < 0 ? null : model.array(s);
    // A weight chunk's accumulators are chunk c of the state array too: one float per chunk
    // (row-wise) or one per weight (element-wise and dense, same chunk length).
    int stateLen = s < 0 ? 0 : model.chunkLength(s);
    boolean perChunkState = stateLen == 1 && len > 1;
    int p = 0;
    for (int c : chunks[i]) {
      int from = c * len;
      int to = Math.min(g.length, from + len);
      // Where this learner's accumulators for the chunk sit in its "after" values; -1 if unchanged.
      int statePos = -1;
      if (acc != null) {
        int pos = Arrays.binarySearch(chunks[s], c);
        statePos = pos < 0 ? -1 : pos * stateLen;
      }
      for (int j = from; j < to; j++, p++) {
        if (Float.floatToRawIntBits(g[j]) == Float.floatToRawIntBits(b[p])) {
          g[j] = a[p];
        } else {
          float change = a[p] - b[p];
          if (statePos >= 0) {
            int k = perChunkState ? c : j;
            float mine = after[s][perChunkState ? statePos : statePos + (j - from)];
            float all = acc[k];
            if (all > mine) {
              change *= (float) Math.sqrt(mine / all);
            }
          }
          g[j] += change;
        }
      }
    }
  }

  /** The model's current values of this delta's chunks, as an after-only delta (to undo or compare). */
  public ChunkDelta valuesIn(ModelTensors model) {
    requireLayout(model);
    float[][] now = new float[chunks.length][];
    for (int i = 0; i < chunks.length; i++) {
      now[i] = gather(model.array(i), model.chunkLength(i), chunks[i]);
    }
    return new ChunkDelta(chunks, now, null);
  }

  /**
   * {@link #rebase} restricted to this delta's chunks: the global model moved from {@code old}'s
   * values to this delta's, and {@code target} follows, keeping its own changes on top.
   */
  public void rebaseChunks(ModelTensors target, ChunkDelta old) {
    requireLayout(target);
    for (int i = 0; i < chunks.length; i++) {
      float[] t = target.array(i);
      int len = target.chunkLength(i);
      float[] nw = after[i];
      float[] od = old.after[i];
      int p = 0;
      for (int c : chunks[i]) {
        int from = c * len;
        int to = Math.min(t.length, from + len);
        for (int j = from; j < to; j++, p++) {
          int tb = Float.floatToRawIntBits(t[j]);
          int ob = Float.floatToRawIntBits(od[p]);
          if (tb == ob) {
            t[j] = nw[p];
          } else if (Float.floatToRawIntBits(nw[p]) != ob) {
            t[j] = nw[p] + (t[j] - od[p]);
          }
        }
      }
    }
  }

  /** Sets the touched chunks of the model to this delta's "after" values (how a sync is applied). */
  public void overwrite(ModelTensors model) {
    requireLayout(model);
    for (int i = 0; i < chunks.length; i++) {
      float[] g = model.array(i);
      int len = model.chunkLength(i);
      int p = 0;
      for (int c : chunks[i]) {
        int from = c * len;
        int m = Math.min(len, g.length - from);
        System.arraycopy(after[i], p, g, from, m);
        p += m;
      }
    }
  }

  /**
   * Moves a learner onto a new global model while keeping its own unmerged work. {@code sentPoint}
   * is the learner's model as it was when its last update left (so the global model includes
   * everything up to there). Element by element: untouched since then, the local value becomes the
   * global one; touched, it keeps the local change on top of the global value, exactly (no
   * arithmetic) where the global value equals the sent point.
   */
  public static void rebase(ModelTensors local, ModelTensors sentPoint, ModelTensors global) {
    local.requireSameLayout(sentPoint);
    local.requireSameLayout(global);
    for (int i = 0; i < local.tensorCount(); i++) {
      float[] l = local.array(i);
      float[] s = sentPoint.array(i);
      float[] g = global.array(i);
      for (int j = 0; j < l.length; j++) {
        int lb = Float.floatToRawIntBits(l[j]);
        int sb = Float.floatToRawIntBits(s[j]);
        if (lb == sb) {
          l[j] = g[j];
        } else if (Float.floatToRawIntBits(g[j]) != sb) {
          l[j] = g[j] + (l[j] - s[j]);
        }
      }
    }
  }

  private void requireLayout(ModelTensors model) {
    if (model.tensorCount() != chunks.length) {
      throw new IllegalArgumentException("delta has " + chunks.length + " arrays, the model " + model.tensorCount());
    }
    for (int i = 0; i < chunks.length; i++) {
      int count = model.chunkCount(i);
      for (int c : chunks[i]) {
        if (c < 0 || c >= count) {
          throw new IllegalArgumentException("delta chunk " + c + " of array " + i + " is outside the model's "
              + count + " chunks");
        }
      }
    }
  }

  /** The wire form (see the class comment). */
  public byte[] encode() {
    long size = 4 + 1 + 4 + 4;
    for (int i = 0; i < chunks.length; i++) {
      size += 4 + 4L * chunks[i].length + 4L * after[i].length * (before == null ? 1 : 2);
    }
    ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(size)).order(ByteOrder.LITTLE_ENDIAN);
    b.put(MAGIC).put((byte) (before == null ? 0 : 1)).putInt(chunks.length);
    for (int i = 0; i < chunks.length; i++) {
      b.putInt(chunks[i].length);
      b.asIntBuffer().put(chunks[i]);
      b.position(b.position() + 4 * chunks[i].length);
      b.asFloatBuffer().put(after[i]);
      b.position(b.position() + 4 * after[i].length);
      if (before != null) {
        b.asFloatBuffer().put(before[i]);
        b.position(b.position() + 4 * before[i].length);
      }
    }
    CRC32 crc = new CRC32();
    crc.update(b.array(), 0, b.position());
    b.putInt((int) crc.getValue());
    return b.array();
  }

  /**
   * Reads the wire form; {@code layout} gives the chunk lengths (any model of the same config).
   * Throws IllegalArgumentException naming what is wrong.
   */
  public static ChunkDelta decode(byte[] bytes, ModelTensors layout) {
    if (bytes.length < 13 || !Arrays.equals(Arrays.copyOf(bytes, 4), MAGIC)) {
      throw new IllegalArgumentException("not a model delta (" + bytes.length + " bytes, no TRDL magic)");
    }
    CRC32 crc = new CRC32();
    crc.update(bytes, 0, bytes.length - 4);
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    if ((int) crc.getValue() != b.getInt(bytes.length - 4)) {
      throw new IllegalArgumentException("model delta checksum mismatch: the " + bytes.length + " bytes are corrupt");
    }
    b.position(4);
    boolean hasBefore = b.get() != 0;
    int n = b.getInt();
    if (n != layout.tensorCount()) {
      throw new IllegalArgumentException("model delta has " + n + " arrays, the model has " + layout.tensorCount());
    }
    try {
      int[][] idx = new int[n][];
      float[][] aft = new float[n][];
      float[][] bef = hasBefore ? new float[n][] : null;
      for (int i = 0; i < n; i++) {
        int k = b.getInt();
        if (k < 0 || k > layout.chunkCount(i)) {
          throw new IllegalArgumentException("model delta names " + k + " chunks of array " + i + ", which has "
              + layout.chunkCount(i));
        }
        idx[i] = new int[k];
        b.asIntBuffer().get(idx[i]);
        b.position(b.position() + 4 * k);
        int len = layout.chunkLength(i);
        int total = 0;
        int arrayLen = layout.array(i).length;
        for (int c : idx[i]) {
          if (c < 0 || c >= layout.chunkCount(i)) {
            throw new IllegalArgumentException("model delta chunk " + c + " is outside array " + i);
          }
          total += Math.min(len, arrayLen - c * len);
        }
        aft[i] = new float[total];
        b.asFloatBuffer().get(aft[i]);
        b.position(b.position() + 4 * total);
        if (hasBefore) {
          bef[i] = new float[total];
          b.asFloatBuffer().get(bef[i]);
          b.position(b.position() + 4 * total);
        }
      }
      if (b.remaining() != 4) {
        throw new IllegalArgumentException("model delta has " + (b.remaining() - 4) + " unexpected trailing bytes");
      }
      return new ChunkDelta(idx, aft, bef);
    } catch (BufferUnderflowException e) {
      throw new IllegalArgumentException("model delta is truncated", e);
    }
  }
}
