package io.tinyrec.model.codec;

import io.tinyrec.model.Dlrm;
import io.tinyrec.model.ModelConfig;
import io.tinyrec.model.nn.Embedding;
import io.tinyrec.model.nn.Param;
import io.tinyrec.model.nn.RobeEmbedding;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;

/**
 * Encodes a {@link Dlrm} to bytes and back: a versioned, checksummed, self-contained binary format,
 * specified byte by byte in docs/snapshot-format.md so other languages can score with it.
 *
 * <p>Layout (all integers and floats little-endian): magic "TRSN", u16 format version, u16 flags,
 * the config, the counters, the tensors (name, shape, dtype, data) in layer order, then a CRC-32
 * (zlib polynomial) of every byte before it. Decoding checks magic, version, flags, config,
 * every tensor's name, shape and size against the config, and the checksum, and never trusts a
 * length it reads. Stateless and thread-safe.
 *
 * <p>Version 1 holds float32 models and is what a float32 model is still written as, byte for
 * byte; version 2 adds the quantized ROBE-Z array (INT8 or INT4 codes with per-group scales and
 * biases) and, with the optimizer-state flag, the FP32 cache and its bookkeeping, so that training
 * resumes bit for bit. Without the flag a quantized snapshot holds no cache: each cached line is
 * flushed into its codes, rounded to nearest, without touching the model. Both versions decode.
 */
public final class SnapshotCodec {
  public static final byte[] MAGIC = {'T', 'R', 'S', 'N'};
  /** The newest format version this build writes and reads. */
  public static final int FORMAT_VERSION = 2;
  /** The version a float32 model is written as: unchanged since it was introduced. */
  public static final int FORMAT_VERSION_FP32 = 1;
  public static final int FLAG_OPTIMIZER_STATE = 1;
  static final int DTYPE_F32 = 0;
  static final int DTYPE_F16 = 1;
  static final int DTYPE_U8 = 2;
  static final int DTYPE_U4 = 3;
  static final int DTYPE_I32 = 4;
  static final int DTYPE_BF16 = 5;
  static final int DTYPE_I64 = 6;
  private static final String EMBEDDING = "embedding.weights";
  private static final String STATE_PREFIX = "state:";

  private SnapshotCodec() {}

  /** What a snapshot holds besides its weights. */
  public record Header(int formatVersion, boolean hasOptimizerState, ModelConfig config, long rowsTrained,
      long skippedUpdates, int tensorCount, long bytes) {}

  /** Encodes the model's config, counters and weights, plus its optimizer state when asked. */
  public static byte[] encode(Dlrm model, boolean withOptimizerState) {
    ModelConfig c = model.config();
    int version = c.quantization().quantized() ? FORMAT_VERSION : FORMAT_VERSION_FP32;
    List<Out> tensors = c.quantization().quantized()
        ? QuantizedTensors.tensorsOf(model, withOptimizerState)
        : fp32TensorsOf(model, withOptimizerState);
    // The config is encoded first so its length is measured, not restated field by field.
    ByteBuffer config = ByteBuffer.allocate(1024).order(ByteOrder.LITTLE_ENDIAN);
    writeConfig(config, c, version);
    config.flip();
    long size = 4 + 2 + 2 + config.remaining() + 16 + 4 + 4;
    for (Out t : tensors) {
      size += 1 + t.name.length + 1 + 4L * t.shape.length + 1 + t.bytes();
    }
    if (size > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("snapshot of " + size + " bytes does not fit one byte array");
    }
    ByteBuffer b = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
    b.put(MAGIC);
    b.putShort((short) version);
    b.putShort((short) (withOptimizerState ? FLAG_OPTIMIZER_STATE : 0));
    b.put(config);
    b.putLong(model.rowsTrained());
    b.putLong(model.skippedUpdates());
    b.putInt(tensors.size());
    for (Out t : tensors) {
      b.put((byte) t.name.length).put(t.name);
      b.put((byte) t.shape.length);
      for (int d : t.shape) {
        b.putInt(d);
      }
      b.put((byte) t.dtype);
      int before = b.position();
      t.writer.accept(b);
      if (b.position() - before != t.bytes()) {
        throw new IllegalStateException("tensor " + t.nameString() + " wrote " + (b.position() - before)
            + " bytes, declared " + t.bytes());
      }
    }
    CRC32 crc = new CRC32();
    crc.update(b.array(), 0, b.position());
    b.putInt((int) crc.getValue());
    return b.array();
  }

