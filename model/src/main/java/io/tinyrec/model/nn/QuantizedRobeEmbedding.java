package io.tinyrec.model.nn;

import io.tinyrec.model.ModelConfig;
import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * The ROBE-Z embedding ({@link RobeEmbedding}: the same hash, the same addresses) over a
 * {@link QuantizedArray}: INT8 or INT4 codes with per-group scales and biases, and an FP32 cache
 * of hot lines (Yang et al., arXiv 2010.11305).
 *
 * <p>A lookup reads a cached line's FP32 copy, or dequantizes the line once per batch into a
 * staging buffer; it changes nothing in the array, so scoring alone never moves the cache. The
 * backward pass sums gradients per element into per-line buffers of the batch (a line is max(Z, G)
 * floats; the blocks of {@link #blockSize()} are lines here). The update counts every touched line
 * for the policy, steps the cached ones in place (in first-touch order), then takes the missed
 * ones in the same order: a line the policy admits moves from staging into the cache (evicting the
 * policy's victim, re-quantized with seeded stochastic rounding) and steps there; any other steps
 * in staging, with its state decompressed, and is re-quantized at once. Either way the step is in
 * FP32 with FP32 state. With a cache of every line, training is FP32 training from the quantized
 * initial weights, bit for bit.
 *
 * <p>The initial weights are the float32 model's (the same draws), rounded to nearest. Not
 * thread-safe, except {@link #gather}, which only reads.
 */
public final class QuantizedRobeEmbedding extends Embedding {
  private final int dim;
  private final int z;
  private final int chunks;
  private final int line;
  private final long a;
  private final long b;
  private final long c;
  private final int range;
  private final QuantizedArray array;
  private final boolean elementwise;

  private int capacity;
  private int[] addr = new int[0];
  private int lastBatch;

  // The batch's touched lines: an open-addressing map line -> index (keys hold line + 1, 0 empty),
  // the lines in first-touch order, where each sits in the map, its cache slot at lookup (-1 if it
  // was staged), and per line L floats of gradient and of staged values.
  private int[] mapKeys = new int[0];
  private int[] mapVals = new int[0];
  private int mapMask;
  private int[] touched = new int[256];
  private int[] touchedPos = new int[256];
  private int[] lineSlot = new int[256];
  private int touchedCount;
  private float[] grad = new float[0];
  private float[] stage = new float[0];
  /** Per lookup chunk, the batch index of its first line, and of its second (-1 if it fits one line). */
  private int[] chunkLines = new int[0];
  private float[] stateScratch = new float[0];

  QuantizedRobeEmbedding(ModelConfig cfg, RandomGenerator init) {
    this.dim = cfg.dim();
    this.z = cfg.robeZ();
    this.chunks = dim / z;
    long[] abc = RobeEmbedding.hashParameters(cfg.seed());
    this.a = abc[0];
    this.b = abc[1];
    this.c = abc[2];
    this.range = cfg.robeSize() - z + 1;
    this.array = new QuantizedArray(cfg);
    this.line = array.lineLength();
    this.elementwise = cfg.embeddingAdagrad() == ModelConfig.EmbeddingAdagrad.ELEMENTWISE;
    // The float32 model's draws, in the same order, so the two start from the same weights.
    array.initialize((v, n) -> {
      for (int i = 0; i < n; i++) {
        v[i] = (float) (init.nextDouble() * 0.02 - 0.01);
      }
    });
  }

  /** The quantized array with its cache: this embedding's whole state. */
  public QuantizedArray array() {
    return array;
  }

  @Override
  public int address(int t, long v, int chunk) {
    long h = (a * (RobeEmbedding.key(t, v) % RobeEmbedding.P) + b * chunk + c) % RobeEmbedding.P;
    return (int) (h % range);
  }

  @Override
  public int dim() {
    return dim;
  }

  /** A line of the quantized array (max(Z, G) floats). */
  @Override
  public int blockSize() {
    return line;
  }

  @Override
  public int numBlocks() {
    return array.numLines();
  }

  @Override
  public float[] weights() {
    throw new UnsupportedOperationException("a quantized embedding (" + array.describe() + ") keeps no float32 array; "
        + "read its values with values() or array().read(...)");
  }

  /** Every element's current value as float32 (cached or dequantized): a copy, M floats. */
  public float[] values() {
    float[] out = new float[array.size()];
    array.read(0, out.length, out, 0);
    return out;
  }

  @Override
  public boolean elementwiseState() {
    return elementwise;
  }

  @Override
  public int stateLength() {
    throw new UnsupportedOperationException("a quantized embedding keeps its optimizer state beside its lines");
  }

  @Override
  public float[] optimizerState() {
    throw new UnsupportedOperationException("a quantized embedding keeps its optimizer state beside its lines");
  }

  @Override
  public void setOptimizerState(float[] s) {
    throw new UnsupportedOperationException("a quantized embedding keeps its optimizer state beside its lines");
  }

  @Override
  public void allocateOptimizerState() {
    array.allocateState();
  }

  @Override
  public void lookup(int batch, long[] cats, float[] out) {
    discardGradients(); // a lookup starts a batch: whatever the last one left is gone
    int n = batch * ModelConfig.NUM_SPARSE * chunks;
    if (n > capacity) {
      capacity = n;
      addr = new int[n];
      chunkLines = new int[2 * n];
    }
    ensureMap(2 * n);
    float[] cw = array.cacheWeights();
    int k = 0;
    for (int row = 0; row < batch; row++) {
      for (int t = 0; t < ModelConfig.NUM_SPARSE; t++) {
        long v = cats[row * ModelConfig.NUM_SPARSE + t];
        for (int ch = 0; ch < chunks; ch++) {
          int off = address(t, v, ch);
          addr[k] = off;
          int dst = k * z;
          int end = off + z;
          int l = off / line;
          int stop = Math.min(end, (l + 1) * line);
          int idx = indexOf(l);
          copyOut(idx, off - l * line, stop - off, cw, out, dst);
          chunkLines[2 * k] = idx;
          if (stop < end) {
            int idx2 = indexOf(l + 1);
            copyOut(idx2, 0, end - stop, cw, out, dst + (stop - off));
            chunkLines[2 * k + 1] = idx2;
          } else {
            chunkLines[2 * k + 1] = -1;
          }
          k++;
        }
      }
    }
    lastBatch = batch;
  }

  /**
   * As {@link #lookup}, for scoring only: a cached line's FP32 copy, any other line dequantized
   * straight into out. It reads the array and nothing else (no cache admission, no counters, no
   * staging, no batch bookkeeping), so any number of threads may call it at once while nobody
   * updates the model, and it gives the values lookup would give for the same state. Serving loads
   * snapshots without the cache, where every line is dequantized.
   */
  @Override
  public void gather(int batch, long[] cats, float[] out) {
    int k = 0;
    for (int row = 0; row < batch; row++) {
      for (int t = 0; t < ModelConfig.NUM_SPARSE; t++) {
        long v = cats[row * ModelConfig.NUM_SPARSE + t];
        for (int ch = 0; ch < chunks; ch++) {
          array.read(address(t, v, ch), z, out, k * z);
          k++;
        }
      }
    }
  }

  /** Copies n values of the batch's line idx from position pos (cached or staged) to out[dst ..]. */
  private void copyOut(int idx, int pos, int n, float[] cw, float[] out, int dst) {
    int slot = lineSlot[idx];
    if (slot >= 0) {
      System.arraycopy(cw, slot * line + pos, out, dst, n);
    } else {
      System.arraycopy(stage, idx * line + pos, out, dst, n);
    }
  }

  @Override
  public void accumulateGradients(float[] dEmb) {
    int n = lastBatch * ModelConfig.NUM_SPARSE * chunks;
    for (int k = 0; k < n; k++) {
      int off = addr[k];
      int src = k * z;
      int l = off / line;
      int pos = off - l * line;
      int first = Math.min(z, line - pos);
      int g = chunkLines[2 * k] * line + pos;
      for (int i = 0; i < first; i++) {
        grad[g + i] += dEmb[src + i];
      }
      if (first < z) {
        int g2 = chunkLines[2 * k + 1] * line;
        for (int i = first; i < z; i++) {
          grad[g2 + i - first] += dEmb[src + i];
        }
      }
    }
  }

  private void ensureMap(int maxLines) {
    int need = Integer.highestOneBit(Math.max(4, 2 * maxLines - 1)) << 1;
    if (mapKeys.length < need && touchedCount == 0) {
      mapKeys = new int[need];
      mapVals = new int[need];
      mapMask = need - 1;
    }
  }

  /**
   * The batch index of line l. On first touch it is added with a zeroed gradient and looked up in
   * the cache; a line not cached is dequantized into staging.
   */
  private int indexOf(int l) {
    int h = l * 0x9E3779B9;
    int i = (h ^ (h >>> 16)) & mapMask;
    while (true) {
      int key = mapKeys[i];
      if (key == l + 1) {
        return mapVals[i];
      }
      if (key == 0) {
        break;
      }
      i = (i + 1) & mapMask;
    }
    int idx = touchedCount++;
    if (idx == touched.length) {
      touched = Arrays.copyOf(touched, idx * 2);
      touchedPos = Arrays.copyOf(touchedPos, idx * 2);
      lineSlot = Arrays.copyOf(lineSlot, idx * 2);
    }
    if ((idx + 1) * line > grad.length) {
      int len = Math.max((idx + 1) * line, grad.length * 2);
      grad = Arrays.copyOf(grad, len);
      stage = Arrays.copyOf(stage, len);
    }
    mapKeys[i] = l + 1;
    mapVals[i] = idx;
    touched[idx] = l;
    touchedPos[idx] = i;
    int slot = array.slotOf(l);
    lineSlot[idx] = slot;
    if (slot < 0) {
      array.dequantize(l * line, array.lengthOf(l), stage, idx * line);
    }
    return idx;
  }

  @Override
  public float gradientAt(int i) {
    int l = i / line;
    for (int k = 0; k < touchedCount; k++) {
      if (touched[k] == l) {
        return grad[k * line + (i - l * line)];
      }
    }
    return 0f;
  }

  @Override
  public int touchedBlocks() {
    return touchedCount;
  }

  @Override
  public int touchedBlock(int s) {
    return touched[s];
  }

  @Override
  public boolean gradientsFinite() {
    float s = 0f;
    int n = touchedCount * line;
    for (int i = 0; i < n; i++) {
      s += grad[i] * 0f;
    }
    return s == 0f;
  }

  @Override
  public void applyUpdateInPlace(Optimizer opt, float lr) {
    if (touchedCount > 0) {
      array.allocateState();
    }
    // Every touched line counts, then the cached ones step in place: all before any eviction, so
    // no slot recorded at lookup can have changed hands yet. Then the missed lines: into the
    // cache if the policy takes them, else written back at once. (One loop a method: C2 compiles
    // each on its own instead of recompiling one large method loop by loop.)
    countTouched();
    stepCached(opt, lr);
    stepMissed(opt, lr);
    array.trim();
    discardGradients();
  }

  private void countTouched() {
    for (int k = 0; k < touchedCount; k++) {
      array.countUpdate(touched[k]);
      array.markDirty(touched[k]);
    }
  }

  private void stepCached(Optimizer opt, float lr) {
    for (int k = 0; k < touchedCount; k++) {
      int slot = lineSlot[k];
      if (slot >= 0) {
        array.touch(slot);
        step(opt, lr, k, array.cacheWeights(), slot * line, array.cacheState(), slot * line);
      }
    }
  }

  private void stepMissed(Optimizer opt, float lr) {
    for (int k = 0; k < touchedCount; k++) {
      if (lineSlot[k] >= 0) {
        continue;
      }
      int l = touched[k];
      if (array.admits(l)) {
        int slot = array.insert(l, stage, k * line);
        step(opt, lr, k, array.cacheWeights(), slot * line, array.cacheState(), slot * line);
      } else {
        writeThrough(opt, lr, k, l);
      }
    }
  }

  /** Steps a line the cache did not take, in staging with its state decompressed, and writes it back. */
  private void writeThrough(Optimizer opt, float lr, int k, int l) {
    float[] st = null;
    if (array.stateKind() == QuantizedArray.StateKind.ELEMENT) {
      if (stateScratch.length < line) {
        stateScratch = new float[line];
      }
      st = stateScratch;
      array.decompressState(l, st, 0);
    }
    step(opt, lr, k, stage, k * line, st, 0);
    array.writeBack(l, stage, k * line, st, 0);
  }

  /** The optimizer's step on batch line k, its values at w[wOff ..] and element state at s[sOff ..]. */
  private void step(Optimizer opt, float lr, int k, float[] w, int wOff, float[] s, int sOff) {
    int l = touched[k];
    int n = array.lengthOf(l);
    int g = k * line;
    switch (array.stateKind()) {
      case NONE -> opt.rowStepInPlace(w, wOff, grad, g, n, null, 0, lr);
      case ELEMENT -> opt.elementStepInPlace(w, wOff, grad, g, s, sOff, n, lr);
      case ROW -> {
        // One accumulator per ROBE-Z block, as the float32 model keeps them.
        int start = l * line;
        for (int p = 0; p < n; ) {
          int blockStart = (start + p) / z * z;
          int len = Math.min(blockStart + z, start + n) - (start + p);
          opt.rowStepInPlace(w, wOff + p, grad, g + p, len, array.rowState(), (start + p) / z, lr);
          p += len;
        }
      }
    }
  }

  @Override
  public void discardGradients() {
    for (int k = 0; k < touchedCount; k++) {
      mapKeys[touchedPos[k]] = 0;
    }
    Arrays.fill(grad, 0, touchedCount * line, 0f);
    touchedCount = 0;
  }

  @Override
  public long storageBytes() {
    return array.storageBytes();
  }

  @Override
  public long optimizerStateBytes() {
    return array.stateBytes();
  }
}
