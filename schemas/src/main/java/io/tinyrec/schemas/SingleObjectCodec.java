package io.tinyrec.schemas;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;

/**
 * Avro single-object encoding of one generated tinyrec record type: the marker {@code C3 01}, the
 * 8-byte little-endian CRC-64-AVRO fingerprint of the writer schema, then the binary datum. Any Avro
 * library holding the .avsc files can decode such a value without a schema registry.
 *
 * <p>Decoding checks the length, the marker, the fingerprint and that the datum uses up every byte.
 * A value written with an older schema decodes after {@link #addWriterSchema} registers that schema
 * (Avro schema resolution does the rest). Failures throw {@link UndecodableRecordException}, whose
 * message names what was found: for an unknown fingerprint, the fingerprint, the fingerprints this
 * codec knows and, when it is another tinyrec type's, that type.
 *
 * <p>Not thread-safe: it reuses its encoder, decoder and buffer. Use one instance per thread.
 *
 * @param <T> the generated record class
 */
public final class SingleObjectCodec<T extends SpecificRecord> {
  /** The two marker bytes that open every single-object encoded value. */
  public static final byte MARKER_0 = (byte) 0xC3;
  public static final byte MARKER_1 = (byte) 0x01;
  /** Marker plus fingerprint. */
  public static final int HEADER_SIZE = 10;

  private final Class<T> type;
  private final Schema schema;
  private final long fingerprint;
  private final SpecificDatumWriter<T> writer;
  private final Map<Long, SpecificDatumReader<T>> readers = new HashMap<>();
  /** The writer schema of each fingerprint this codec reads, for {@link DatumBounds}. */
  private final Map<Long, Schema> writers = new HashMap<>();
  private final ByteArrayOutputStream buffer = new ByteArrayOutputStream(512);
  private BinaryEncoder encoder;
  private BinaryDecoder decoder;

  private SingleObjectCodec(Class<T> type) {
    this.type = type;
    this.schema = SpecificData.get().getSchema(type);
    this.fingerprint = WireSchemas.fingerprint(schema);
    this.writer = new SpecificDatumWriter<>(schema);
    this.readers.put(fingerprint, new SpecificDatumReader<>(schema, schema));
    this.writers.put(fingerprint, schema);
  }

  /** A codec for a generated record class such as {@code ClickEvent.class}. */
  public static <T extends SpecificRecord> SingleObjectCodec<T> of(Class<T> type) {
    return new SingleObjectCodec<>(type);
  }

  /** Lets this codec read values written with an earlier version of the schema. */
  public SingleObjectCodec<T> addWriterSchema(Schema writerSchema) {
    readers.put(WireSchemas.fingerprint(writerSchema), new SpecificDatumReader<>(writerSchema, schema));
    writers.put(WireSchemas.fingerprint(writerSchema), writerSchema);
    return this;
  }

  public Schema schema() {
    return schema;
  }

  /** The fingerprint this codec writes. */
  public long fingerprint() {
    return fingerprint;
  }

  /** Encodes one record; the returned array is new and owned by the caller. */
  public byte[] encode(T datum) {
    buffer.reset();
    writeHeader(buffer, fingerprint);
    encoder = EncoderFactory.get().directBinaryEncoder(buffer, encoder);
    try {
      writer.write(datum, encoder);
      encoder.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot encode " + type.getSimpleName(), e);
    }
    return buffer.toByteArray();
  }

  /** Decodes one value, checking everything; throws {@link UndecodableRecordException} naming the problem. */
  public T decode(byte[] value) {
    if (value == null || value.length < HEADER_SIZE) {
      throw new UndecodableRecordException(UndecodableRecordException.Reason.TOO_SHORT, 0,
          "not an Avro single-object value: " + (value == null ? "null" : value.length + " bytes")
              + ", a " + type.getSimpleName() + " needs at least the " + HEADER_SIZE + "-byte header", null);
    }
    if (value[0] != MARKER_0 || value[1] != MARKER_1) {
      throw new UndecodableRecordException(UndecodableRecordException.Reason.BAD_MARKER, 0,
          String.format("not an Avro single-object value: starts with %02x %02x, expected marker c3 01",
              value[0] & 0xff, value[1] & 0xff), null);
    }
    long fp = readFingerprint(value);
    SpecificDatumReader<T> reader = readers.get(fp);
    if (reader == null) {
      throw unknown(fp);
    }
    // Every length within the bytes left, before Avro's reader allocates what a length claims.
    String outOfBounds = DatumBounds.check(writers.get(fp), value, HEADER_SIZE, value.length);
    if (outOfBounds != null) {
      throw new UndecodableRecordException(UndecodableRecordException.Reason.BAD_DATUM, fp,
          "corrupt " + type.getSimpleName() + " datum (" + value.length + " bytes, writer schema "
              + WireSchemas.hex(fp) + "): " + outOfBounds, null);
    }
    decoder = DecoderFactory.get().binaryDecoder(value, HEADER_SIZE, value.length - HEADER_SIZE, decoder);
    T datum;
    try {
      datum = reader.read(null, decoder);
      if (!decoder.isEnd()) {
        throw new UndecodableRecordException(UndecodableRecordException.Reason.BAD_DATUM, fp,
            type.getSimpleName() + " datum ends before the value does: " + value.length + "-byte value has bytes "
                + "left over, so it was not written with schema " + WireSchemas.hex(fp), null);
      }
    } catch (IOException | RuntimeException e) {
      if (e instanceof UndecodableRecordException u) {
        throw u;
      }
      throw new UndecodableRecordException(UndecodableRecordException.Reason.BAD_DATUM, fp,
          "corrupt " + type.getSimpleName() + " datum (" + value.length + " bytes, writer schema "
              + WireSchemas.hex(fp) + "): " + e, e);
    }
    return datum;
  }

  private UndecodableRecordException unknown(long fp) {
    String known = readers.keySet().stream().map(WireSchemas::hex).sorted().collect(Collectors.joining(", "));
    var other = WireSchemas.byFingerprint(fp);
    if (other.isPresent()) {
      return new UndecodableRecordException(UndecodableRecordException.Reason.WRONG_TYPE, fp,
          "value is a " + other.get().getFullName() + " (fingerprint " + WireSchemas.hex(fp) + "), not a "
              + schema.getFullName() + ": is this the right topic?", null);
    }
    return new UndecodableRecordException(UndecodableRecordException.Reason.UNKNOWN_FINGERPRINT, fp,
        "unknown writer schema fingerprint " + WireSchemas.hex(fp) + " for " + schema.getFullName()
            + "; this reader knows [" + known + "]. The value was written with a schema this build does not "
            + "have: add that .avsc to schemas/ (or upgrade the reader) to decode it", null);
  }

  /** The writer fingerprint of a value that has at least a header; no other check is made. */
  public static long readFingerprint(byte[] value) {
    long fp = 0;
    for (int i = 0; i < 8; i++) {
      fp |= (value[2 + i] & 0xffL) << (8 * i);
    }
    return fp;
  }

  /** Writes the marker and a fingerprint (little-endian, as the Avro specification says). */
  static void writeHeader(ByteArrayOutputStream out, long fp) {
    out.write(MARKER_0);
    out.write(MARKER_1);
    for (int i = 0; i < 8; i++) {
      out.write((int) (fp >>> (8 * i)) & 0xff);
    }
  }
}