  /** One tensor to write: name, shape, dtype and a writer of exactly its data bytes. */
  record Out(byte[] name, int[] shape, int dtype, java.util.function.Consumer<ByteBuffer> writer) {
    String nameString() {
      return new String(name, StandardCharsets.UTF_8);
    }

    long bytes() {
      return dataBytes(dtype, elements(shape));
    }
  }

  static long elements(int[] shape) {
    long n = 1;
    for (int d : shape) {
      n *= d;
    }
    return n;
  }

  /** Bytes of n elements of a dtype (INT4 packs two a byte, the last byte half used if n is odd). */
  static long dataBytes(int dtype, long n) {
    return switch (dtype) {
      case DTYPE_F32, DTYPE_I32 -> 4 * n;
      case DTYPE_F16, DTYPE_BF16 -> 2 * n;
      case DTYPE_U8 -> n;
      case DTYPE_U4 -> (n + 1) / 2;
      case DTYPE_I64 -> 8 * n;
      default -> throw new SnapshotFormatException("unknown dtype " + dtype);
    };
  }

  static Out f32(String name, int[] shape, float[] data) {
    return new Out(bytes(name), shape, DTYPE_F32, b -> {
      b.asFloatBuffer().put(data, 0, (int) elements(shape));
      b.position(b.position() + 4 * (int) elements(shape));
    });
  }

  private static List<Out> fp32TensorsOf(Dlrm model, boolean withState) {
    List<Out> out = new ArrayList<>();
    for (Tensor t : tensorsOf(model, withState)) {
      out.add(f32(t.nameString(), t.shape, t.data));
    }
    return out;
  }

  /** Reads and validates only the header (config and counters), checking the checksum too. */
  public static Header readHeader(byte[] bytes) {
    ByteBuffer b = verified(bytes);
    int version = b.getShort(4) & 0xFFFF;
    int flags = b.getShort(6) & 0xFFFF;
    b.position(8);
    ModelConfig c = readConfig(b, version);
    long rows = b.getLong();
    long skipped = b.getLong();
    int count = b.getInt();
    return new Header(version, (flags & FLAG_OPTIMIZER_STATE) != 0, c, rows, skipped, count, bytes.length);
  }

  /** Decodes a snapshot into a new model, with optimizer state if the snapshot carries it. */
  public static Dlrm decode(byte[] bytes) {
    ByteBuffer b = verified(bytes);
    int version = b.getShort(4) & 0xFFFF;
    int flags = b.getShort(6) & 0xFFFF;
    b.position(8);
    ModelConfig c;
    try {
      c = readConfig(b, version);
      long claimed = minimumWeightBytes(c);
      if (claimed > bytes.length) {
        throw new SnapshotFormatException("snapshot config " + c + " needs at least " + claimed
            + " bytes of weights, but the snapshot is only " + bytes.length + " bytes");
      }
      Dlrm model = new Dlrm(c);
      model.setCounters(b.getLong(), b.getLong());
      if (c.quantization().quantized()) {
        QuantizedTensors.read(b, model, (flags & FLAG_OPTIMIZER_STATE) != 0);
        if (b.remaining() != 4) {
          throw new SnapshotFormatException("snapshot has " + (b.remaining() - 4)
              + " unexpected bytes after the tensors");
        }
        model.weightsChangedInPlace();
        return model;
      }
      List<Tensor> expected = tensorsOf(model, (flags & FLAG_OPTIMIZER_STATE) != 0);
      int count = b.getInt();
      if (count != expected.size()) {
        throw new SnapshotFormatException("snapshot has " + count + " tensors, the config " + c + " implies "
            + expected.size());
      }
      for (Tensor want : expected) {
        readTensorInto(b, want);
      }
      if (b.remaining() != 4) {
        throw new SnapshotFormatException("snapshot has " + (b.remaining() - 4) + " unexpected bytes after the tensors");
      }
      installState(model, expected);
      model.weightsChangedInPlace();
      return model;
    } catch (BufferUnderflowException e) {
      throw new SnapshotFormatException("snapshot is truncated: it ends inside a field", e);
    } catch (SnapshotFormatException e) {
      throw e;
    } catch (IllegalArgumentException e) {
      throw new SnapshotFormatException("snapshot config is invalid: " + e.getMessage(), e);
    }
  }

