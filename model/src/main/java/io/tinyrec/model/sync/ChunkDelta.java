package io.tinyrec.model.sync;

import io.tinyrec.model.nn.QuantizedArray;
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
 * <p>A quantized embedding ({@link ModelTensors#lines()}) is carried as whole lines: each line
 * training changed since the last send ({@link QuantizedArray#isDirty}) whose record differs,
 * after (and before), in the line's form (FP32 if cached, else codes and scales), so that where
 * nobody else moved a line it arrives bit for bit; the merge, the rebase and
 * {@link #rebaseChunks} follow the same three rules as for floats, on whole records first and on
 * the lines' float32 values where arithmetic is needed. The merger takes a line in the form the
 * learner sent it (a merged result cached if sent cached, else re-quantized with stochastic
 * rounding); a learner keeps its own form of every line, so its cache stays its policy's.
 *
 * <p>Wire form (little-endian): magic "TRDL", u8 hasBefore, i32 arrays, then per array: i32 chunk
 * count, the chunk indices (i32, increasing), the "after" floats of those chunks in order, and the
 * "before" floats if present; then, for a quantized embedding only: i32 line count, the line
 * indices (i32, increasing), i32 byte length and the "after" records, and the same for the
 * "before" records if present; then a CRC-32 of everything before it. Immutable once built.
 */
public final class ChunkDelta {
  private static final byte[] MAGIC = {'T', 'R', 'D', 'L'};
  private static final byte[] NO_BYTES = new byte[0];
  private final int[][] chunks;
  private final float[][] after;
  private final float[][] before;
  /**
   * Changed lines of a quantized embedding (increasing), and their records concatenated; lines is
   * null when the model has no quantized embedding (and the wire form then has no line section).
   */
  private final int[] lines;
  private final byte[] linesAfter;
  private final byte[] linesBefore;

  private ChunkDelta(int[][] chunks, float[][] after, float[][] before) {
    this(chunks, after, before, null, NO_BYTES, before == null ? null : NO_BYTES);
  }

  private ChunkDelta(int[][] chunks, float[][] after, float[][] before, int[] lines, byte[] linesAfter,
      byte[] linesBefore) {
    this.chunks = chunks;
    this.after = after;
    this.before = before;
    this.lines = lines;
    this.linesAfter = linesAfter;
    this.linesBefore = linesBefore;
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
      int len = now.chunkLength(i);
      idx[i] = changedChunks(base.array(i), now.array(i), len);
      aft[i] = gather(now.array(i), len, idx[i]);
      if (withBefore) {
        bef[i] = gather(base.array(i), len, idx[i]);
      }
    }
    QuantizedArray q = now.lines();
    if (q == null) {
      return new ChunkDelta(idx, aft, bef);
    }
    QuantizedArray old = base.lines();
    int[] changed = new int[16];
    int k = 0;
    Records a = new Records(q);
    Records b = withBefore ? new Records(q) : null;
    for (int l = 0; l < q.numLines(); l++) {
      // Only lines training changed since the last send (a line whose form differs from the base
      // because of sync alone is not a change to report).
      if (q.isDirty(l) && !q.lineEquals(l, old)) {
        if (k == changed.length) {
          changed = Arrays.copyOf(changed, k * 2);
        }
        changed[k++] = l;
        a.add(q, l);
        if (withBefore) {
          b.add(old, l);
        }
      }
    }
    return new ChunkDelta(idx, aft, bef, Arrays.copyOf(changed, k), a.bytes(), withBefore ? b.bytes() : null);
  }

  /**
   * {@code between(base, now, withBefore).encode()} without building the delta first: the wire
   * form straight from the two models' arrays (one pass less over a delta that, for a learner's
   * update of the kaggle preset, is about 10 MB). Byte for byte the same.
   */
  public static byte[] encodeBetween(ModelTensors base, ModelTensors now, boolean withBefore) {
    if (now.lines() != null) {
      return between(base, now, withBefore).encode();
    }
    base.requireSameLayout(now);
    int n = now.tensorCount();
    int[][] idx = new int[n][];
    long size = 4 + 1 + 4 + 4;
    for (int i = 0; i < n; i++) {
      idx[i] = changedChunks(base.array(i), now.array(i), now.chunkLength(i));
      size += 4 + 4L * idx[i].length + 4L * floatsIn(now.array(i).length, now.chunkLength(i), idx[i])
          * (withBefore ? 2 : 1);
    }
    ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(size)).order(ByteOrder.LITTLE_ENDIAN);
    b.put(MAGIC).put((byte) (withBefore ? 1 : 0)).putInt(n);
    for (int i = 0; i < n; i++) {
      b.putInt(idx[i].length);
      b.asIntBuffer().put(idx[i]);
      b.position(b.position() + 4 * idx[i].length);
      putChunks(b, now.array(i), now.chunkLength(i), idx[i]);
      if (withBefore) {
        putChunks(b, base.array(i), now.chunkLength(i), idx[i]);
      }
    }
    CRC32 crc = new CRC32();
    crc.update(b.array(), 0, b.position());
    b.putInt((int) crc.getValue());
    return b.array();
  }

  private static void putChunks(ByteBuffer b, float[] src, int len, int[] idx) {
    java.nio.FloatBuffer f = b.asFloatBuffer();
    int floats = 0;
    // Runs of consecutive chunks go in one copy.
    for (int r = 0; r < idx.length; ) {
      int first = idx[r];
      int last = first;
      while (r + 1 < idx.length && idx[r + 1] == last + 1) {
        last = idx[++r];
      }
      r++;
      int from = first * len;
      int to = Math.min(src.length, (last + 1) * len);
      f.put(src, from, to - from);
      floats += to - from;
    }
    b.position(b.position() + 4 * floats);
  }

  private static long floatsIn(int arrayLength, int len, int[] idx) {
    long total = 0;
    for (int c : idx) {
      total += Math.min(len, arrayLength - c * len);
    }
    return total;
  }

  /**
   * The chunks of length {@code len} where y differs from x, increasing. Arrays.mismatch compares
   * in vector registers; it finds the next changed value, which marks its chunk, and the scan goes
   * on from the next chunk. Its comparison is Float.floatToIntBits's: bitwise, but for NaNs, which
   * a trained model does not hold.
   */
  private static int[] changedChunks(float[] x, float[] y, int len) {
    int count = (y.length + len - 1) / len;
    int[] found = new int[Math.max(1, Math.min(count, 1024))];
    int k = 0;
    int at = 0;
    while (at < y.length) {
      int m = Arrays.mismatch(x, at, y.length, y, at, y.length);
      if (m < 0) {
        break;
      }
      int c = (at + m) / len;
      if (k == found.length) {
        found = Arrays.copyOf(found, Math.min(count, k * 2));
      }
      found[k++] = c;
      at = (c + 1) * len;
    }
    return Arrays.copyOf(found, k);
  }

  /** A growable run of line records. */
  private static final class Records {
    private final ByteBuffer one;
    private byte[] buf = new byte[1024];
    private int size;

    Records(QuantizedArray shape) {
      one = shape.recordBuffer();
    }

    void add(QuantizedArray from, int l) {
      one.clear();
      from.writeRecord(l, one);
      int n = one.position();
      if (size + n > buf.length) {
        buf = Arrays.copyOf(buf, Math.max(size + n, buf.length * 2));
      }
      System.arraycopy(one.array(), 0, buf, size, n);
      size += n;
    }

    byte[] bytes() {
      return Arrays.copyOf(buf, size);
    }
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

  /** Number of changed chunks over all arrays, plus changed lines of a quantized embedding. */
  public int chunkCount() {
    int n = lineCount();
    for (int[] c : chunks) {
      n += c.length;
    }
    return n;
  }

  /** Number of changed lines of a quantized embedding. */
  public int lineCount() {
    return lines == null ? 0 : lines.length;
  }

  public boolean isEmpty() {
    return chunkCount() == 0;
  }

  /**
   * Merges this learner's change into the authoritative model, three-way (see the class comment),
   * and returns the merged values of the chunks it touched, as an after-only delta for the sync.
   */
  public ChunkDelta mergeInto(ModelTensors model) {
    merge(model);
    return valuesIn(model);
  }

  /** {@link #mergeInto} without building the merged values (a merger that coalesces sends them later). */
  public void merge(ModelTensors model) {
    merge(model, null);
  }

  /**
   * As {@link #merge(ModelTensors)}; with a {@code round}, a weight that several updates of the
   * same round change takes the mean of their changes rather than their sum (see {@link MergeRound}).
   */
  void merge(ModelTensors model, MergeRound round) {
    if (before == null) {
      throw new IllegalStateException("a three-way merge needs the values before the change");
    }
    requireLayout(model);
    // Accumulators first: a weight change that meets other learners' changes is scaled by them.
    for (int pass = 0; pass < 2; pass++) {
      for (int i = 0; i < chunks.length; i++) {
        if (model.isState(i) == (pass == 0)) {
          mergeArray(model, i, model.isState(i) ? null : round);
        }
      }
    }
    QuantizedArray q = model.lines();
    if (q == null || lineCount() == 0) {
      return;
    }
    LineWork w = new LineWork(q);
    ByteBuffer a = wrap(linesAfter);
    ByteBuffer b = wrap(linesBefore);
    for (int l : lines) {
      int aStart = a.position();
      int aLen = q.recordSizeAt(a, l);
      int bStart = b.position();
      int bLen = q.recordSizeAt(b, l);
      if (w.equalsRecord(q, l, linesBefore, bStart, bLen)) {
        q.installRecord(l, a);
      } else {
        w.mergeLine(q, l, a, b);
      }
      a.position(aStart + aLen);
      b.position(bStart + bLen);
    }
  }

  /**
   * The model's current values of the given chunks (per array, increasing) and quantized lines
   * (increasing; ignored without a quantized embedding), as an after-only delta: what a merger
   * sends for everything it merged since its last message.
   */
  public static ChunkDelta currentValues(ModelTensors model, int[][] chunkIndices, int[] lineIndices) {
    int[] lines = model.lines() == null ? null : lineIndices;
    ChunkDelta shape = new ChunkDelta(chunkIndices, new float[chunkIndices.length][], null, lines, NO_BYTES, null);
    shape.requireLayout(model);
    return shape.valuesIn(model);
  }

  /** The changed chunks of array i, increasing (do not modify). */
  int[] chunksOf(int i) {
    return chunks[i];
  }

  /** The changed quantized lines, increasing (do not modify); null without a quantized embedding. */
  int[] changedLines() {
    return lines;
  }

  private static ByteBuffer wrap(byte[] b) {
    return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
  }

  /** Scratch for the line rules: one record and the float32 values and state of up to three lines. */
  private static final class LineWork {
    final ByteBuffer one;
    final float[] xw;
    final float[] xs;
    final float[] yw;
    final float[] ys;
    final float[] zw;
    final float[] zs;

    LineWork(QuantizedArray q) {
      one = q.recordBuffer();
      int n = q.lineLength();
      xw = new float[n];
      xs = new float[n + 1];
      yw = new float[n];
      ys = new float[n + 1];
      zw = new float[n];
      zs = new float[n + 1];
    }

    /** Whether line l of q has exactly the record rec[off .. off+len). */
    boolean equalsRecord(QuantizedArray q, int l, byte[] rec, int off, int len) {
      one.clear();
      q.writeRecord(l, one);
      return one.position() == len && Arrays.equals(one.array(), 0, len, rec, off, off + len);
    }

    /**
     * The merger's rule where another learner moved line l since this learner's "before": element
     * by element, as {@link ChunkDelta#mergeArray} does for floats, accumulators first. The
     * result is cached if the learner sent the line cached, else re-quantized.
     */
    void mergeLine(QuantizedArray q, int l, ByteBuffer after, ByteBuffer before) {
      int n = q.lengthOf(l);
      int ns = q.logicalStateLength(l);
      q.readLogical(l, xw, xs);
      boolean cached = q.readRecordLogical(l, after, yw, ys);
      q.readRecordLogical(l, before, zw, zs);
      for (int k = 0; k < ns; k++) {
        if (Float.floatToRawIntBits(xs[k]) == Float.floatToRawIntBits(zs[k])) {
          xs[k] = ys[k];
        } else {
          xs[k] += ys[k] - zs[k];
        }
      }
      boolean element = q.stateKind() == QuantizedArray.StateKind.ELEMENT;
      int first = l * q.lineLength();
      int z = ns == 0 || element ? 1 : q.blockZ();
      for (int j = 0; j < n; j++) {
        if (Float.floatToRawIntBits(xw[j]) == Float.floatToRawIntBits(zw[j])) {
          xw[j] = yw[j];
        } else {
          float change = yw[j] - zw[j];
          if (ns > 0) {
            int k = element ? j : (first + j) / z - first / z;
            float mine = ys[k];
            float all = xs[k];
            if (all > mine) {
              change *= (float) Math.sqrt(mine / all);
            }
          }
          xw[j] += change;
        }
      }
      q.writeLogical(l, xw, xs, cached);
    }

    /** target := global + (target - sent), element by element, in target's form (the float rules of rebase). */
    void rebaseLine(QuantizedArray target, int l, QuantizedArray sent, QuantizedArray global) {
      int n = target.lengthOf(l);
      int ns = target.logicalStateLength(l);
      target.readLogical(l, xw, xs);
      sent.readLogical(l, yw, ys);
      global.readLogical(l, zw, zs);
      combine(xw, yw, zw, n);
      combine(xs, ys, zs, ns);
      target.writeLogical(l, xw, xs, target.isCached(l));
    }

    /** t := (t == o ? n : n != o ? n + (t - o) : t), element by element, for the line rules. */
    static void combine(float[] t, float[] o, float[] nw, int count) {
      for (int j = 0; j < count; j++) {
        int tb = Float.floatToRawIntBits(t[j]);
        int ob = Float.floatToRawIntBits(o[j]);
        if (tb == ob) {
          t[j] = nw[j];
        } else if (Float.floatToRawIntBits(nw[j]) != ob) {
          t[j] = nw[j] + (t[j] - o[j]);
        }
      }
    }
  }

  /**
   * Three-way merge of one array. Where another learner moved a value, this learner's change is
   * added; for a weight with an Adagrad accumulator the change is first scaled by
   * sqrt(this learner's accumulator / the merged one): the step it would have taken had it seen the
   * other learners' squared gradients too. Without this, N learners that each take Adagrad's
   * normalised step move a parameter N times as far as sequential training would.
   */
  private void mergeArray(ModelTensors model, int i, MergeRound round) {
    float[] g = model.array(i);
    float[] start = round == null ? null : round.start(i);
    byte[] count = round == null ? null : round.count(i);
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
        if (count != null && a[p] != b[p]) {
          int k = count[j] & 0xFF;
          if (k == 0) {
            start[j] = g[j];
          } else {
            // The k+1-th change of this element in the round: the mean of them all.
            g[j] = round.combine(start[j], g[j], a[p] - b[p], k);
            if (k < 255) {
              count[j]++;
            }
            continue;
          }
          count[j] = 1;
        }
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
    QuantizedArray q = model.lines();
    if (q == null || lineCount() == 0) {
      return new ChunkDelta(chunks, now, null, lines, NO_BYTES, null);
    }
    Records out = new Records(q);
    for (int l : lines) {
      out.add(q, l);
    }
    return new ChunkDelta(chunks, now, null, lines, out.bytes(), null);
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
    QuantizedArray q = target.lines();
    if (q == null || lineCount() == 0) {
      return;
    }
    LineWork w = new LineWork(q);
    ByteBuffer n = wrap(linesAfter);
    ByteBuffer o = wrap(old.linesAfter);
    for (int l : lines) {
      int nStart = n.position();
      int nLen = q.recordSizeAt(n, l);
      int oStart = o.position();
      int oLen = q.recordSizeAt(o, l);
      if (w.equalsRecord(q, l, old.linesAfter, oStart, oLen)) {
        q.installKeepingForm(l, n);
      } else if (nLen != oLen || !Arrays.equals(linesAfter, nStart, nStart + nLen, old.linesAfter, oStart,
          oStart + oLen)) {
        int len = q.lengthOf(l);
        int ns = q.logicalStateLength(l);
        q.readLogical(l, w.xw, w.xs);
        q.readRecordLogical(l, o, w.yw, w.ys);
        q.readRecordLogical(l, n, w.zw, w.zs);
        LineWork.combine(w.xw, w.yw, w.zw, len);
        LineWork.combine(w.xs, w.ys, w.zs, ns);
        q.writeLogical(l, w.xw, w.xs, q.isCached(l));
      }
      n.position(nStart + nLen);
      o.position(oStart + oLen);
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
    QuantizedArray q = model.lines();
    if (q != null && lines != null) {
      ByteBuffer a = wrap(linesAfter);
      for (int l : lines) {
        q.installRecord(l, a);
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
    QuantizedArray q = local.lines();
    if (q == null) {
      return;
    }
    QuantizedArray sent = sentPoint.lines();
    QuantizedArray glob = global.lines();
    LineWork w = null;
    ByteBuffer one = null;
    for (int l = 0; l < q.numLines(); l++) {
      if (q.lineEquals(l, sent)) {
        if (!q.lineEquals(l, glob)) {
          if (one == null) {
            one = q.recordBuffer();
          }
          one.clear();
          glob.writeRecord(l, one);
          one.flip();
          q.installKeepingForm(l, one);
        }
      } else if (!glob.lineEquals(l, sent)) {
        if (w == null) {
          w = new LineWork(q);
        }
        w.rebaseLine(q, l, sent, glob);
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
    if ((lines != null) != (model.lines() != null)) {
      throw new IllegalArgumentException("delta and model differ: one has a quantized embedding, the other not");
    }
    if (lineCount() > 0 && lines[lines.length - 1] >= model.lines().numLines()) {
      throw new IllegalArgumentException("delta line " + lines[lines.length - 1] + " is outside the model's "
          + model.lines().numLines() + " lines");
    }
  }

  /** The wire form (see the class comment). */
  public byte[] encode() {
    long size = 4 + 1 + 4 + 4;
    for (int i = 0; i < chunks.length; i++) {
      size += 4 + 4L * chunks[i].length + 4L * after[i].length * (before == null ? 1 : 2);
    }
    boolean quantized = lines != null;
    if (quantized) {
      size += 4 + 4L * lines.length + 4 + linesAfter.length + (before == null ? 0 : 4 + linesBefore.length);
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
    if (quantized) {
      b.putInt(lines.length);
      for (int l : lines) {
        b.putInt(l);
      }
      b.putInt(linesAfter.length).put(linesAfter);
      if (before != null) {
        b.putInt(linesBefore.length).put(linesBefore);
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
        for (int j = 0; j < idx[i].length; j++) {
          int c = idx[i][j];
          if (c < 0 || c >= layout.chunkCount(i)) {
            throw new IllegalArgumentException("model delta chunk " + c + " is outside array " + i);
          }
          // The merge and the rebase find chunks by binary search: they must strictly increase.
          if (j > 0 && c <= idx[i][j - 1]) {
            throw new IllegalArgumentException("model delta chunks of array " + i + " are out of order: " + c
                + " after " + idx[i][j - 1]);
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
      QuantizedArray q = layout.lines();
      if (q == null) {
        if (b.remaining() != 4) {
          throw new IllegalArgumentException("model delta has " + (b.remaining() - 4) + " unexpected trailing bytes");
        }
        return new ChunkDelta(idx, aft, bef);
      }
      int k = b.getInt();
      if (k < 0 || k > q.numLines()) {
        throw new IllegalArgumentException("model delta names " + k + " lines of an array of " + q.numLines());
      }
      int[] lines = new int[k];
      for (int j = 0; j < k; j++) {
        lines[j] = b.getInt();
        if (lines[j] < 0 || lines[j] >= q.numLines() || (j > 0 && lines[j] <= lines[j - 1])) {
          throw new IllegalArgumentException("model delta line " + lines[j] + " is out of order or outside 0.."
              + (q.numLines() - 1));
        }
      }
      byte[] la = readRecords(b, q, lines, "after");
      byte[] lb = hasBefore ? readRecords(b, q, lines, "before") : null;
      if (b.remaining() != 4) {
        throw new IllegalArgumentException("model delta has " + (b.remaining() - 4) + " unexpected trailing bytes");
      }
      return new ChunkDelta(idx, aft, bef, lines, la, lb);
    } catch (BufferUnderflowException e) {
      throw new IllegalArgumentException("model delta is truncated", e);
    }
  }

  /** Reads a length-prefixed run of line records and checks that it holds exactly one record per line. */
  private static byte[] readRecords(ByteBuffer b, QuantizedArray q, int[] lines, String which) {
    int len = b.getInt();
    if (len < 0 || len > b.remaining() - 4) {
      throw new IllegalArgumentException("model delta's " + which + " line records claim " + len + " bytes, "
          + Math.max(0, b.remaining() - 4) + " remain");
    }
    byte[] out = new byte[len];
    b.get(out);
    ByteBuffer r = wrap(out);
    for (int l : lines) {
      if (r.remaining() < 1) {
        throw new IllegalArgumentException("model delta's " + which + " line records end before line " + l);
      }
      int size = q.recordSizeAt(r, l);
      if (size > r.remaining()) {
        throw new IllegalArgumentException("model delta's " + which + " record of line " + l + " is truncated");
      }
      r.position(r.position() + size);
    }
    if (r.hasRemaining()) {
      throw new IllegalArgumentException("model delta's " + which + " line records have " + r.remaining()
          + " bytes more than its " + lines.length + " lines need");
    }
    return out;
  }
}
