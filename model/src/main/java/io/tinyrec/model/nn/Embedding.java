package io.tinyrec.model.nn;

import io.tinyrec.model.ModelConfig;

/**
 * The 26 categorical embeddings: one storage read in fixed-length chunks at computed addresses,
 * with sparse gradients and a per-block optimizer update. {@link FloatEmbedding} keeps the storage
 * as a float32 array (ROBE-Z or hash tables); {@link QuantizedRobeEmbedding} keeps the ROBE-Z
 * array as INT8 or INT4 codes with an FP32 cache of hot lines.
 *
 * <p>The storage is divided into aligned blocks of {@link #blockSize()} floats; a batch's
 * gradients are summed per element (colliding entries share parameters, so their gradients add)
 * and the touched blocks are listed, then the optimizer updates block by block.
 *
 * <p>Lifecycle per batch: {@link #lookup}, then {@link #accumulateGradients}, then
 * {@link #applyUpdateInPlace} (or {@link #discardGradients}). Not thread-safe, except
 * {@link #gather}, which only reads.
 */
public abstract sealed class Embedding permits FloatEmbedding, QuantizedRobeEmbedding {

  /** Builds the embedding a config asks for, with its initial weights drawn from rng. */
  public static Embedding create(ModelConfig c, java.util.random.RandomGenerator rng) {
    boolean elementwise = c.embeddingAdagrad() == ModelConfig.EmbeddingAdagrad.ELEMENTWISE;
    if (c.quantization().quantized()) {
      return new QuantizedRobeEmbedding(c, rng);
    }
    return c.embedding() == ModelConfig.EmbeddingKind.ROBE
        ? new RobeEmbedding(c.dim(), c.robeSize(), c.robeZ(), elementwise, c.seed(), rng)
        : new HashEmbedding(c.dim(), c.rowsPerTable(), elementwise, rng);
  }

  /** Start of chunk {@code chunk} of the embedding of category value v of feature t. */
  public abstract int address(int t, long v, int chunk);

  public abstract int dim();

  /** Floats per block: the unit of touched-block tracking and of the row-wise optimizer state. */
  public abstract int blockSize();

  public abstract int numBlocks();

  /**
   * The live float32 parameter array; after writing it directly, nothing else needs refreshing.
   *
   * @throws UnsupportedOperationException for a quantized embedding, which has no such array
   */
  public abstract float[] weights();

  /** Whether Adagrad keeps one accumulator per float (true) or one per block (false). */
  public abstract boolean elementwiseState();

  /**
   * Accumulators a stateful optimizer keeps in {@link #optimizerState()}.
   *
   * @throws UnsupportedOperationException for a quantized embedding, whose state lives beside its lines
   */
  public abstract int stateLength();

  /**
   * Adagrad accumulators of a float32 embedding; empty for SGD or before the first update.
   *
   * @throws UnsupportedOperationException for a quantized embedding, whose state lives beside its lines
   */
  public abstract float[] optimizerState();

  /** @throws UnsupportedOperationException for a quantized embedding */
  public abstract void setOptimizerState(float[] s);

  /** Allocates the optimizer's state now (zeros, as the first update would). */
  public abstract void allocateOptimizerState();

  /**
   * out[(b*26 + t)*dim + j] = element j of the embedding of feature t of row b. Remembers what it
   * read for {@link #accumulateGradients}.
   */
  public abstract void lookup(int batch, long[] cats, float[] out);

  /**
   * As {@link #lookup}, with the same values for the same state, but for scoring only: it remembers
   * nothing and changes nothing (no cache admission, no counters, no staging), so any number of
   * threads may call it at once while nobody updates the weights.
   */
  public abstract void gather(int batch, long[] cats, float[] out);

  /** Adds dEmb (same layout as lookup's output) into the gradients of the blocks the last lookup read. */
  public abstract void accumulateGradients(float[] dEmb);

  /** The gradient accumulated for array element i since the last update (0 if untouched). */
  public abstract float gradientAt(int i);

  /** Number of blocks the current batch's gradients touch. */
  public abstract int touchedBlocks();

  /** Block index of touched slot s, in first-touch order. */
  public abstract int touchedBlock(int s);

  /** Whether every accumulated gradient is finite. */
  public abstract boolean gradientsFinite();

  /** Applies the optimizer to every touched block, then forgets the gradients. */
  public abstract void applyUpdateInPlace(Optimizer opt, float lr);

  /** Drops the accumulated gradients without applying them (a skipped update). */
  public abstract void discardGradients();

  /**
   * Bytes the embedding's parameters take in memory: the float32 array, or the quantized codes
   * plus their scales and biases plus the FP32 cache with its bookkeeping.
   */
  public abstract long storageBytes();

  /** Bytes of the embedding's optimizer state as allocated now (0 for SGD or before it exists). */
  public abstract long optimizerStateBytes();
}
