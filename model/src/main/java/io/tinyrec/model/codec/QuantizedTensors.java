package io.tinyrec.model.codec;

import io.tinyrec.model.Dlrm;
import io.tinyrec.model.ModelConfig;
import io.tinyrec.model.codec.SnapshotCodec.Out;
import io.tinyrec.model.nn.Param;
import io.tinyrec.model.nn.QuantizedArray;
import io.tinyrec.model.nn.QuantizedRobeEmbedding;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * The tensors of a format-version-2 snapshot of a quantized model (docs/snapshot-format.md §5.2):
 * the dense layers as in version 1, the quantized array's scales, biases and codes with the cache
 * flushed in (rounded to nearest, the model untouched), and, with the optimizer-state flag, the
 * optimizer state, the FP32 cache and the cache's bookkeeping. Stateless.
 */
final class QuantizedTensors {
  static final String SCALE = "embedding.scale";
  static final String BIAS = "embedding.bias";
  static final String CODES = "embedding.codes";
  static final String STATE = "state:embedding.weights";
  static final String CACHE_LINES = "cache.lines";
  static final String CACHE_STAMPS = "cache.stamps";
  static final String CACHE_WEIGHTS = "cache.weights";
  static final String CACHE_STATE = "cache.state";
  static final String CACHE_FREQUENCY = "cache.frequency";
  static final String CACHE_COUNTERS = "cache.counters";

  private QuantizedTensors() {}

  static List<Out> tensorsOf(Dlrm model, boolean withState) {
    ModelConfig c = model.config();
    QuantizedArray a = ((QuantizedRobeEmbedding) model.embedding()).array();
    List<Out> out = new ArrayList<>();
    for (Param p : model.denseParams()) {
      out.add(SnapshotCodec.f32(p.name(), p.shape(), p.value()));
    }
    QuantizedArray.Flushed f = a.flushed();
    int groups = a.numGroups();
    if (a.fp16Scales()) {
      out.add(shorts(SCALE, new int[] {groups}, SnapshotCodec.DTYPE_F16, f.scaleH()));
      out.add(shorts(BIAS, new int[] {groups}, SnapshotCodec.DTYPE_F16, f.biasH()));
    } else {
      out.add(SnapshotCodec.f32(SCALE, new int[] {groups}, f.scaleF()));
      out.add(SnapshotCodec.f32(BIAS, new int[] {groups}, f.biasF()));
    }
    byte[] codes = f.codes();
    out.add(new Out(SnapshotCodec.bytes(CODES), new int[] {a.size()},
        a.int4() ? SnapshotCodec.DTYPE_U4 : SnapshotCodec.DTYPE_U8, b -> b.put(codes)));
    if (!withState) {
      return out;
    }
    boolean stateful = c.optimizer() == ModelConfig.OptimizerKind.ADAGRAD;
    for (Param p : model.denseParams()) {
      float[] s = stateful ? (p.state().length == 0 ? new float[p.size()] : p.state()) : new float[0];
      out.add(SnapshotCodec.f32("state:" + p.name(), new int[] {s.length}, s));
    }
    switch (a.stateKind()) {
      case ELEMENT -> {
        short[] s = f.elemState() == null ? new short[a.size()] : f.elemState();
        out.add(shorts(STATE, new int[] {a.size()}, SnapshotCodec.DTYPE_BF16, s));
      }
      case ROW -> {
        int blocks = (a.size() + c.robeZ() - 1) / c.robeZ();
        float[] s = a.rowState() == null ? new float[blocks] : a.rowState();
        out.add(SnapshotCodec.f32(STATE, new int[] {blocks}, s));
      }
      case NONE -> out.add(SnapshotCodec.f32(STATE, new int[] {0}, new float[0]));
    }
    QuantizedArray.CachedLine[] lines = a.cachedLinesInOrder();
    int n = lines.length;
    int len = a.lineLength();
    out.add(new Out(SnapshotCodec.bytes(CACHE_LINES), new int[] {n}, SnapshotCodec.DTYPE_I32, b -> {
      for (QuantizedArray.CachedLine l : lines) {
        b.putInt(l.line());
      }
    }));
    out.add(new Out(SnapshotCodec.bytes(CACHE_STAMPS), new int[] {n}, SnapshotCodec.DTYPE_I32, b -> {
      for (QuantizedArray.CachedLine l : lines) {
        b.putInt(l.stamp());
      }
    }));
    out.add(new Out(SnapshotCodec.bytes(CACHE_WEIGHTS), new int[] {n, len}, SnapshotCodec.DTYPE_F32, b -> {
      for (QuantizedArray.CachedLine l : lines) {
        putFloats(b, l.weights());
      }
    }));
    boolean element = a.stateKind() == QuantizedArray.StateKind.ELEMENT;
    out.add(new Out(SnapshotCodec.bytes(CACHE_STATE), element ? new int[] {n, len} : new int[] {0},
        SnapshotCodec.DTYPE_F32, b -> {
          if (element) {
            for (QuantizedArray.CachedLine l : lines) {
              putFloats(b, l.state().length == len ? l.state() : new float[len]);
            }
          }
        }));
    byte[] freq = a.frequencies();
    out.add(new Out(SnapshotCodec.bytes(CACHE_FREQUENCY), new int[] {freq.length}, SnapshotCodec.DTYPE_U8,
        b -> b.put(freq)));
    long[] counters = {a.clock(), a.evictions(), a.agingTicks()};
    out.add(new Out(SnapshotCodec.bytes(CACHE_COUNTERS), new int[] {3}, SnapshotCodec.DTYPE_I64, b -> {
      for (long x : counters) {
        b.putLong(x);
      }
    }));
    return out;
  }

