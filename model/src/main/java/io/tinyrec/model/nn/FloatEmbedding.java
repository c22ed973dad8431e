package io.tinyrec.model.nn;

import io.tinyrec.model.ModelConfig;
import java.util.Arrays;

/**
 * The 26 categorical embeddings stored in one float32 array that is read in fixed-length chunks at
 * computed addresses. Subclasses only decide the addresses: {@link RobeEmbedding} hashes chunks
 * into a shared array, {@link HashEmbedding} gives each feature its own table.
 *
 * <p>The array is divided into aligned blocks of {@link #blockSize()} floats: Z floats of the
 * ROBE-Z array, one row of a hash table. Gradients of a batch are summed per element (colliding
 * entries share parameters, so their gradients add) and the touched blocks are listed; the
 * optimizer then updates block by block. The touched blocks of the last batch are what a sparse
 * model delta carries. Adagrad keeps its accumulators either one per float (element-wise, as
 * PyTorch's Adagrad does on the peer's shared array; the default) or one per block (row-wise,
 * 1/blockSize of the memory). A float of a touched block that no lookup read has a zero gradient,
 * and both rules leave it and its accumulator exactly as they were.
 *
 * <p>Lifecycle per batch: {@link #lookup}, then {@link #accumulateGradients}, then
 * {@link #applyUpdateInPlace}. Not thread-safe, except {@link #gather}, which only reads.
 */
public abstract sealed class FloatEmbedding extends Embedding permits RobeEmbedding, HashEmbedding {
  protected final int dim;
  protected final int chunkLen;
  protected final int chunks;
  protected final float[] weights;
  private final int blockSize;
  private final int numBlocks;
  private final boolean elementwiseState;
  private float[] state = new float[0];

  private int capacity;
  private int[] addr = new int[0];
  private int lastBatch;

  /** Gradient of the current batch, same layout as the weights; non-zero only in touched blocks. */
  private float[] grad = new float[0];
  /** One bit per block: set while the block is in the touched list. */
  private final long[] touchedBits;
  private int[] touched = new int[1024];
  private int touchedCount;

  protected FloatEmbedding(int dim, int chunkLen, long size, int blockSize, boolean elementwiseState) {
    if (size > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("embedding of " + size + " floats exceeds one Java array");
    }
    this.dim = dim;
    this.chunkLen = chunkLen;
    this.chunks = dim / chunkLen;
    this.weights = new float[(int) size];
    this.blockSize = blockSize;
    this.elementwiseState = elementwiseState;
    this.numBlocks = (int) ((size + blockSize - 1) / blockSize);
    this.touchedBits = new long[(numBlocks + 63) / 64];
  }

  @Override
  public int dim() {
    return dim;
  }

  @Override
  public int blockSize() {
    return blockSize;
  }

  @Override
  public int numBlocks() {
    return numBlocks;
  }

  /** The live parameter array; after writing it directly, nothing else needs refreshing. */
  @Override
  public float[] weights() {
    return weights;
  }

  /** Whether Adagrad keeps one accumulator per float (true) or one per block (false). */
  @Override
  public boolean elementwiseState() {
    return elementwiseState;
  }

  /** Accumulators a stateful optimizer keeps: one per float (element-wise) or one per block (row-wise). */
  @Override
  public int stateLength() {
    return elementwiseState ? weights.length : numBlocks;
  }

  /** Adagrad accumulators ({@link #stateLength()} of them); empty for SGD or before the first update. */
  @Override
  public float[] optimizerState() {
    return state;
  }

  @Override
  public void setOptimizerState(float[] s) {
    if (s.length != 0 && s.length != stateLength()) {
      throw new IllegalArgumentException("embedding optimizer state must have 0 or " + stateLength()
          + " accumulators (one per " + (elementwiseState ? "float" : "block") + "), got " + s.length);
    }
    state = s;
  }

  /**
   * out[(b*26 + t)*dim + j] = element j of the embedding of feature t of row b. Remembers the
   * addresses it read for {@link #accumulateGradients}.
   */
  @Override
  public void lookup(int batch, long[] cats, float[] out) {
    int n = batch * ModelConfig.NUM_SPARSE * chunks;
    if (n > capacity) {
      capacity = n;
      addr = new int[n];
    }
    read(batch, cats, out, addr);
    lastBatch = batch;
  }