  /** Bytes a snapshot of this config holds at least: its weights (codes and scales if quantized). */
  static long minimumWeightBytes(ModelConfig c) {
    long dense = 4 * denseParameterCount(c);
    if (!c.quantization().quantized()) {
      return dense + 4 * c.embeddingFloats();
    }
    long m = c.robeSize();
    long groups = (m + c.quantGroupSize() - 1) / c.quantGroupSize();
    long codes = c.quantization().precision() == ModelConfig.Precision.INT4 ? (m + 1) / 2 : m;
    return dense + codes + 2 * groups * (c.quantization().scaleDtype() == ModelConfig.ScaleDtype.FP16 ? 2 : 4);
  }

  private static ByteBuffer verified(byte[] bytes) {
    if (bytes.length < 12) {
      throw new SnapshotFormatException("snapshot is " + bytes.length + " bytes, too short to hold a header");
    }
    if (!Arrays.equals(Arrays.copyOf(bytes, 4), MAGIC)) {
      throw new SnapshotFormatException("not a tinyrec snapshot: magic is "
          + hex(Arrays.copyOf(bytes, 4)) + ", expected " + hex(MAGIC) + " (\"TRSN\")");
    }
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    int version = b.getShort(4) & 0xFFFF;
    if (version != FORMAT_VERSION_FP32 && version != FORMAT_VERSION) {
      throw new SnapshotFormatException("snapshot format version " + version + " is not supported; this build reads "
          + FORMAT_VERSION_FP32 + " and " + FORMAT_VERSION);
    }
    int flags = b.getShort(6) & 0xFFFF;
    if ((flags & ~FLAG_OPTIMIZER_STATE) != 0) {
      throw new SnapshotFormatException("snapshot has unknown flags 0x" + Integer.toHexString(flags));
    }
    CRC32 crc = new CRC32();
    crc.update(bytes, 0, bytes.length - 4);
    int stored = b.getInt(bytes.length - 4);
    if (stored != (int) crc.getValue()) {
      throw new SnapshotFormatException(String.format("snapshot checksum mismatch: stored CRC-32 %08x, computed %08x "
          + "over %d bytes (corrupt or truncated)", stored, (int) crc.getValue(), bytes.length - 4));
    }
    return b;
  }

  /** One named float tensor, referring to live model arrays. */
  private record Tensor(byte[] name, int[] shape, float[] data) {
    String nameString() {
      return new String(name, StandardCharsets.UTF_8);
    }
  }

  private static List<Tensor> tensorsOf(Dlrm model, boolean withState) {
    List<Tensor> out = new ArrayList<>();
    for (Param p : model.denseParams()) {
      out.add(new Tensor(bytes(p.name()), p.shape(), p.value()));
    }
    Embedding e = model.embedding();
    out.add(new Tensor(bytes(EMBEDDING), new int[] {e.weights().length}, e.weights()));
    if (withState) {
      boolean stateful = model.config().optimizer() == ModelConfig.OptimizerKind.ADAGRAD;
      for (Param p : model.denseParams()) {
        float[] s = stateful ? orFresh(p.state(), p.size()) : new float[0];
        out.add(new Tensor(bytes(STATE_PREFIX + p.name()), new int[] {s.length}, s));
      }
      float[] bs = stateful ? orFresh(e.optimizerState(), e.stateLength()) : new float[0];
      out.add(new Tensor(bytes(STATE_PREFIX + EMBEDDING), new int[] {bs.length}, bs));
    }
    return out;
  }

  private static float[] orFresh(float[] s, int n) {
    return s.length == 0 ? new float[n] : s;
  }

  private static void installState(Dlrm model, List<Tensor> tensors) {
    List<Param> params = model.denseParams();
    for (Tensor t : tensors) {
      String n = t.nameString();
      if (!n.startsWith(STATE_PREFIX) || t.data.length == 0) {
        continue;
      }
      String target = n.substring(STATE_PREFIX.length());
      if (target.equals(EMBEDDING)) {
        model.embedding().setOptimizerState(t.data);
      } else {
        for (Param p : params) {
          if (p.name().equals(target)) {
            p.setState(t.data);
          }
        }
      }
    }
  }