  private static void putFloats(ByteBuffer b, float[] v) {
    b.asFloatBuffer().put(v);
    b.position(b.position() + 4 * v.length);
  }

  private static Out shorts(String name, int[] shape, int dtype, short[] v) {
    return new Out(SnapshotCodec.bytes(name), shape, dtype, b -> {
      b.asShortBuffer().put(v);
      b.position(b.position() + 2 * v.length);
    });
  }

  /** Reads the tensors after the counters into a freshly built model of the snapshot's config. */
  static void read(ByteBuffer b, Dlrm model, boolean withState) {
    ModelConfig c = model.config();
    QuantizedArray a = ((QuantizedRobeEmbedding) model.embedding()).array();
    List<Param> dense = model.denseParams();
    int expected = dense.size() + 3 + (withState ? dense.size() + 7 : 0);
    int count = b.getInt();
    if (count != expected) {
      throw new SnapshotFormatException("snapshot has " + count + " tensors, the config " + c + " implies " + expected);
    }
    for (Param p : dense) {
      SnapshotCodec.requireShape(p.name(), SnapshotCodec.readTensorHeader(b, p.name(), SnapshotCodec.DTYPE_F32),
          p.shape());
      getFloats(b, p.value());
    }
    int groups = a.numGroups();
    float[] sF = null;
    float[] bF = null;
    short[] sH = null;
    short[] bH = null;
    int scaleDtype = a.fp16Scales() ? SnapshotCodec.DTYPE_F16 : SnapshotCodec.DTYPE_F32;
    SnapshotCodec.requireShape(SCALE, SnapshotCodec.readTensorHeader(b, SCALE, scaleDtype), groups);
    if (a.fp16Scales()) {
      sH = getShorts(b, groups);
    } else {
      sF = getFloats(b, new float[groups]);
    }
    SnapshotCodec.requireShape(BIAS, SnapshotCodec.readTensorHeader(b, BIAS, scaleDtype), groups);
    if (a.fp16Scales()) {
      bH = getShorts(b, groups);
    } else {
      bF = getFloats(b, new float[groups]);
    }
    int codeDtype = a.int4() ? SnapshotCodec.DTYPE_U4 : SnapshotCodec.DTYPE_U8;
    SnapshotCodec.requireShape(CODES, SnapshotCodec.readTensorHeader(b, CODES, codeDtype), a.size());
    byte[] codes = new byte[(int) SnapshotCodec.dataBytes(codeDtype, a.size())];
    b.get(codes);
    if (!withState) {
      a.setStorage(codes, sF, bF, sH, bH, null, null);
      return;
    }
    boolean stateful = c.optimizer() == ModelConfig.OptimizerKind.ADAGRAD;
    for (Param p : dense) {
      String name = "state:" + p.name();
      int[] shape = SnapshotCodec.readTensorHeader(b, name, SnapshotCodec.DTYPE_F32);
      SnapshotCodec.requireShape(name, shape, stateful ? p.size() : 0);
      if (stateful) {
        p.setState(getFloats(b, new float[p.size()]));
      }
    }
    short[] elem = null;
    float[] row = null;
    switch (a.stateKind()) {
      case ELEMENT -> {
        SnapshotCodec.requireShape(STATE, SnapshotCodec.readTensorHeader(b, STATE, SnapshotCodec.DTYPE_BF16), a.size());
        elem = getShorts(b, a.size());
      }
      case ROW -> {
        int blocks = (a.size() + c.robeZ() - 1) / c.robeZ();
        SnapshotCodec.requireShape(STATE, SnapshotCodec.readTensorHeader(b, STATE, SnapshotCodec.DTYPE_F32), blocks);
        row = getFloats(b, new float[blocks]);
      }
      case NONE -> SnapshotCodec.requireShape(STATE, SnapshotCodec.readTensorHeader(b, STATE, SnapshotCodec.DTYPE_F32),
          0);
    }
    a.setStorage(codes, sF, bF, sH, bH, elem, row);

    int[] shape = SnapshotCodec.readTensorHeader(b, CACHE_LINES, SnapshotCodec.DTYPE_I32);
    if (shape.length != 1 || shape[0] > a.numLines()) {
      throw new SnapshotFormatException("tensor '" + CACHE_LINES + "' has shape " + java.util.Arrays.toString(shape)
          + "; expected [n] with n <= " + a.numLines() + " lines");
    }
    int n = shape[0];
    int len = a.lineLength();
    int[] lines = new int[n];
    BitSet seen = new BitSet(a.numLines());
    for (int k = 0; k < n; k++) {
      lines[k] = b.getInt();
      if (lines[k] < 0 || lines[k] >= a.numLines() || seen.get(lines[k])) {
        throw new SnapshotFormatException("cache line " + lines[k] + " is out of range 0.." + (a.numLines() - 1)
            + " or listed twice");
      }
      seen.set(lines[k]);
    }
    SnapshotCodec.requireShape(CACHE_STAMPS, SnapshotCodec.readTensorHeader(b, CACHE_STAMPS, SnapshotCodec.DTYPE_I32), n);
    int[] stamps = new int[n];
    for (int k = 0; k < n; k++) {
      stamps[k] = b.getInt();
      if (k > 0 && stamps[k] <= stamps[k - 1]) {
        throw new SnapshotFormatException("cache stamps must increase, got " + stamps[k - 1] + " then " + stamps[k]);
      }
    }
    SnapshotCodec.requireShape(CACHE_WEIGHTS, SnapshotCodec.readTensorHeader(b, CACHE_WEIGHTS,
        SnapshotCodec.DTYPE_F32), n, len);
    float[][] weights = new float[n][];
    for (int k = 0; k < n; k++) {
      weights[k] = getFloats(b, new float[len]);
    }
    boolean element = a.stateKind() == QuantizedArray.StateKind.ELEMENT;
    int[] stateShape = SnapshotCodec.readTensorHeader(b, CACHE_STATE, SnapshotCodec.DTYPE_F32);
    if (element) {
      SnapshotCodec.requireShape(CACHE_STATE, stateShape, n, len);
    } else {
      SnapshotCodec.requireShape(CACHE_STATE, stateShape, 0);
    }
    QuantizedArray.CachedLine[] cached = new QuantizedArray.CachedLine[n];
    for (int k = 0; k < n; k++) {
      float[] s = element ? getFloats(b, new float[len]) : new float[0];
      cached[k] = new QuantizedArray.CachedLine(lines[k], stamps[k], weights[k], s);
    }
    int freqLen = a.frequencies().length;
    SnapshotCodec.requireShape(CACHE_FREQUENCY, SnapshotCodec.readTensorHeader(b, CACHE_FREQUENCY,
        SnapshotCodec.DTYPE_U8), freqLen);
    byte[] freq = new byte[freqLen];
    b.get(freq);
    SnapshotCodec.requireShape(CACHE_COUNTERS, SnapshotCodec.readTensorHeader(b, CACHE_COUNTERS,
        SnapshotCodec.DTYPE_I64), 3);
    long clock = b.getLong();
    long evictions = b.getLong();
    long aging = b.getLong();
    if (clock < 0 || clock > Integer.MAX_VALUE || aging < 0 || aging > Integer.MAX_VALUE || evictions < 0
        || (n > 0 && stamps[n - 1] > clock)) {
      throw new SnapshotFormatException("cache counters out of range: clock " + clock + ", evictions " + evictions
          + ", aging ticks " + aging);
    }
    a.restoreCache(cached, freq, (int) clock, evictions, (int) aging);
  }

  private static float[] getFloats(ByteBuffer b, float[] into) {
    b.asFloatBuffer().get(into);
    b.position(b.position() + 4 * into.length);
    return into;
  }

  private static short[] getShorts(ByteBuffer b, int n) {
    short[] v = new short[n];
    b.asShortBuffer().get(v);
    b.position(b.position() + 2 * n);
    return v;
  }
}