  /**
   * As {@link #lookup}, but for scoring only: it remembers nothing, so any number of threads may
   * call it at once while nobody updates the weights.
   */
  @Override
  public void gather(int batch, long[] cats, float[] out) {
    read(batch, cats, out, null);
  }

  private void read(int batch, long[] cats, float[] out, int[] addresses) {
    int a = 0;
    for (int b = 0; b < batch; b++) {
      for (int t = 0; t < ModelConfig.NUM_SPARSE; t++) {
        long v = cats[b * ModelConfig.NUM_SPARSE + t];
        for (int c = 0; c < chunks; c++) {
          int off = address(t, v, c);
          if (addresses != null) {
            addresses[a] = off;
          }
          System.arraycopy(weights, off, out, a * chunkLen, chunkLen);
          a++;
        }
      }
    }
  }

  /** Adds dEmb (same layout as lookup's output) into the gradients of the blocks the last lookup read. */
  @Override
  public void accumulateGradients(float[] dEmb) {
    if (grad.length == 0) {
      grad = new float[weights.length];
    }
    int n = lastBatch * ModelConfig.NUM_SPARSE * chunks;
    for (int a = 0; a < n; a++) {
      int off = addr[a];
      Kernels.addInPlace(chunkLen, dEmb, a * chunkLen, grad, off);
      int last = (off + chunkLen - 1) / blockSize;
      for (int blk = off / blockSize; blk <= last; blk++) {
        long bit = 1L << blk;
        if ((touchedBits[blk >>> 6] & bit) == 0) {
          touchedBits[blk >>> 6] |= bit;
          if (touchedCount == touched.length) {
            touched = Arrays.copyOf(touched, touched.length * 2);
          }
          touched[touchedCount++] = blk;
        }
      }
    }
  }

  /** The gradient accumulated for array element i since the last update (0 if untouched). */
  @Override
  public float gradientAt(int i) {
    return grad.length == 0 ? 0f : grad[i];
  }

  /** Number of blocks the current batch's gradients touch. */
  @Override
  public int touchedBlocks() {
    return touchedCount;
  }

  /** Block index of touched slot s, in first-touch order. */
  @Override
  public int touchedBlock(int s) {
    return touched[s];
  }

  /** Whether every accumulated gradient is finite. */
  @Override
  public boolean gradientsFinite() {
    float s = 0f;
    for (int t = 0; t < touchedCount; t++) {
      int start = touched[t] * blockSize;
      int end = Math.min(weights.length, start + blockSize);
      for (int i = start; i < end; i++) {
        s += grad[i] * 0f;
      }
    }
    return s == 0f;
  }

  /** Applies the optimizer to every touched block, then forgets the gradients. */
  @Override
  public void applyUpdateInPlace(Optimizer opt, float lr) {
    if (opt.hasState() && state.length == 0) {
      state = new float[stateLength()];
    }
    for (int t = 0; t < touchedCount; t++) {
      int blk = touched[t];
      int start = blk * blockSize;
      int len = Math.min(blockSize, weights.length - start);
      if (elementwiseState) {
        opt.elementStepInPlace(weights, grad, state, start, len, lr);
      } else {
        opt.rowStepInPlace(weights, grad, start, len, state, blk, lr);
      }
    }
    discardGradients();
  }

  @Override
  public void allocateOptimizerState() {
    if (state.length == 0) {
      state = new float[stateLength()];
    }
  }

  @Override
  public long storageBytes() {
    return 4L * weights.length;
  }

  @Override
  public long optimizerStateBytes() {
    return 4L * state.length;
  }

  /** Drops the accumulated gradients without applying them (a skipped update). */
  @Override
  public void discardGradients() {
    for (int t = 0; t < touchedCount; t++) {
      int blk = touched[t];
      int start = blk * blockSize;
      Arrays.fill(grad, start, Math.min(weights.length, start + blockSize), 0f);
      touchedBits[blk >>> 6] = 0L;
    }
    touchedCount = 0;
  }
}
