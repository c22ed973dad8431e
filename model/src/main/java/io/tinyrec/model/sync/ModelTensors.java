package io.tinyrec.model.sync;

import io.tinyrec.model.Dlrm;
import io.tinyrec.model.nn.Param;
import io.tinyrec.model.nn.QuantizedArray;
import io.tinyrec.model.nn.QuantizedRobeEmbedding;
import java.util.ArrayList;
import java.util.List;

/**
 * Every float array a {@link Dlrm} consists of, in a fixed order: each dense parameter's values
 * then its optimizer state, then the embedding's weights and its per-block optimizer state. Each
 * array is cut into chunks (a whole dense tensor is one chunk; the embedding arrays are cut at
 * their optimizer blocks), and chunks are the unit a {@link ChunkDelta} carries.
 *
 * <p>A quantized embedding is not a float array: its {@link QuantizedArray} (codes, scales,
 * compressed state and FP32 cache) is carried whole as the model's {@link #lines()}, and a delta
 * carries its changed lines as records (a cached line as FP32, any other as codes and scales).
 *
 * <p>The arrays are the model's live arrays, not copies: after writing them, call
 * {@link Dlrm#weightsChangedInPlace()}. Optimizer state is allocated up front, so two models of
 * one config always have the same arrays of the same lengths.
 */
public final class ModelTensors {
  private final float[][] arrays;
  private final int[] chunkLen;
  /** For a weight array, the index of its Adagrad accumulator array; -1 for none (and for state arrays). */
  private final int[] stateOf;
  /** The quantized embedding's array, or null for a float32 embedding (which is among the arrays). */
  private final QuantizedArray lines;

  private ModelTensors(float[][] arrays, int[] chunkLen, int[] stateOf, QuantizedArray lines) {
    this.arrays = arrays;
    this.chunkLen = chunkLen;
    this.stateOf = stateOf;
    this.lines = lines;
  }

  /** The live arrays of a model (its optimizer state is allocated if it was not yet). */
  public static ModelTensors of(Dlrm model) {
    model.allocateOptimizerState();
    List<float[]> a = new ArrayList<>();
    List<Integer> len = new ArrayList<>();
    List<Integer> state = new ArrayList<>();
    for (Param p : model.denseParams()) {
      a.add(p.value());
      len.add(p.size());
      state.add(p.state().length > 0 ? a.size() : -1);
      if (p.state().length > 0) {
        a.add(p.state());
        len.add(p.size());
        state.add(-1);
      }
    }
    var e = model.embedding();
    if (e instanceof QuantizedRobeEmbedding q) {
      return new ModelTensors(a.toArray(new float[0][]), len.stream().mapToInt(Integer::intValue).toArray(),
          state.stream().mapToInt(Integer::intValue).toArray(), q.array());
    }
    // Chunks of the embedding are its optimizer blocks (element-wise blocks of one float are grouped
    // by 16, so that a delta does not spend an index on every float).
    int weightChunk = e.blockSize() > 1 ? e.blockSize() : 16;
    a.add(e.weights());
    len.add(weightChunk);
    boolean hasState = e.optimizerState().length > 0;
    state.add(hasState ? a.size() : -1);
    if (hasState) {
      a.add(e.optimizerState());
      // Row-wise state has one accumulator per block; element-wise state is shaped like the weights.
      boolean elementwise = e.elementwiseState();
      len.add(elementwise ? weightChunk : 1);
      state.add(-1);
    }
    return new ModelTensors(a.toArray(new float[0][]), len.stream().mapToInt(Integer::intValue).toArray(),
        state.stream().mapToInt(Integer::intValue).toArray(), null);
  }

  /** A detached deep copy, with the same chunking. */
  public ModelTensors copy() {
    float[][] c = new float[arrays.length][];
    for (int i = 0; i < arrays.length; i++) {
      c[i] = arrays[i].clone();
    }
    return new ModelTensors(c, chunkLen, stateOf, lines == null ? null : lines.copy());
  }

  /** Overwrites every array with the other's values (same layout required). */
  public void setFrom(ModelTensors other) {
    requireSameLayout(other);
    for (int i = 0; i < arrays.length; i++) {
      System.arraycopy(other.arrays[i], 0, arrays[i], 0, arrays[i].length);
    }
    if (lines != null) {
      lines.setFrom(other.lines);
    }
  }

