package io.tinyrec.model.nn;

import io.tinyrec.model.ModelConfig;
import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * The ROBE-Z embedding ({@link RobeEmbedding}: the same hash, the same addresses) over a
 * {@link QuantizedArray}: INT8 or INT4 codes with per-group scales and biases, and an FP32 cache
 * of hot lines (Yang et al., arXiv 2010.11305).
 *
 * <p>A lookup reads a cached line's FP32 copy or dequantizes; it changes nothing, so scoring alone
 * never moves the cache. The backward pass sums gradients per element into per-line buffers of the
 * batch (a line is max(Z, G) floats; the blocks of {@link #blockSize()} are lines here). The
 * update then takes the touched lines in first-touch order: each is brought into the cache (a miss
 * dequantizes it, evicting the policy's victim with seeded stochastic rounding) and its FP32 copy
 * takes the optimizer's step, with its FP32 state. With a cache of every line, training is FP32
 * training from the quantized initial weights, bit for bit.
 *
 * <p>The initial weights are the float32 model's (the same draws), rounded to nearest. Not
 * thread-safe.
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
  // the lines in first-touch order, where each sits in the map, and their gradients (L floats each).
  private int[] mapKeys = new int[0];
  private int[] mapVals = new int[0];
  private int mapMask;
  private int[] touched = new int[256];
  private int[] touchedPos = new int[256];
  private int touchedCount;
  private float[] grad = new float[0];

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
    int n = batch * ModelConfig.NUM_SPARSE * chunks;
    if (n > capacity) {
      capacity = n;
      addr = new int[n];
    }
    int k = 0;
    for (int row = 0; row < batch; row++) {
      for (int t = 0; t < ModelConfig.NUM_SPARSE; t++) {
        long v = cats[row * ModelConfig.NUM_SPARSE + t];
        for (int ch = 0; ch < chunks; ch++) {
          int off = address(t, v, ch);
          addr[k] = off;
          array.read(off, z, out, k * z);
          k++;
        }
      }
    }
    lastBatch = batch;
  }

  @Override
  public void accumulateGradients(float[] dEmb) {
    int n = lastBatch * ModelConfig.NUM_SPARSE * chunks;
    ensureMap(2 * n);
    for (int k = 0; k < n; k++) {
      int off = addr[k];
      int src = k * z;
      int end = off + z;
      while (off < end) {
        int l = off / line;
        int stop = Math.min(end, (l + 1) * line);
        int g = indexOf(l) * line + (off - l * line);
        for (int i = off; i < stop; i++) {
          grad[g++] += dEmb[src++];
        }
        off = stop;
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

  /** The batch index of line l, adding it (with a zeroed gradient) on first touch. */
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
    }
    if ((idx + 1) * line > grad.length) {
      grad = Arrays.copyOf(grad, Math.max((idx + 1) * line, grad.length * 2));
    }
    mapKeys[i] = l + 1;
    mapVals[i] = idx;
    touched[idx] = l;
    touchedPos[idx] = i;
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
    float[] cw = null;
    for (int k = 0; k < touchedCount; k++) {
      int l = touched[k];
      int slot = array.acquire(l);
      cw = array.cacheWeights(); // acquire may have grown the cache's arrays
      int n = array.lengthOf(l);
      int w = slot * line;
      int g = k * line;
      switch (array.stateKind()) {
        case NONE -> opt.rowStepInPlace(cw, w, grad, g, n, null, 0, lr);
        case ELEMENT -> opt.elementStepInPlace(cw, w, grad, g, array.cacheState(), w, n, lr);
        case ROW -> {
          // One accumulator per ROBE-Z block, as the float32 model keeps them.
          int start = l * line;
          for (int p = 0; p < n; ) {
            int blockStart = (start + p) / z * z;
            int len = Math.min(blockStart + z, start + n) - (start + p);
            opt.rowStepInPlace(cw, w + p, grad, g + p, len, array.rowState(), (start + p) / z, lr);
            p += len;
          }
        }
      }
      if (array.writesThrough()) {
        array.evict(slot);
      }
    }
    discardGradients();
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
