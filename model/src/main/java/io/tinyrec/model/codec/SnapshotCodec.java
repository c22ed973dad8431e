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
 */
public final class SnapshotCodec {
  public static final byte[] MAGIC = {'T', 'R', 'S', 'N'};
  public static final int FORMAT_VERSION = 1;
  public static final int FLAG_OPTIMIZER_STATE = 1;
  static final int DTYPE_F32 = 0;
  private static final String EMBEDDING = "embedding.weights";
  private static final String STATE_PREFIX = "state:";

  private SnapshotCodec() {}

  /** What a snapshot holds besides its weights. */
  public record Header(int formatVersion, boolean hasOptimizerState, ModelConfig config, long rowsTrained,
      long skippedUpdates, int tensorCount, long bytes) {}

  /** Encodes the model's config, counters and weights, plus its optimizer state when asked. */
  public static byte[] encode(Dlrm model, boolean withOptimizerState) {
    ModelConfig c = model.config();
    List<Tensor> tensors = tensorsOf(model, withOptimizerState);
    // The config is encoded first so its length is measured, not restated field by field.
    ByteBuffer config = ByteBuffer.allocate(1024).order(ByteOrder.LITTLE_ENDIAN);
    writeConfig(config, c);
    config.flip();
    long size = 4 + 2 + 2 + config.remaining() + 16 + 4 + 4;
    for (Tensor t : tensors) {
      size += 1 + t.name.length + 1 + 4L * t.shape.length + 1 + 4L * t.data.length;
    }
    if (size > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("snapshot of " + size + " bytes does not fit one byte array");
    }
    ByteBuffer b = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
    b.put(MAGIC);
    b.putShort((short) FORMAT_VERSION);
    b.putShort((short) (withOptimizerState ? FLAG_OPTIMIZER_STATE : 0));
    b.put(config);
    b.putLong(model.rowsTrained());
    b.putLong(model.skippedUpdates());
    b.putInt(tensors.size());
    for (Tensor t : tensors) {
      b.put((byte) t.name.length).put(t.name);
      b.put((byte) t.shape.length);
      for (int s : t.shape) {
        b.putInt(s);
      }
      b.put((byte) DTYPE_F32);
      b.asFloatBuffer().put(t.data);
      b.position(b.position() + 4 * t.data.length);
    }
    CRC32 crc = new CRC32();
    crc.update(b.array(), 0, b.position());
    b.putInt((int) crc.getValue());
    return b.array();
  }

  /** Reads and validates only the header (config and counters), checking the checksum too. */
  public static Header readHeader(byte[] bytes) {
    ByteBuffer b = verified(bytes);
    int version = b.getShort(4) & 0xFFFF;
    int flags = b.getShort(6) & 0xFFFF;
    b.position(8);
    ModelConfig c = readConfig(b);
    long rows = b.getLong();
    long skipped = b.getLong();
    int count = b.getInt();
    return new Header(version, (flags & FLAG_OPTIMIZER_STATE) != 0, c, rows, skipped, count, bytes.length);
  }

  /** Decodes a snapshot into a new model, with optimizer state if the snapshot carries it. */
  public static Dlrm decode(byte[] bytes) {
    ByteBuffer b = verified(bytes);
    int flags = b.getShort(6) & 0xFFFF;
    b.position(8);
    ModelConfig c;
    try {
      c = readConfig(b);
      long claimed = 4 * (c.embeddingFloats() + denseParameterCount(c));
      if (claimed > bytes.length) {
        throw new SnapshotFormatException("snapshot config " + c + " needs at least " + claimed
            + " bytes of weights, but the snapshot is only " + bytes.length + " bytes");
      }
      Dlrm model = new Dlrm(c);
      model.setCounters(b.getLong(), b.getLong());
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
    } catch (IllegalArgumentException e) {
      throw new SnapshotFormatException("snapshot config is invalid: " + e.getMessage(), e);
    }
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
    if (version != FORMAT_VERSION) {
      throw new SnapshotFormatException("snapshot format version " + version + " is not supported; this build reads "
          + FORMAT_VERSION);
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

  private static void writeConfig(ByteBuffer b, ModelConfig c) {
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
  }

  private static ModelConfig readConfig(ByteBuffer b) {
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
    ModelConfig c = new ModelConfig(dim, bottom, top, self == 1, ModelConfig.EmbeddingKind.values()[emb], robeSize,
        robeZ, rows, ModelConfig.OptimizerKind.values()[opt], ModelConfig.EmbeddingAdagrad.values()[state], lrDense,
        lrEmb, eps, seed);
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

  private static byte[] bytes(String s) {
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
