package io.tinyrec.serving;

import io.tinyrec.model.Dlrm;
import io.tinyrec.model.ModelConfig;
import io.tinyrec.model.codec.SnapshotCodec;
import io.tinyrec.model.codec.SnapshotFormatException;
import io.tinyrec.schemas.ModelMetrics;
import io.tinyrec.schemas.ModelSnapshot;
import io.tinyrec.schemas.SingleObjectCodec;
import io.tinyrec.schemas.UndecodableRecordException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * Turns a ModelSnapshot record, or a snapshot file, into a {@link ServedModel}, checking everything
 * first: that the value is a ModelSnapshot (Avro single-object encoding, a known fingerprint), that
 * it is the expected model, that the CRC-32 of its codec bytes matches its checksum field, that the
 * codec decodes (format version, flags, shapes, sizes, the codec's own CRC: {@link SnapshotCodec}),
 * and that the config map the record publishes agrees with the config inside the codec. Any failure
 * is a {@link BadSnapshotException} with its reason and a message naming the source.
 *
 * <p>Stateless and thread-safe.
 */
public final class SnapshotDecoder {
  private SnapshotDecoder() {}

  /**
   * Decodes and checks the value of a models-topic record.
   *
   * @param value the record value, or null for a tombstone
   * @param expectedModel the model name served; a snapshot of another model is refused
   * @param source where the record was read, for messages (e.g. "topic models partition 0 offset 41")
   */
  public static ServedModel fromRecord(byte[] value, String expectedModel, String source) throws BadSnapshotException {
    if (value == null) {
      throw new BadSnapshotException(BadSnapshotException.Reason.TOMBSTONE, source + ": a tombstone (null value) for "
          + "model '" + expectedModel + "'; keeping the model served", null);
    }
    ModelSnapshot s = decodeValue(value, source);
    if (!expectedModel.equals(s.getModelName())) {
      throw new BadSnapshotException(BadSnapshotException.Reason.WRONG_MODEL, source + ": snapshot of model '"
          + s.getModelName() + "', version " + s.getVersion() + ", where model '" + expectedModel + "' is served", null);
    }
    return fromSnapshot(s, source);
  }

  /** The ModelSnapshot in an Avro single-object value. */
  private static ModelSnapshot decodeValue(byte[] value, String source) throws BadSnapshotException {
    try {
      return SingleObjectCodec.of(ModelSnapshot.class).decode(value);
    } catch (UndecodableRecordException e) {
      throw new BadSnapshotException(BadSnapshotException.Reason.UNDECODABLE, source + ": not a ModelSnapshot: "
          + e.getMessage(), e);
    }
  }

  /** Checks a decoded ModelSnapshot: checksum, codec, config. */
  static ServedModel fromSnapshot(ModelSnapshot s, String source) throws BadSnapshotException {
    String what = source + ": model '" + s.getModelName() + "' version " + s.getVersion();
    byte[] codec = bytes(s.getCodec());
    CRC32 crc = new CRC32();
    crc.update(codec);
    if (crc.getValue() != s.getChecksum()) {
      throw new BadSnapshotException(BadSnapshotException.Reason.CHECKSUM, String.format("%s: checksum mismatch: the "
          + "record says CRC-32 %08x, its %d codec bytes have %08x (corrupt in transit or at rest)", what,
          s.getChecksum(), codec.length, crc.getValue()), null);
    }
    Dlrm model = decodeCodec(codec, what);
    List<String> mismatches = configMismatches(model.config(), s.getConfig());
    if (!mismatches.isEmpty()) {
      throw new BadSnapshotException(BadSnapshotException.Reason.CONFIG_MISMATCH, what + ": its config map disagrees "
          + "with the model in its codec bytes: " + String.join(", ", mismatches), null);
    }
    SnapshotInfo info = new SnapshotInfo(s.getModelName(), s.getVersion(), s.getEpoch(), s.getCreatedAt(),
        s.getEventTimeWatermark(), s.getEventsTrained(), model.config(), s.getConfig(), metrics(s.getMetrics()),
        metrics(s.getWindowMetrics()), s.getMetricsWindow(), codec.length, formatVersion(codec),
        optimizerState(codec), storedCrc(codec), source);
    return new ServedModel(info, new Scorer(model), System.currentTimeMillis());
  }

  // Header fields of a codec that SnapshotCodec.decode has verified (docs/snapshot-format.md, section 2),
  // read in place rather than through readHeader, which would check the CRC over the whole codec again.
  private static int formatVersion(byte[] codec) {
    return (codec[4] & 0xFF) | (codec[5] & 0xFF) << 8;
  }

  private static boolean optimizerState(byte[] codec) {
    return (codec[6] & SnapshotCodec.FLAG_OPTIMIZER_STATE) != 0;
  }

  /** The CRC-32 a (verified) codec stores in its last four bytes, little-endian. */
  private static long storedCrc(byte[] codec) {
    return ByteBuffer.wrap(codec, codec.length - 4, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt() & 0xFFFF_FFFFL;
  }

  /**
   * Loads a snapshot file: either the bare codec bytes that {@code tinyrec learn --save-snapshot}
   * writes (magic "TRSN"), or a whole ModelSnapshot record value (Avro single-object encoding, as
   * on the models topic). A bare codec carries no name, version or metrics: it is served as
   * {@code modelName}, version 0, created at the file's modification time.
   *
   * @throws IOException when the file cannot be read
   * @throws BadSnapshotException when it is neither format, or fails a check
   */
  public static ServedModel fromFile(Path file, String modelName) throws IOException, BadSnapshotException {
    byte[] bytes = Files.readAllBytes(file);
    String source = "file " + file;
    if (bytes.length >= 2 && bytes[0] == SingleObjectCodec.MARKER_0 && bytes[1] == SingleObjectCodec.MARKER_1) {
      return fromSnapshot(decodeValue(bytes, source), source);
    }
    if (bytes.length < 4 || !Arrays.equals(Arrays.copyOf(bytes, 4), SnapshotCodec.MAGIC)) {
      throw new BadSnapshotException(BadSnapshotException.Reason.UNDECODABLE, source + " is neither a snapshot "
          + "written by learn --save-snapshot (it starts with \"TRSN\") nor a ModelSnapshot record (it starts with "
          + "c3 01)", null);
    }
    Dlrm model = decodeCodec(bytes, source);
    SnapshotInfo info = new SnapshotInfo(modelName, 0, 0, Files.getLastModifiedTime(file).toMillis(), Long.MIN_VALUE,
        model.rowsTrained(), model.config(), Map.of(), null, null, 0, bytes.length, formatVersion(bytes),
        optimizerState(bytes), storedCrc(bytes), source);
    return new ServedModel(info, new Scorer(model), System.currentTimeMillis());
  }

  private static Dlrm decodeCodec(byte[] codec, String what) throws BadSnapshotException {
    try {
      return SnapshotCodec.decode(codec);
    } catch (SnapshotFormatException e) {
      throw new BadSnapshotException(BadSnapshotException.Reason.FORMAT, what + ": the codec bytes do not decode: "
          + e.getMessage(), e);
    }
  }

  /** Every entry of the published map that names a config field with another value than the codec's. */
  static List<String> configMismatches(ModelConfig codecConfig, Map<String, String> published) {
    List<String> out = new ArrayList<>();
    for (Map.Entry<String, String> e : codecConfig.toMap().entrySet()) {
      String said = published.get(e.getKey());
      if (said != null && !said.equals(e.getValue())) {
        out.add(e.getKey() + " is " + said + " in the map but " + e.getValue() + " in the codec");
      }
    }
    return out;
  }

  private static SnapshotInfo.Metrics metrics(ModelMetrics m) {
    return m == null ? null : new SnapshotInfo.Metrics(m.getCount(), m.getAuc(), m.getLogloss(), m.getNe(),
        m.getCalibration());
  }

  private static byte[] bytes(ByteBuffer b) {
    ByteBuffer d = b.duplicate();
    byte[] out = new byte[d.remaining()];
    d.get(out);
    return out;
  }
}
