package io.tinyrec.model.nn;

import io.tinyrec.model.ModelConfig;
import io.tinyrec.model.ModelConfig.CachePolicy;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The ROBE-Z array of M floats stored quantized, with an FP32 cache of hot lines (Yang et al.,
 * "Mixed-Precision Embedding Using a Cache", arXiv 2010.11305). This class is the whole persistent
 * state of a {@link QuantizedRobeEmbedding}: what snapshots, checkpoints and model sync carry.
 *
 * <p><b>Storage.</b> Element i has an INT8 or INT4 code {@code q} (0 .. levels) and belongs to group
 * {@code i / G}, which has a scale s and a bias b (fp16 or fp32); its value is
 * {@code float(q) * s + b}, a float32 multiply then a float32 add. The array is cut into lines of
 * L = max(Z, G) floats (the last may be shorter); a line holds whole groups and whole ROBE-Z blocks
 * and is what the cache holds.
 *
 * <p><b>Cache.</b> A cached line's value is its FP32 copy; its codes, scales and compressed state
 * are stale until it is evicted, and nothing reads them before that. Training brings a line in on
 * its first update ({@link #acquire}: a miss dequantizes it into a slot) and updates the FP32 copy;
 * when the cache is full the policy's victim is evicted: re-quantized with seeded stochastic
 * rounding. LRU evicts the line least recently updated; LFU the line with the fewest updates,
 * counted for every line (cached or not) in a saturating byte that is halved every
 * 10 x capacity updates, with ties going to the least recently updated. Both order lines by a
 * total order, so the victim does not depend on how the bookkeeping happens to be laid out.
 *
 * <p><b>Optimizer state follows the line.</b> Element-wise Adagrad accumulators are FP32 in the
 * cache, beside the weights, and bfloat16 outside it (rounded stochastically on eviction, so that
 * increments smaller than bfloat16's precision still count on average). Row-wise accumulators (one
 * per Z-block) stay FP32 for every line, 4/Z bytes a float. SGD has none.
 *
 * <p><b>Lines as records.</b> Model sync compares and moves whole lines ({@link #lineEquals},
 * {@link #writeRecord}, {@link #installRecord}): a cached line as FP32 weights and state, any
 * other as its codes, scales and compressed state, bit for bit, so that one learner's model reaches
 * the merger exactly. Merges that need arithmetic go through {@link #readLogical} and
 * {@link #writeLogical}.
 *
 * <p>Not thread-safe. Deterministic: the same calls give the same bits.
 */
public final class QuantizedArray {
  /** The optimizer state kept per line. */
  public enum StateKind { NONE, ELEMENT, ROW }

  /** Record form tags. */
  static final byte FORM_QUANTIZED = 0;
  static final byte FORM_CACHED = 1;

  private static final long GOLDEN = 0x9E3779B97F4A7C15L;

  final int size;
  final int line;
  final int blockZ;
  final int group;
  final int groupsPerLine;
  final int numLines;
  final int numGroups;
  final int numBlocks;
  final int levels;
  final boolean int4;
  final boolean fp16;
  final StateKind stateKind;
  final CachePolicy policy;
  final long seed;
  final int capacity;
  private final int agingPeriod;

  // Quantized storage.
  final byte[] codes;
  private final float[] scaleF;
  private final float[] biasF;
  private final short[] scaleH;
  private final short[] biasH;
  /** bfloat16 Adagrad accumulators per element (ELEMENT), allocated with the optimizer state. */
  short[] elemState;
  /** FP32 Adagrad accumulators per Z-block (ROW), allocated with the optimizer state. */
  float[] rowState;

  // The FP32 cache: slot arrays, grown on demand beyond the capacity only by installs from sync.
  int slotCount;
  float[] cw;
  float[] cs;
  int[] slotLine;
  int[] stamp;
  /** Each occupied slot's eviction key, kept beside the heap so sifting reads no other array. */
  private long[] key;
  private int[] heap;
  private int[] heapPos;
  int heapSize;
  private int[] freeStack;
  private int freeCount;
  private int[] table;
  private int tableMask;
  /** LFU update counts per line (saturating at 255, halved every agingPeriod updates); empty for LRU. */
  byte[] freq;
  int clock;
  long evictions;
  int agingTicks;
  /**
   * Lines training changed since {@link #clearDirty()}: what a learner's next update must carry.
   * Sync writes do not mark a line, so a line whose form differs here from the global model's
   * (cached on one side, quantized on the other) is not sent back as if it were a change. A new
   * or decoded array has every line marked.
   */
  private long[] dirty;

  /** An array for a quantized config, all codes zero, no line cached. */
  public QuantizedArray(ModelConfig c) {
    ModelConfig.Quantization q = c.quantization();
    if (!q.quantized()) {
      throw new io.tinyrec.model.ConfigException("a quantized array needs {quantization.precision} int8 or int4, got " + q);
    }
    this.size = c.robeSize();
    this.blockZ = c.robeZ();
    this.group = c.quantGroupSize();
    this.line = c.quantLine();
    this.groupsPerLine = line / group;
    this.numLines = (size + line - 1) / line;
    this.numGroups = (size + group - 1) / group;
    this.numBlocks = (size + blockZ - 1) / blockZ;
    this.levels = q.levels();
    this.int4 = q.precision() == ModelConfig.Precision.INT4;
    this.fp16 = q.scaleDtype() == ModelConfig.ScaleDtype.FP16;
    this.stateKind = c.optimizer() == ModelConfig.OptimizerKind.SGD ? StateKind.NONE
        : c.embeddingAdagrad() == ModelConfig.EmbeddingAdagrad.ELEMENTWISE ? StateKind.ELEMENT : StateKind.ROW;
    this.policy = q.cachePolicy();
    this.seed = c.seed() ^ 0x5155414E54495A45L; // "QUANTIZE"
    this.capacity = (int) Math.min(numLines, (long) Math.floor((double) q.cacheFraction() * numLines));
    this.agingPeriod = 10 * Math.max(1, capacity);
    this.codes = new byte[int4 ? (size + 1) / 2 : size];
    if (fp16) {
      scaleH = new short[numGroups];
      biasH = new short[numGroups];
      scaleF = null;
      biasF = null;
    } else {
      scaleF = new float[numGroups];
      biasF = new float[numGroups];
      scaleH = null;
      biasH = null;
    }
    this.freq = policy == CachePolicy.LFU ? new byte[numLines] : new byte[0];
    this.dirty = new long[(numLines + 63) / 64];
    markAllDirty();
    allocateSlots(Math.max(1, capacity));
  }

  private QuantizedArray(QuantizedArray o) {
    size = o.size;
    line = o.line;
    blockZ = o.blockZ;
    group = o.group;
    groupsPerLine = o.groupsPerLine;
    numLines = o.numLines;
    numGroups = o.numGroups;
    numBlocks = o.numBlocks;
    levels = o.levels;
    int4 = o.int4;
    fp16 = o.fp16;
    stateKind = o.stateKind;
    policy = o.policy;
    seed = o.seed;
    capacity = o.capacity;
    agingPeriod = o.agingPeriod;
    codes = o.codes.clone();
    scaleF = o.scaleF == null ? null : o.scaleF.clone();
    biasF = o.biasF == null ? null : o.biasF.clone();
    scaleH = o.scaleH == null ? null : o.scaleH.clone();
    biasH = o.biasH == null ? null : o.biasH.clone();
    elemState = o.elemState == null ? null : o.elemState.clone();
    rowState = o.rowState == null ? null : o.rowState.clone();
    copyCacheFrom(o);
  }

  /** A deep copy: the same codes, scales, state, cache and bookkeeping, sharing nothing. */
  public QuantizedArray copy() {
    return new QuantizedArray(this);
  }

  /** Overwrites everything with other's contents (an array of the same config). */
  public void setFrom(QuantizedArray other) {
    requireSameShape(other);
    System.arraycopy(other.codes, 0, codes, 0, codes.length);
    if (fp16) {
      System.arraycopy(other.scaleH, 0, scaleH, 0, numGroups);
      System.arraycopy(other.biasH, 0, biasH, 0, numGroups);
    } else {
      System.arraycopy(other.scaleF, 0, scaleF, 0, numGroups);
      System.arraycopy(other.biasF, 0, biasF, 0, numGroups);
    }
    elemState = other.elemState == null ? null : copyInto(elemState, other.elemState);
    rowState = other.rowState == null ? null : copyInto(rowState, other.rowState);
    copyCacheFrom(other);
  }

  private static short[] copyInto(short[] dst, short[] src) {
    if (dst == null || dst.length != src.length) {
      return src.clone();
    }
    System.arraycopy(src, 0, dst, 0, src.length);
    return dst;
  }

  private static float[] copyInto(float[] dst, float[] src) {
    if (dst == null || dst.length != src.length) {
      return src.clone();
    }
    System.arraycopy(src, 0, dst, 0, src.length);
    return dst;
  }

  private void copyCacheFrom(QuantizedArray o) {
    slotCount = o.slotCount;
    cw = o.cw.clone();
    cs = o.cs.clone();
    slotLine = o.slotLine.clone();
    stamp = o.stamp.clone();
    key = o.key.clone();
    heap = o.heap.clone();
    heapPos = o.heapPos.clone();
    heapSize = o.heapSize;
    freeStack = o.freeStack.clone();
    freeCount = o.freeCount;
    table = o.table.clone();
    tableMask = o.tableMask;
    freq = o.freq.clone();
    dirty = o.dirty.clone();
    clock = o.clock;
    evictions = o.evictions;
    agingTicks = o.agingTicks;
  }

  /** @throws IllegalArgumentException if other is not an array of the same shape, precision and state. */
  public void requireSameShape(QuantizedArray o) {
    if (o.size != size || o.line != line || o.group != group || o.levels != levels || o.fp16 != fp16
        || o.stateKind != stateKind || o.blockZ != blockZ) {
      throw new IllegalArgumentException("quantized arrays differ in shape: " + describe() + " vs " + o.describe());
    }
  }

  String describe() {
    return (int4 ? "int4" : "int8") + "[M=" + size + ", line " + line + ", group " + group + ", "
        + (fp16 ? "fp16" : "fp32") + " scales, state " + stateKind + "]";
  }

  // ------------------------------------------------------------------ shape

  public int size() {
    return size;
  }

  /** Floats per line (the cache's unit); the last line may be shorter. */
  public int lineLength() {
    return line;
  }

  public int numLines() {
    return numLines;
  }

  public int numGroups() {
    return numGroups;
  }

  /** Z, the ROBE-Z block size: the granularity of row-wise state. */
  public int blockZ() {
    return blockZ;
  }

  /** Floats in line l. */
  public int lengthOf(int l) {
    return Math.min(line, size - l * line);
  }

  /** Lines the cache holds at most after a training step. */
  public int capacity() {
    return capacity;
  }

  /** Lines in the cache now. */
  public int cachedLines() {
    return heapSize;
  }

  /** Evictions (re-quantizations with stochastic rounding) so far. */
  public long evictions() {
    return evictions;
  }

  public StateKind stateKind() {
    return stateKind;
  }

  /** Bytes in memory of the values: codes, scales and biases, the cache and its bookkeeping. */
  public long storageBytes() {
    long scales = 2L * numGroups * (fp16 ? 2 : 4);
    long cache = 4L * cw.length + 4L * (slotLine.length + stamp.length + heap.length + heapPos.length
        + freeStack.length + table.length) + 8L * (key.length + dirty.length) + freq.length;
    return codes.length + scales + cache;
  }

  /** Bytes in memory of the optimizer state: compressed or row-wise accumulators plus the cache's FP32 ones. */
  public long stateBytes() {
    return (elemState == null ? 0 : 2L * elemState.length) + (rowState == null ? 0 : 4L * rowState.length)
        + 4L * cs.length;
  }

  /**
   * Bytes a snapshot with training state spends on a full cache (each cached line's index, stamp,
   * FP32 weights and FP32 state): what a fresh model's snapshot lacks against a trained one's.
   */
  public long fullCacheSnapshotBytes() {
    return (long) capacity * (8 + 4L * line * (stateKind == StateKind.ELEMENT ? 2 : 1));
  }

  /** Allocates the optimizer state (zeros), if the optimizer has any and it is not there yet. */
  public void allocateState() {
    if (stateKind == StateKind.ELEMENT && elemState == null) {
      elemState = new short[size];
      if (cs.length != cw.length) {
        cs = new float[cw.length];
      }
    } else if (stateKind == StateKind.ROW && rowState == null) {
      rowState = new float[numBlocks];
    }
  }

  public boolean hasState() {
    return stateKind == StateKind.ELEMENT ? elemState != null : stateKind == StateKind.ROW && rowState != null;
  }

  // ------------------------------------------------------------------ codes and groups

  int codeAt(int i) {
    return int4 ? (codes[i >> 1] >>> ((i & 1) << 2)) & 0xF : codes[i] & 0xFF;
  }

  private static void putCode(byte[] codes, boolean int4, int i, int q) {
    if (int4) {
      int b = i >> 1;
      int shift = (i & 1) << 2;
      codes[b] = (byte) ((codes[b] & ~(0xF << shift)) | (q << shift));
    } else {
      codes[i] = (byte) q;
    }
  }

  /** Scale of group g as float32. */
  public float scale(int g) {
    return fp16 ? Half.fp16ToFloat(scaleH[g]) : scaleF[g];
  }

  /** Bias of group g as float32. */
  public float bias(int g) {
    return fp16 ? Half.fp16ToFloat(biasH[g]) : biasF[g];
  }

  /** Writes the dequantized values of elements from .. from+len (all in one line) to dst[off ..]. */
  void dequantize(int from, int len, float[] dst, int off) {
    int end = from + len;
    int i = from;
    while (i < end) {
      int g = i / group;
      int gEnd = Math.min(end, (g + 1) * group);
      float s = scale(g);
      float b = bias(g);
      if (int4) {
        for (; i < gEnd; i++) {
          dst[off++] = ((codes[i >> 1] >>> ((i & 1) << 2)) & 0xF) * s + b;
        }
      } else {
        Kernels.dequantizeInt8(gEnd - i, codes, i, s, b, dst, off);
        off += gEnd - i;
        i = gEnd;
      }
    }
  }

  /**
   * The values of elements from .. from+len (any lines) into dst[off ..]: a cached line's FP32
   * copy, any other line dequantized. Reads only.
   */
  public void read(int from, int len, float[] dst, int off) {
    int end = from + len;
    while (from < end) {
      int l = from / line;
      int stop = Math.min(end, (l + 1) * line);
      int n = stop - from;
      int slot = heapSize == 0 ? -1 : slotOf(l);
      if (slot >= 0) {
        System.arraycopy(cw, slot * line + (from - l * line), dst, off, n);
      } else {
        dequantize(from, n, dst, off);
      }
      off += n;
      from = stop;
    }
  }

  /** The value of element i. */
  public float valueAt(int i) {
    float[] one = new float[1];
    read(i, 1, one, 0);
    return one[0];
  }

  /**
   * Fits group g to values v[off .. off+n) ({@link Kernels#fitGroup}), into the given arrays, and
   * leaves the stored pair as float32 in {@link #fitBias} and {@link #fitScale}.
   */
  private void fitGroup(float[] v, int off, int n, int g, float[] sF, float[] bF, short[] sH, short[] bH) {
    float lo = v[off];
    float hi = lo;
    for (int k = 1; k < n; k++) {
      float x = v[off + k];
      lo = x < lo ? x : lo;
      hi = x > hi ? x : hi;
    }
    long fit = Kernels.fitGroup(lo, hi, levels, fp16, g, sF, bF, sH, bH);
    fitBias = Float.intBitsToFloat((int) (fit >>> 32));
    fitScale = Float.intBitsToFloat((int) fit);
  }

  private float fitBias;
  private float fitScale;

  private static int clampCode(int c, int levels) {
    return c < 0 ? 0 : Math.min(c, levels);
  }

  /**
   * Re-quantizes line l from FP32 values w[wOff ..] (and, for element-wise state, accumulators
   * st[sOff ..] into bfloat16) with stochastic rounding: each element draws 32 bits from a
   * counter-based hash of (seed, stream, element), the high 16 for its code and the low 16 for
   * its accumulator, so it is reproducible and needs no generator state.
   */
  private void quantizeLineStochastic(int l, float[] w, int wOff, float[] st, int sOff, long stream) {
    int start = l * line;
    int end = Math.min(size, start + line);
    int key = (int) mix64(seed + stream * GOLDEN);
    boolean state = stateKind == StateKind.ELEMENT && st != null && elemState != null;
    if (codeScratch.length < group) {
      codeScratch = new int[group];
    }
    Kernels.requantizeStochastic(start, end, group, w, wOff, levels, fp16, int4, codes, scaleF, biasF, scaleH, biasH,
        key, state ? st : null, sOff, elemState, codeScratch, lanes);
  }

  private final float[] lanes = new float[32];
  private int[] codeScratch = new int[0];

  /** Quantizes line l from w[wOff ..] rounding to nearest, into the given storage (the live one or a copy). */
  private void quantizeLineNearest(int l, float[] w, int wOff, byte[] codesOut, float[] sF, float[] bF, short[] sH,
      short[] bH) {
    int start = l * line;
    int end = Math.min(size, start + line);
    for (int from = start; from < end; from += group) {
      int n = Math.min(group, end - from);
      int vo = wOff + (from - start);
      fitGroup(w, vo, n, from / group, sF, bF, sH, bH);
      float b = fitBias;
      float inv = fitScale > 0f ? 1f / fitScale : 0f;
      for (int k = 0; k < n; k++) {
        putCode(codesOut, int4, from + k, clampCode((int) ((w[vo + k] - b) * inv + 0.5f), levels));
      }
    }
  }


  void decompressState(int l, float[] dst, int off) {
    int start = l * line;
    int n = lengthOf(l);
    for (int k = 0; k < n; k++) {
      dst[off + k] = Half.bf16ToFloat(elemState[start + k]);
    }
  }

  /** SplitMix64's finaliser: a counter-based generator, the same bits on every platform. */
  static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /**
   * Fills the array from float values (line by line, each line's values written to v[0 .. L) by the
   * supplier, rounded to nearest); used for the initial weights.
   */
  void initialize(java.util.function.ObjIntConsumer<float[]> lineValues) {
    float[] v = new float[line];
    for (int l = 0; l < numLines; l++) {
      lineValues.accept(v, lengthOf(l));
      quantizeLineNearest(l, v, 0, codes, scaleF, biasF, scaleH, biasH);
    }
  }

  // ------------------------------------------------------------------ the cache

  private void allocateSlots(int n) {
    slotCount = n;
    cw = new float[n * line];
    cs = stateKind == StateKind.ELEMENT && elemState != null ? new float[n * line] : new float[0];
    slotLine = new int[n];
    Arrays.fill(slotLine, -1);
    stamp = new int[n];
    key = new long[n];
    heap = new int[n];
    heapPos = new int[n];
    heapSize = 0;
    freeStack = new int[n];
    freeCount = 0;
    for (int s = n - 1; s >= 0; s--) {
      freeStack[freeCount++] = s;
    }
    int t = Integer.highestOneBit(Math.max(2, 2 * n - 1)) << 1;
    table = new int[t];
    tableMask = t - 1;
  }

  /** Doubles the slot arrays (an install from sync found the cache full); keeps every cached line. */
  private void growSlots() {
    int old = slotCount;
    int n = Math.max(old + 1, old * 2);
    slotCount = n;
    cw = Arrays.copyOf(cw, n * line);
    if (cs.length > 0) {
      cs = Arrays.copyOf(cs, n * line);
    }
    slotLine = Arrays.copyOf(slotLine, n);
    Arrays.fill(slotLine, old, n, -1);
    stamp = Arrays.copyOf(stamp, n);
    key = Arrays.copyOf(key, n);
    heap = Arrays.copyOf(heap, n);
    heapPos = Arrays.copyOf(heapPos, n);
    int[] fs = new int[n];
    System.arraycopy(freeStack, 0, fs, 0, freeCount);
    freeStack = fs;
    for (int s = n - 1; s >= old; s--) {
      freeStack[freeCount++] = s;
    }
    int t = Integer.highestOneBit(Math.max(2, 2 * n - 1)) << 1;
    if (t > table.length) {
      table = new int[t];
      tableMask = t - 1;
      for (int s = 0; s < old; s++) {
        if (slotLine[s] >= 0) {
          tableInsert(slotLine[s], s);
        }
      }
    }
  }

  private int hash(int l) {
    int h = l * 0x9E3779B9;
    return (h ^ (h >>> 16)) & tableMask;
  }

  /** The slot holding line l, or -1. The table holds slot + 1, 0 for empty; linear probing. */
  int slotOf(int l) {
    int i = hash(l);
    while (true) {
      int t = table[i];
      if (t == 0) {
        return -1;
      }
      if (slotLine[t - 1] == l) {
        return t - 1;
      }
      i = (i + 1) & tableMask;
    }
  }

  public boolean isCached(int l) {
    return heapSize > 0 && slotOf(l) >= 0;
  }

  private void tableInsert(int l, int slot) {
    int i = hash(l);
    while (table[i] != 0) {
      i = (i + 1) & tableMask;
    }
    table[i] = slot + 1;
  }

  private void tableRemove(int l) {
    int i = hash(l);
    while (slotLine[table[i] - 1] != l) {
      i = (i + 1) & tableMask;
    }
    // Backward-shift deletion keeps every probe sequence unbroken without tombstones.
    int j = i;
    while (true) {
      j = (j + 1) & tableMask;
      int t = table[j];
      if (t == 0) {
        break;
      }
      int home = hash(slotLine[t - 1]);
      // Move the entry at j back to i unless its home lies cyclically in (i, j].
      boolean stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
      if (!stays) {
        table[i] = t;
        i = j;
      }
    }
    table[i] = 0;
  }

  /**
   * The eviction order as one number per slot: LRU by stamp (least recently updated first); LFU by
   * count, then stamp (ties go to the least recently updated). Stamps are unique, so the order is
   * total and the victim does not depend on the heap's layout.
   */
  private long keyOf(int slot) {
    long st = stamp[slot] & 0xFFFFFFFFL;
    return policy == CachePolicy.LFU ? ((long) (freq[slotLine[slot]] & 0xFF) << 32) | st : st;
  }

  /** Policy order: true if slot a is to be evicted before slot b. */
  private boolean before(int a, int b) {
    return key[a] < key[b];
  }

  private void heapPush(int slot) {
    int i = heapSize++;
    heap[i] = slot;
    heapPos[slot] = i;
    siftUp(i);
  }

  private void siftUp(int i) {
    int s = heap[i];
    while (i > 0) {
      int p = (i - 1) >>> 1;
      int ps = heap[p];
      if (!before(s, ps)) {
        break;
      }
      heap[i] = ps;
      heapPos[ps] = i;
      i = p;
    }
    heap[i] = s;
    heapPos[s] = i;
  }

  private void siftDown(int i) {
    int s = heap[i];
    int n = heapSize;
    while (true) {
      int c = 2 * i + 1;
      if (c >= n) {
        break;
      }
      int cs2 = heap[c];
      if (c + 1 < n && before(heap[c + 1], cs2)) {
        c++;
        cs2 = heap[c];
      }
      if (!before(cs2, s)) {
        break;
      }
      heap[i] = cs2;
      heapPos[cs2] = i;
      i = c;
    }
    heap[i] = s;
    heapPos[s] = i;
  }

  private void heapRemove(int slot) {
    int i = heapPos[slot];
    int last = heap[--heapSize];
    if (i < heapSize) {
      heap[i] = last;
      heapPos[last] = i;
      siftDown(i);
      siftUp(heapPos[last]);
    }
  }

  private void heapify() {
    for (int i = heapSize / 2 - 1; i >= 0; i--) {
      siftDown(i);
    }
  }

  private int nextStamp() {
    if (clock == Integer.MAX_VALUE) {
      renumberStamps();
    }
    return ++clock;
  }

  /** Renumbers the cached lines' stamps 1 .. n in their order, so the clock can go on (once per 2^31 updates). */
  private void renumberStamps() {
    Integer[] order = occupiedByStamp();
    for (int k = 0; k < order.length; k++) {
      stamp[order[k]] = k + 1;
      key[order[k]] = keyOf(order[k]);
    }
    clock = order.length;
  }

  /** Occupied slots, oldest stamp first: the canonical order of the cache. */
  Integer[] occupiedByStamp() {
    Integer[] order = new Integer[heapSize];
    for (int k = 0; k < heapSize; k++) {
      order[k] = heap[k];
    }
    Arrays.sort(order, (x, y) -> Integer.compare(stamp[x], stamp[y]));
    return order;
  }

  /** Counts a training update of line l for LFU (saturating; every count halved every agingPeriod updates). */
  void countUpdate(int l) {
    if (policy != CachePolicy.LFU || capacity == 0) {
      return; // without a cache there is nothing to rank
    }
    int f = freq[l] & 0xFF;
    if (f < 255) {
      freq[l] = (byte) (f + 1);
    }
    if (++agingTicks >= agingPeriod) {
      // Halve every count so the cache follows a shifting stream; the order changes, so re-heap.
      for (int i = 0; i < freq.length; i++) {
        freq[i] = (byte) ((freq[i] & 0xFF) >>> 1);
      }
      agingTicks = 0;
      for (int k = 0; k < heapSize; k++) {
        key[heap[k]] = keyOf(heap[k]);
      }
      heapify();
    }
  }

  /** Marks line l as changed by training (see {@link #dirty}). */
  void markDirty(int l) {
    dirty[l >>> 6] |= 1L << l;
  }

  /** Whether training changed line l since the last {@link #clearDirty()}. */
  public boolean isDirty(int l) {
    return (dirty[l >>> 6] & (1L << l)) != 0;
  }

  /** Forgets which lines training changed: a learner has just sent them. */
  public void clearDirty() {
    Arrays.fill(dirty, 0L);
  }

  private void markAllDirty() {
    Arrays.fill(dirty, -1L);
  }

  /** A cached line was updated: it becomes the most recent (and, for LFU, counts one more). */
  void touch(int slot) {
    stamp[slot] = nextStamp();
    key[slot] = keyOf(slot);
    siftDown(heapPos[slot]);
  }

  /**
   * Whether a missed line l enters the cache. LRU takes every miss. LFU takes it while the cache
   * has room, or when l has been updated more often (decayed) than the least frequent cached line,
   * which then gives way; otherwise the update is written back at once. Without that test a new
   * line would be the least frequent one and give way at the next miss anyway: the test does the
   * same without moving it in and out.
   */
  boolean admits(int l) {
    if (capacity == 0) {
      return false;
    }
    if (heapSize < capacity || policy == CachePolicy.LRU) {
      return true;
    }
    return (freq[l] & 0xFF) > (freq[slotLine[heap[0]]] & 0xFF);
  }

  /**
   * Puts line l in the cache with FP32 values src[off ..] (its dequantized values) and its
   * state decompressed, evicting the policy's victims while the cache is at capacity; returns its slot.
   */
  int insert(int l, float[] src, int off) {
    allocateState();
    while (heapSize >= Math.max(1, capacity)) {
      evict(heap[0]);
    }
    int slot = freeSlot();
    int base = slot * line;
    System.arraycopy(src, off, cw, base, lengthOf(l));
    if (stateKind == StateKind.ELEMENT) {
      decompressState(l, cs, base);
    }
    occupy(l, slot);
    return slot;
  }

  /** Writes line l back from FP32 values and state (an update of a line the cache did not take). */
  void writeBack(int l, float[] w, int wOff, float[] st, int sOff) {
    markDirty(l);
    quantizeLineStochastic(l, w, wOff, st, sOff, ++evictions);
  }

  /** Evicts the policy's victims until the cache holds no more than its capacity (after installs from sync). */
  void trim() {
    while (heapSize > capacity) {
      evict(heap[0]);
    }
  }

  /**
   * One training update's worth of cache traffic for line l, as {@link QuantizedRobeEmbedding}
   * does it: counts the update, then returns the line's slot (touching it) if cached, else takes
   * it in if the policy admits it, else returns -1 (the caller writes the update back at once).
   */
  public int acquire(int l) {
    countUpdate(l);
    int slot = heapSize == 0 ? -1 : slotOf(l);
    if (slot >= 0) {
      touch(slot);
      return slot;
    }
    if (!admits(l)) {
      return -1;
    }
    float[] v = new float[line];
    dequantize(l * line, lengthOf(l), v, 0);
    return insert(l, v, 0);
  }

  private void occupy(int l, int slot) {
    slotLine[slot] = l;
    tableInsert(l, slot);
    stamp[slot] = nextStamp();
    key[slot] = keyOf(slot);
    heapPush(slot);
  }

  /** Re-quantizes a cached line with stochastic rounding and frees its slot. */
  public void evict(int slot) {
    int l = slotLine[slot];
    markDirty(l);
    long stream = ++evictions;
    int base = slot * line;
    quantizeLineStochastic(l, cw, base, cs, base, stream);
    release(slot);
  }

  /** Takes a line out of the cache without writing it back (its storage is about to be overwritten). */
  private void release(int slot) {
    int l = slotLine[slot];
    tableRemove(l);
    heapRemove(slot);
    slotLine[slot] = -1;
    freeStack[freeCount++] = slot;
  }

  private int freeSlot() {
    if (freeCount == 0) {
      growSlots();
    }
    return freeStack[--freeCount];
  }

  /** The FP32 weights of the cache; line in slot s starts at s * lineLength(). */
  public float[] cacheWeights() {
    return cw;
  }

  /** The FP32 element accumulators of the cache (ELEMENT state), laid out as {@link #cacheWeights()}. */
  public float[] cacheState() {
    return cs;
  }

  /** The row-wise accumulators, one per Z-block (ROW state). */
  public float[] rowState() {
    return rowState;
  }

  // ------------------------------------------------------------------ lines as records

  /** Bytes of line l's record in its current form (including the form byte). */
  public int recordSize(int l) {
    return 1 + payloadSize(isCached(l), l);
  }

  private int payloadSize(boolean cached, int l) {
    int n = lengthOf(l);
    int stateBytes = switch (stateKind) {
      case NONE -> 0;
      case ELEMENT -> (cached ? 4 : 2) * n;
      case ROW -> 4 * blocksIn(l);
    };
    if (cached) {
      return 4 * n + stateBytes;
    }
    int groups = (n + group - 1) / group;
    return groups * 2 * (fp16 ? 2 : 4) + (int4 ? (n + 1) / 2 : n) + stateBytes;
  }

  private int blocksIn(int l) {
    int start = l * line;
    int end = Math.min(size, start + line);
    return (end - 1) / blockZ - start / blockZ + 1;
  }

  /** Reads the length of the record at the buffer's position without moving it. */
  public int recordSizeAt(ByteBuffer b, int l) {
    byte form = b.get(b.position());
    if (form != FORM_QUANTIZED && form != FORM_CACHED) {
      throw new IllegalArgumentException("line " + l + " record has unknown form " + form);
    }
    return 1 + payloadSize(form == FORM_CACHED, l);
  }

  /** Writes line l's record: form, then the FP32 copy and state, or codes, scales and compressed state. */
  public void writeRecord(int l, ByteBuffer out) {
    int slot = heapSize == 0 ? -1 : slotOf(l);
    int n = lengthOf(l);
    int start = l * line;
    if (slot >= 0) {
      out.put(FORM_CACHED);
      int base = slot * line;
      for (int k = 0; k < n; k++) {
        out.putFloat(cw[base + k]);
      }
      if (stateKind == StateKind.ELEMENT) {
        for (int k = 0; k < n; k++) {
          out.putFloat(cs.length == 0 ? 0f : cs[base + k]);
        }
      }
    } else {
      out.put(FORM_QUANTIZED);
      int g0 = start / group;
      int g1 = (start + n - 1) / group;
      for (int g = g0; g <= g1; g++) {
        if (fp16) {
          out.putShort(scaleH[g]).putShort(biasH[g]);
        } else {
          out.putFloat(scaleF[g]).putFloat(biasF[g]);
        }
      }
      if (int4) {
        out.put(codes, start >> 1, (n + 1) / 2);
      } else {
        out.put(codes, start, n);
      }
      if (stateKind == StateKind.ELEMENT) {
        for (int k = 0; k < n; k++) {
          out.putShort(elemState == null ? 0 : elemState[start + k]);
        }
      }
    }
    if (stateKind == StateKind.ROW) {
      int b0 = start / blockZ;
      int nb = blocksIn(l);
      for (int k = 0; k < nb; k++) {
        out.putFloat(rowState == null ? 0f : rowState[b0 + k]);
      }
    }
  }

  /** Sets line l from a record (advancing the buffer past it), in the record's form, bit for bit. */
  public void installRecord(int l, ByteBuffer in) {
    byte form = in.get();
    int n = lengthOf(l);
    int start = l * line;
    allocateStateIfRecordHasIt();
    int slot = heapSize == 0 ? -1 : slotOf(l);
    if (form == FORM_CACHED) {
      if (slot < 0) {
        slot = freeSlot();
        occupy(l, slot);
      }
      int base = slot * line;
      for (int k = 0; k < n; k++) {
        cw[base + k] = in.getFloat();
      }
      if (stateKind == StateKind.ELEMENT) {
        for (int k = 0; k < n; k++) {
          cs[base + k] = in.getFloat();
        }
      }
    } else if (form == FORM_QUANTIZED) {
      if (slot >= 0) {
        release(slot);
      }
      int g0 = start / group;
      int g1 = (start + n - 1) / group;
      for (int g = g0; g <= g1; g++) {
        if (fp16) {
          scaleH[g] = in.getShort();
          biasH[g] = in.getShort();
        } else {
          scaleF[g] = in.getFloat();
          biasF[g] = in.getFloat();
        }
      }
      if (int4) {
        in.get(codes, start >> 1, (n + 1) / 2);
      } else {
        in.get(codes, start, n);
      }
      if (stateKind == StateKind.ELEMENT) {
        for (int k = 0; k < n; k++) {
          elemState[start + k] = in.getShort();
        }
      }
    } else {
      throw new IllegalArgumentException("line " + l + " record has unknown form " + form);
    }
    if (stateKind == StateKind.ROW) {
      int b0 = start / blockZ;
      int nb = blocksIn(l);
      for (int k = 0; k < nb; k++) {
        rowState[b0 + k] = in.getFloat();
      }
    }
  }

  /**
   * Sets line l to a record's values while keeping this array's form of the line (how a learner
   * takes the global model's lines, leaving its cache to its own policy): a cached line takes the
   * record's float32 values in its slot; a quantized line takes a quantized record as it is, or a
   * cached record's values quantized as {@link #writeLogical} does. Advances the buffer past the
   * record; not a change by training.
   */
  public void installKeepingForm(int l, ByteBuffer in) {
    int slot = heapSize == 0 ? -1 : slotOf(l);
    byte form = in.get(in.position());
    if (slot < 0 && form == FORM_QUANTIZED) {
      installRecord(l, in);
      return;
    }
    allocateStateIfRecordHasIt();
    float[] w = new float[line];
    float[] st = new float[line + 1];
    readRecordLogical(l, in, w, st);
    int n = lengthOf(l);
    int start = l * line;
    if (slot >= 0) {
      System.arraycopy(w, 0, cw, slot * line, n);
      if (stateKind == StateKind.ELEMENT) {
        System.arraycopy(st, 0, cs, slot * line, n);
      }
    } else {
      quantizeLineStochastic(l, w, 0, st, 0, contentStream(l, w, st));
    }
    if (stateKind == StateKind.ROW) {
      System.arraycopy(st, 0, rowState, start / blockZ, blocksIn(l));
    }
  }

  private void allocateStateIfRecordHasIt() {
    if (stateKind != StateKind.NONE) {
      allocateState();
    }
  }

  /**
   * Decodes a record of line l (advancing the buffer past it) into float32 values w[0 .. n) and
   * state s[0 .. logicalStateLength), as {@link #readLogical} would read the line after
   * {@link #installRecord}; returns whether the record is of a cached line.
   */
  public boolean readRecordLogical(int l, ByteBuffer in, float[] w, float[] s) {
    byte form = in.get();
    int n = lengthOf(l);
    int start = l * line;
    if (form == FORM_CACHED) {
      for (int k = 0; k < n; k++) {
        w[k] = in.getFloat();
      }
      if (stateKind == StateKind.ELEMENT) {
        for (int k = 0; k < n; k++) {
          s[k] = in.getFloat();
        }
      }
    } else if (form == FORM_QUANTIZED) {
      int g0 = start / group;
      int g1 = (start + n - 1) / group;
      float[] sc = new float[g1 - g0 + 1];
      float[] bi = new float[g1 - g0 + 1];
      for (int g = g0; g <= g1; g++) {
        if (fp16) {
          sc[g - g0] = Half.fp16ToFloat(in.getShort());
          bi[g - g0] = Half.fp16ToFloat(in.getShort());
        } else {
          sc[g - g0] = in.getFloat();
          bi[g - g0] = in.getFloat();
        }
      }
      int codeStart = in.position();
      for (int k = 0; k < n; k++) {
        int i = start + k;
        int q = int4 ? (in.get(codeStart + (k >> 1)) >>> ((k & 1) << 2)) & 0xF : in.get(codeStart + k) & 0xFF;
        int g = i / group - g0;
        w[k] = q * sc[g] + bi[g];
      }
      in.position(codeStart + (int4 ? (n + 1) / 2 : n));
      if (stateKind == StateKind.ELEMENT) {
        for (int k = 0; k < n; k++) {
          s[k] = Half.bf16ToFloat(in.getShort());
        }
      }
    } else {
      throw new IllegalArgumentException("line " + l + " record has unknown form " + form);
    }
    if (stateKind == StateKind.ROW) {
      int nb = blocksIn(l);
      for (int k = 0; k < nb; k++) {
        s[k] = in.getFloat();
      }
    }
    return form == FORM_CACHED;
  }

  /** Whether line l is the same here and in other: the same form and the same bits. */
  public boolean lineEquals(int l, QuantizedArray other) {
    int a = heapSize == 0 ? -1 : slotOf(l);
    int b = other.heapSize == 0 ? -1 : other.slotOf(l);
    if ((a >= 0) != (b >= 0)) {
      return false;
    }
    int n = lengthOf(l);
    int start = l * line;
    if (a >= 0) {
      if (!sameBits(cw, a * line, other.cw, b * line, n)) {
        return false;
      }
      if (stateKind == StateKind.ELEMENT && !sameBits(cs, a * line, other.cs, b * line, n)) {
        return false;
      }
    } else {
      int g0 = start / group;
      int g1 = (start + n - 1) / group + 1;
      boolean scales = fp16
          ? Arrays.equals(scaleH, g0, g1, other.scaleH, g0, g1) && Arrays.equals(biasH, g0, g1, other.biasH, g0, g1)
          : sameBits(scaleF, g0, other.scaleF, g0, g1 - g0) && sameBits(biasF, g0, other.biasF, g0, g1 - g0);
      if (!scales) {
        return false;
      }
      int c0 = int4 ? start >> 1 : start;
      int c1 = c0 + (int4 ? (n + 1) / 2 : n);
      if (!Arrays.equals(codes, c0, c1, other.codes, c0, c1)) {
        return false;
      }
      if (stateKind == StateKind.ELEMENT && !sameState(elemState, other.elemState, start, start + n)) {
        return false;
      }
    }
    if (stateKind == StateKind.ROW) {
      int b0 = start / blockZ;
      int b1 = b0 + blocksIn(l);
      for (int k = b0; k < b1; k++) {
        float x = rowState == null ? 0f : rowState[k];
        float y = other.rowState == null ? 0f : other.rowState[k];
        if (Float.floatToRawIntBits(x) != Float.floatToRawIntBits(y)) {
          return false;
        }
      }
    }
    return true;
  }

  private static boolean sameState(short[] x, short[] y, int from, int to) {
    for (int k = from; k < to; k++) {
      if ((x == null ? 0 : x[k]) != (y == null ? 0 : y[k])) {
        return false;
      }
    }
    return true;
  }

  private static boolean sameBits(float[] x, int xo, float[] y, int yo, int n) {
    for (int k = 0; k < n; k++) {
      if (Float.floatToRawIntBits(x[xo + k]) != Float.floatToRawIntBits(y[yo + k])) {
        return false;
      }
    }
    return true;
  }

  /** Number of state floats {@link #readLogical} gives for line l: n (element), blocks (row) or 0. */
  public int logicalStateLength(int l) {
    return switch (stateKind) {
      case NONE -> 0;
      case ELEMENT -> lengthOf(l);
      case ROW -> blocksIn(l);
    };
  }

  /** Line l's values (w[0 .. n)) and state (s[0 .. logicalStateLength)) as float32. */
  public void readLogical(int l, float[] w, float[] s) {
    int n = lengthOf(l);
    int start = l * line;
    int slot = heapSize == 0 ? -1 : slotOf(l);
    if (slot >= 0) {
      System.arraycopy(cw, slot * line, w, 0, n);
      if (stateKind == StateKind.ELEMENT) {
        System.arraycopy(cs, slot * line, s, 0, n);
      }
    } else {
      dequantize(start, n, w, 0);
      if (stateKind == StateKind.ELEMENT) {
        if (elemState == null) {
          Arrays.fill(s, 0, n, 0f);
        } else {
          decompressState(l, s, 0);
        }
      }
    }
    if (stateKind == StateKind.ROW) {
      int b0 = start / blockZ;
      int nb = blocksIn(l);
      for (int k = 0; k < nb; k++) {
        s[k] = rowState == null ? 0f : rowState[b0 + k];
      }
    }
  }

  /**
   * Sets line l to float32 values and state: into the cache if {@code cached} (taking a slot
   * without evicting, growing the cache if need be), otherwise quantized with stochastic rounding
   * drawn from the values themselves ({@link #contentStream}): the same inputs round alike. Not a
   * change by training.
   */
  public void writeLogical(int l, float[] w, float[] s, boolean cached) {
    int n = lengthOf(l);
    int start = l * line;
    allocateStateIfRecordHasIt();
    int slot = heapSize == 0 ? -1 : slotOf(l);
    if (cached) {
      if (slot < 0) {
        slot = freeSlot();
        occupy(l, slot);
      }
      System.arraycopy(w, 0, cw, slot * line, n);
      if (stateKind == StateKind.ELEMENT) {
        System.arraycopy(s, 0, cs, slot * line, n);
      }
    } else {
      if (slot >= 0) {
        release(slot);
      }
      quantizeLineStochastic(l, w, 0, s, 0, contentStream(l, w, s));
    }
    if (stateKind == StateKind.ROW) {
      System.arraycopy(s, 0, rowState, start / blockZ, blocksIn(l));
    }
  }

  /**
   * The stochastic-rounding stream of a write from sync: a hash of the line and the values written
   * rather than a counter, so that a learner's replica and its copies for updates in flight, given
   * the same values, round them alike (independent draws would differ by a step, and the next
   * rebase would take that difference for a change of the learner's). Different values still draw
   * independent bits, so the rounding stays unbiased.
   */
  private long contentStream(int l, float[] w, float[] s) {
    long h = seed ^ (l * GOLDEN);
    int n = lengthOf(l);
    for (int k = 0; k < n; k++) {
      h = (h ^ Float.floatToRawIntBits(w[k])) * 0x100000001B3L;
    }
    int ns = logicalStateLength(l);
    for (int k = 0; k < ns; k++) {
      h = (h ^ Float.floatToRawIntBits(s[k])) * 0x100000001B3L;
    }
    return mix64(h);
  }

  // ------------------------------------------------------------------ flushing for snapshots

  /**
   * What a snapshot stores: codes, scales and biases with every cached line rounded to nearest
   * from its FP32 copy, and the element accumulators with cached lines rounded to nearest
   * bfloat16. Deterministic, and the array itself is left as it was.
   */
  public Flushed flushed() {
    byte[] c = codes.clone();
    float[] sF = scaleF == null ? null : scaleF.clone();
    float[] bF = biasF == null ? null : biasF.clone();
    short[] sH = scaleH == null ? null : scaleH.clone();
    short[] bH = biasH == null ? null : biasH.clone();
    short[] st = elemState == null ? null : elemState.clone();
    for (int k = 0; k < heapSize; k++) {
      int slot = heap[k];
      int l = slotLine[slot];
      quantizeLineNearest(l, cw, slot * line, c, sF, bF, sH, bH);
      if (st != null && cs.length > 0) {
        int start = l * line;
        int n = lengthOf(l);
        for (int j = 0; j < n; j++) {
          st[start + j] = Half.bf16(cs[slot * line + j]);
        }
      }
    }
    return new Flushed(c, sF, bF, sH, bH, st);
  }

  /** Storage with the cache flushed into it; scales and biases in whichever of the two forms is in use. */
  public record Flushed(byte[] codes, float[] scaleF, float[] biasF, short[] scaleH, short[] biasH,
      short[] elemState) {}

  /** Whether scales and biases are stored as fp16. */
  public boolean fp16Scales() {
    return fp16;
  }

  public boolean int4() {
    return int4;
  }

  /** The live scale and bias arrays, whichever form is in use (the other pair is null). */
  float[] scaleF() {
    return scaleF;
  }

  float[] biasF() {
    return biasF;
  }

  short[] scaleH() {
    return scaleH;
  }

  short[] biasH() {
    return biasH;
  }

  /**
   * Installs decoded storage (codes, scales, biases, element state or row state as the config has
   * them); the cache must be empty.
   */
  public void setStorage(byte[] c, float[] sF, float[] bF, short[] sH, short[] bH, short[] elem, float[] row) {
    System.arraycopy(c, 0, codes, 0, codes.length);
    if (fp16) {
      System.arraycopy(sH, 0, scaleH, 0, numGroups);
      System.arraycopy(bH, 0, biasH, 0, numGroups);
    } else {
      System.arraycopy(sF, 0, scaleF, 0, numGroups);
      System.arraycopy(bF, 0, biasF, 0, numGroups);
    }
    if (elem != null) {
      allocateState();
      System.arraycopy(elem, 0, elemState, 0, size);
    }
    if (row != null) {
      allocateState();
      System.arraycopy(row, 0, rowState, 0, numBlocks);
    }
  }

  /** A cached line as a snapshot stores it. */
  public record CachedLine(int line, int stamp, float[] weights, float[] state) {}

  /** The cached lines in canonical order (oldest stamp first), with copies of their FP32 values. */
  public CachedLine[] cachedLinesInOrder() {
    Integer[] order = occupiedByStamp();
    CachedLine[] out = new CachedLine[order.length];
    for (int k = 0; k < order.length; k++) {
      int slot = order[k];
      float[] w = Arrays.copyOfRange(cw, slot * line, slot * line + line);
      float[] s = stateKind == StateKind.ELEMENT && cs.length > 0
          ? Arrays.copyOfRange(cs, slot * line, slot * line + line) : new float[0];
      out[k] = new CachedLine(slotLine[slot], stamp[slot], w, s);
    }
    return out;
  }

  /** Restores the cache and its bookkeeping as a snapshot recorded them (the cache must be empty). */
  public void restoreCache(CachedLine[] lines, byte[] frequencies, int clock, long evictions, int agingTicks) {
    if (heapSize != 0) {
      throw new IllegalStateException("restoring a cache into one that holds " + heapSize + " lines");
    }
    if (stateKind == StateKind.ELEMENT) {
      allocateState();
    }
    while (slotCount < lines.length) {
      growSlots();
    }
    for (CachedLine c : lines) {
      int slot = freeStack[--freeCount];
      System.arraycopy(c.weights(), 0, cw, slot * line, line);
      if (stateKind == StateKind.ELEMENT) {
        if (c.state().length == line) {
          System.arraycopy(c.state(), 0, cs, slot * line, line);
        } else {
          Arrays.fill(cs, slot * line, slot * line + line, 0f);
        }
      }
      slotLine[slot] = c.line();
      tableInsert(c.line(), slot);
      stamp[slot] = c.stamp();
      heapPush(slot);
    }
    if (frequencies.length != freq.length) {
      throw new IllegalArgumentException("LFU counts for " + frequencies.length + " lines, the array has "
          + freq.length);
    }
    System.arraycopy(frequencies, 0, freq, 0, freq.length);
    for (int k = 0; k < heapSize; k++) {
      key[heap[k]] = keyOf(heap[k]);
    }
    heapify();
    this.clock = clock;
    this.evictions = evictions;
    this.agingTicks = agingTicks;
  }

  /** The LFU counts per line (empty for LRU). */
  public byte[] frequencies() {
    return freq;
  }

  public int clock() {
    return clock;
  }

  public int agingTicks() {
    return agingTicks;
  }

  // ------------------------------------------------------------------ whole-array forms

  /** Every line's record, in line order, into a CRC: a fingerprint of the values, blind to cache layout. */
  public void updateChecksum(java.util.zip.CRC32 crc) {
    ByteBuffer b = ByteBuffer.allocate(1 + 8 * line + 16 * groupsPerLine + 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (int l = 0; l < numLines; l++) {
      b.clear();
      writeRecord(l, b);
      crc.update(b.array(), 0, b.position());
    }
  }

  /** Whether every line has the same form and bits here and in other. */
  public boolean sameAs(QuantizedArray other) {
    requireSameShape(other);
    for (int l = 0; l < numLines; l++) {
      if (!lineEquals(l, other)) {
        return false;
      }
    }
    return true;
  }

  /** A buffer big enough for any one line's record. */
  public ByteBuffer recordBuffer() {
    return ByteBuffer.allocate(1 + 8 * line + 16 * groupsPerLine + 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
  }

  /** Everything, for {@link #readFrom}: storage, state, cached lines in canonical order, bookkeeping. */
  public void writeTo(DataOutput out) throws IOException {
    out.write(codes);
    for (int g = 0; g < numGroups; g++) {
      if (fp16) {
        out.writeShort(scaleH[g]);
        out.writeShort(biasH[g]);
      } else {
        out.writeInt(Float.floatToRawIntBits(scaleF[g]));
        out.writeInt(Float.floatToRawIntBits(biasF[g]));
      }
    }
    out.writeBoolean(hasState());
    if (elemState != null) {
      byte[] raw = new byte[2 * size];
      ByteBuffer.wrap(raw).asShortBuffer().put(elemState);
      out.write(raw);
    }
    if (rowState != null) {
      for (float x : rowState) {
        out.writeInt(Float.floatToRawIntBits(x));
      }
    }
    CachedLine[] lines = cachedLinesInOrder();
    out.writeInt(lines.length);
    for (CachedLine c : lines) {
      out.writeInt(c.line());
      out.writeInt(c.stamp());
      for (float x : c.weights()) {
        out.writeInt(Float.floatToRawIntBits(x));
      }
      for (float x : c.state()) {
        out.writeInt(Float.floatToRawIntBits(x));
      }
    }
    out.write(freq);
    out.writeInt(clock);
    out.writeLong(evictions);
    out.writeInt(agingTicks);
  }

  /** Overwrites everything with what {@link #writeTo} wrote from an array of the same config. */
  public void readFrom(DataInput in) throws IOException {
    in.readFully(codes);
    for (int g = 0; g < numGroups; g++) {
      if (fp16) {
        scaleH[g] = in.readShort();
        biasH[g] = in.readShort();
      } else {
        scaleF[g] = Float.intBitsToFloat(in.readInt());
        biasF[g] = Float.intBitsToFloat(in.readInt());
      }
    }
    if (in.readBoolean()) {
      allocateState();
      if (elemState != null) {
        byte[] raw = new byte[2 * size];
        in.readFully(raw);
        ByteBuffer.wrap(raw).asShortBuffer().get(elemState);
      }
      if (rowState != null) {
        for (int k = 0; k < rowState.length; k++) {
          rowState[k] = Float.intBitsToFloat(in.readInt());
        }
      }
    }
    int n = in.readInt();
    if (n < 0 || n > numLines) {
      throw new IOException("cache of " + n + " lines in an array of " + numLines);
    }
    allocateSlots(Math.max(Math.max(1, capacity), n));
    CachedLine[] lines = new CachedLine[n];
    for (int k = 0; k < n; k++) {
      int l = in.readInt();
      int st = in.readInt();
      float[] w = new float[line];
      for (int j = 0; j < line; j++) {
        w[j] = Float.intBitsToFloat(in.readInt());
      }
      float[] s = new float[stateKind == StateKind.ELEMENT && elemState != null ? line : 0];
      for (int j = 0; j < s.length; j++) {
        s[j] = Float.intBitsToFloat(in.readInt());
      }
      lines[k] = new CachedLine(l, st, w, s);
    }
    byte[] f = new byte[freq.length];
    in.readFully(f);
    int c = in.readInt();
    long e = in.readLong();
    int a = in.readInt();
    restoreCache(lines, f, c, e, a);
    markAllDirty();
  }
}