  /**
   * Reads a tensor's name, rank, shape and dtype, checking the name and dtype, and that its data
   * fits before the checksum; returns the shape and leaves the buffer at the data.
   */
  static int[] readTensorHeader(ByteBuffer b, String wantName, int wantDtype) {
    int nameLen = b.get() & 0xFF;
    byte[] name = new byte[nameLen];
    b.get(name);
    String got = new String(name, StandardCharsets.UTF_8);
    if (!got.equals(wantName)) {
      throw new SnapshotFormatException("expected tensor '" + wantName + "' next, found '" + got + "'");
    }
    int rank = b.get() & 0xFF;
    if (rank > 4) {
      throw new SnapshotFormatException("tensor '" + wantName + "' has rank " + rank + "; expected at most 4");
    }
    int[] shape = new int[rank];
    for (int i = 0; i < rank; i++) {
      shape[i] = b.getInt();
      if (shape[i] < 0) {
        throw new SnapshotFormatException("tensor '" + wantName + "' has a negative dimension " + shape[i]);
      }
    }
    int dtype = b.get() & 0xFF;
    if (dtype != wantDtype) {
      throw new SnapshotFormatException("tensor '" + wantName + "' has dtype " + dtype + ", expected " + wantDtype);
    }
    long need = dataBytes(dtype, elements(shape));
    if (need > b.remaining() - 4) {
      throw new SnapshotFormatException("tensor '" + wantName + "' needs " + need + " bytes, only "
          + Math.max(0, b.remaining() - 4) + " remain before the checksum");
    }
    return shape;
  }

  static void requireShape(String name, int[] shape, int... want) {
    if (!Arrays.equals(shape, want)) {
      throw new SnapshotFormatException("tensor '" + name + "' has shape " + Arrays.toString(shape)
          + ", the config implies " + Arrays.toString(want));
    }
  }

  private static void readTensorInto(ByteBuffer b, Tensor want) {
    int nameLen = b.get() & 0xFF;
    byte[] name = new byte[nameLen];
    b.get(name);
    if (!Arrays.equals(name, want.name)) {
      throw new SnapshotFormatException("expected tensor '" + want.nameString() + "' next, found '"
          + new String(name, StandardCharsets.UTF_8) + "'");
    }
    int rank = b.get() & 0xFF;
    int[] shape = new int[rank];
    for (int i = 0; i < rank; i++) {
      shape[i] = b.getInt();
    }
    if (!Arrays.equals(shape, want.shape)) {
      throw new SnapshotFormatException("tensor '" + want.nameString() + "' has shape " + Arrays.toString(shape)
          + ", the config implies " + Arrays.toString(want.shape));
    }
    int dtype = b.get() & 0xFF;
    if (dtype != DTYPE_F32) {
      throw new SnapshotFormatException("tensor '" + want.nameString() + "' has unknown dtype " + dtype);
    }
    long bytesNeeded = 4L * want.data.length;
    if (bytesNeeded > b.remaining() - 4) {
      throw new SnapshotFormatException("tensor '" + want.nameString() + "' needs " + bytesNeeded + " bytes, only "
          + Math.max(0, b.remaining() - 4) + " remain before the checksum");
    }
    b.asFloatBuffer().get(want.data);
    b.position(b.position() + (int) bytesNeeded);
  }

  /** Number of MLP weights and biases a config implies. */
  public static long denseParameterCount(ModelConfig c) {
    long n = 0;
    int in = ModelConfig.NUM_DENSE;
    for (int w : c.bottom()) {
      n += (long) in * w + w;
      in = w;
    }
    in = c.topInputWidth();
    for (int w : c.top()) {
      n += (long) in * w + w;
      in = w;
    }
    return n;
  }