  /** The quantized embedding's array (live for a model's tensors), or null for a float32 embedding. */
  public QuantizedArray lines() {
    return lines;
  }

  public int tensorCount() {
    return arrays.length;
  }

  public float[] array(int i) {
    return arrays[i];
  }

  public int chunkLength(int i) {
    return chunkLen[i];
  }

  /** The index of array i's Adagrad accumulator array, or -1 if it has none or is one. */
  public int stateOf(int i) {
    return stateOf[i];
  }

  /** Whether array i holds optimizer state. */
  public boolean isState(int i) {
    for (int s : stateOf) {
      if (s == i) {
        return true;
      }
    }
    return false;
  }

  public int chunkCount(int i) {
    return (arrays[i].length + chunkLen[i] - 1) / chunkLen[i];
  }

  /** Total floats over all float arrays (a quantized embedding's array is not counted). */
  public long floatCount() {
    long n = 0;
    for (float[] a : arrays) {
      n += a.length;
    }
    return n;
  }

  /** Bitwise equality of every array (NaN equals NaN, 0.0 differs from -0.0). */
  public boolean sameAs(ModelTensors other) {
    requireSameLayout(other);
    for (int i = 0; i < arrays.length; i++) {
      float[] x = arrays[i];
      float[] y = other.arrays[i];
      for (int j = 0; j < x.length; j++) {
        if (Float.floatToRawIntBits(x[j]) != Float.floatToRawIntBits(y[j])) {
          return false;
        }
      }
    }
    return lines == null || lines.sameAs(other.lines);
  }

  /**
   * CRC-32 over every array's float bits, little-endian, then every quantized line's record in
   * line order: a cheap fingerprint of the whole model, blind to how a cache is laid out.
   */
  public long checksum() {
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    forEachBlock((bytes, n) -> crc.update(bytes, 0, n));
    if (lines != null) {
      lines.updateChecksum(crc);
    }
    return crc.getValue();
  }

  /** Every float of every array, in order, little-endian; {@link #readFrom} reads it back. */
  public void writeTo(java.io.DataOutput out) throws java.io.IOException {
    try {
      forEachBlock((bytes, n) -> {
        try {
          out.write(bytes, 0, n);
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
    } catch (java.io.UncheckedIOException e) {
      throw e.getCause();
    }
    if (lines != null) {
      lines.writeTo(out);
    }
  }

  /** Overwrites every array with floats written by {@link #writeTo} from a model of the same layout. */
  public void readFrom(java.io.DataInput in) throws java.io.IOException {
    byte[] raw = new byte[BLOCK_FLOATS * 4];
    java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(raw).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (float[] a : arrays) {
      for (int j = 0; j < a.length; ) {
        int n = Math.min(BLOCK_FLOATS, a.length - j);
        in.readFully(raw, 0, 4 * n);
        buf.clear();
        buf.asFloatBuffer().get(a, j, n);
        j += n;
      }
    }
    if (lines != null) {
      lines.readFrom(in);
    }
  }

  private static final int BLOCK_FLOATS = 4096;

  /** Hands the arrays' floats over as little-endian bytes, a block at a time (n = bytes valid). */
  private void forEachBlock(java.util.function.ObjIntConsumer<byte[]> sink) {
    byte[] raw = new byte[BLOCK_FLOATS * 4];
    java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(raw).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (float[] a : arrays) {
      for (int j = 0; j < a.length; ) {
        int n = Math.min(BLOCK_FLOATS, a.length - j);
        buf.clear();
        buf.asFloatBuffer().put(a, j, n);
        sink.accept(raw, 4 * n);
        j += n;
      }
    }
  }

  void requireSameLayout(ModelTensors other) {
    if (other.arrays.length != arrays.length) {
      throw new IllegalArgumentException("models differ in layout: " + arrays.length + " vs " + other.arrays.length
          + " arrays");
    }
    for (int i = 0; i < arrays.length; i++) {
      if (other.arrays[i].length != arrays[i].length || other.chunkLen[i] != chunkLen[i]) {
        throw new IllegalArgumentException("models differ in layout at array " + i + ": " + arrays[i].length
            + " vs " + other.arrays[i].length + " floats");
      }
    }
    if ((lines == null) != (other.lines == null)) {
      throw new IllegalArgumentException("models differ in layout: one has a quantized embedding, the other not");
    }
    if (lines != null) {
      lines.requireSameShape(other.lines);
    }
  }
}