  private static void writeConfig(ByteBuffer b, ModelConfig c, int version) {
    b.putInt(c.dim());
    int[] bottom = c.bottom();
    b.put((byte) bottom.length);
    for (int w : bottom) {
      b.putInt(w);
    }
    int[] top = c.top();
    b.put((byte) top.length);
    for (int w : top) {
      b.putInt(w);
    }
    b.put((byte) (c.selfInteraction() ? 1 : 0));
    b.put((byte) c.embedding().ordinal());
    b.putInt(c.robeSize()).putInt(c.robeZ()).putInt(c.rowsPerTable());
    b.put((byte) c.optimizer().ordinal());
    b.put((byte) c.embeddingAdagrad().ordinal());
    b.putFloat(c.lrDense()).putFloat(c.lrEmbedding()).putFloat(c.adagradEps());
    b.putLong(c.seed());
    long[] abc = RobeEmbedding.hashParameters(c.seed());
    b.putLong(abc[0]).putLong(abc[1]).putLong(abc[2]);
    if (version >= 2) {
      ModelConfig.Quantization q = c.quantization();
      b.put((byte) q.precision().ordinal());
      b.putInt(q.group());
      b.put((byte) q.scaleDtype().ordinal());
      b.putFloat(q.cacheFraction());
      b.put((byte) q.cachePolicy().ordinal());
    }
  }

  private static ModelConfig readConfig(ByteBuffer b, int version) {
    int dim = b.getInt();
    int[] bottom = readWidths(b, "bottom");
    int[] top = readWidths(b, "top");
    int self = b.get();
    int emb = b.get();
    if (self != 0 && self != 1) {
      throw new SnapshotFormatException("self-interaction flag must be 0 or 1, got " + self);
    }
    if (emb < 0 || emb >= ModelConfig.EmbeddingKind.values().length) {
      throw new SnapshotFormatException("unknown embedding kind " + emb);
    }
    int robeSize = b.getInt();
    int robeZ = b.getInt();
    int rows = b.getInt();
    int opt = b.get();
    if (opt < 0 || opt >= ModelConfig.OptimizerKind.values().length) {
      throw new SnapshotFormatException("unknown optimizer kind " + opt);
    }
    int state = b.get();
    if (state < 0 || state >= ModelConfig.EmbeddingAdagrad.values().length) {
      throw new SnapshotFormatException("unknown embedding Adagrad mode " + state);
    }
    float lrDense = b.getFloat();
    float lrEmb = b.getFloat();
    float eps = b.getFloat();
    long seed = b.getLong();
    long[] abc = {b.getLong(), b.getLong(), b.getLong()};
    ModelConfig.Quantization q = ModelConfig.Quantization.FP32;
    if (version >= 2) {
      int precision = b.get();
      int group = b.getInt();
      int scale = b.get();
      float fraction = b.getFloat();
      int policy = b.get();
      if (precision < 0 || precision >= ModelConfig.Precision.values().length) {
        throw new SnapshotFormatException("unknown precision " + precision);
      }
      if (scale < 0 || scale >= ModelConfig.ScaleDtype.values().length) {
        throw new SnapshotFormatException("unknown scale dtype " + scale);
      }
      if (policy < 0 || policy >= ModelConfig.CachePolicy.values().length) {
        throw new SnapshotFormatException("unknown cache policy " + policy);
      }
      q = new ModelConfig.Quantization(ModelConfig.Precision.values()[precision], group,
          ModelConfig.ScaleDtype.values()[scale], fraction, ModelConfig.CachePolicy.values()[policy]);
    }
    ModelConfig c = new ModelConfig(dim, bottom, top, self == 1, ModelConfig.EmbeddingKind.values()[emb], robeSize,
        robeZ, rows, ModelConfig.OptimizerKind.values()[opt], ModelConfig.EmbeddingAdagrad.values()[state], lrDense,
        lrEmb, eps, seed, q);
    if (!Arrays.equals(abc, RobeEmbedding.hashParameters(seed))) {
      throw new SnapshotFormatException("hash parameters " + Arrays.toString(abc) + " do not match seed " + seed);
    }
    return c;
  }

  private static int[] readWidths(ByteBuffer b, String what) {
    int n = b.get() & 0xFF;
    if (n == 0 || n > 32) {
      throw new SnapshotFormatException(what + " MLP has " + n + " layers; expected 1 to 32");
    }
    int[] w = new int[n];
    for (int i = 0; i < n; i++) {
      w[i] = b.getInt();
      if (w[i] < 1 || w[i] > 1 << 16) {
        throw new SnapshotFormatException(what + " MLP layer " + i + " has width " + w[i] + "; expected 1 to 65536");
      }
    }
    return w;
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String hex(byte[] b) {
    StringBuilder sb = new StringBuilder();
    for (byte x : b) {
      sb.append(String.format("%02x", x));
    }
    return sb.toString();
  }
}
