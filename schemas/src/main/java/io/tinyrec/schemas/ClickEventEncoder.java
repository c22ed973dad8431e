package io.tinyrec.schemas;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Writes single-object encoded {@link ClickEvent} values straight from primitive fields, byte for byte
 * what {@link SingleObjectCodec} writes for the equivalent generated object, without building that
 * object or boxing 39 features. Replay uses it to encode hundreds of thousands of rows a second.
 *
 * <p>The field order and types follow ClickEvent.avsc; ClickEventEncoderTest compares the output with
 * Avro's own writer, so a schema change that this class misses fails the build.
 *
 * <p>Not thread-safe: it reuses one growable buffer. Each call returns a fresh array.
 */
public final class ClickEventEncoder {
  public static final int NUM_DENSE = 13;
  public static final int NUM_CATS = 26;
  private static final long FINGERPRINT = WireSchemas.fingerprint(ClickEvent.getClassSchema());

  private byte[] buf = new byte[512];
  private int pos;

  /**
   * Encodes one event.
   *
   * @param label 0 or 1, or a negative number for null (no label yet)
   * @param dense I1..I13; entry i is ignored (written as null) when bit i of denseMissing is set
   * @param cats C1..C26 as 32-bit values, written as unsigned longs; null where bit t of catMissing is set
   */
  public byte[] encode(String eventId, String key, long eventTime, int label, int[] dense, int denseMissing,
      int[] cats, int catMissing, int sourceDay, long sourceLine) {
    checkShape(dense, cats);
    header();
    writeString(eventId);
    writeString(key);
    return body(eventTime, label, dense, denseMissing, cats, catMissing, sourceDay, sourceLine);
  }

  /**
   * Encodes one event whose id and key are given as UTF-8 bytes, {@code eventId[0, eventIdLen)} and
   * {@code key[0, keyLen)}: no String is made. Otherwise as {@link #encode(String, String, long, int,
   * int[], int, int[], int, int, long)}.
   */
  public byte[] encode(byte[] eventId, int eventIdLen, byte[] key, int keyLen, long eventTime, int label,
      int[] dense, int denseMissing, int[] cats, int catMissing, int sourceDay, long sourceLine) {
    checkShape(dense, cats);
    header();
    writeBytes(eventId, eventIdLen);
    writeBytes(key, keyLen);
    return body(eventTime, label, dense, denseMissing, cats, catMissing, sourceDay, sourceLine);
  }

  private static void checkShape(int[] dense, int[] cats) {
    if (dense.length != NUM_DENSE || cats.length != NUM_CATS) {
      throw new IllegalArgumentException("a ClickEvent needs 13 dense and 26 categorical values, got "
          + dense.length + " and " + cats.length);
    }
  }

  private void header() {
    pos = 0;
    ensure(SingleObjectCodec.HEADER_SIZE);
    buf[pos++] = SingleObjectCodec.MARKER_0;
    buf[pos++] = SingleObjectCodec.MARKER_1;
    for (int i = 0; i < 8; i++) {
      buf[pos++] = (byte) (FINGERPRINT >>> (8 * i));
    }
  }

  private byte[] body(long eventTime, int label, int[] dense, int denseMissing, int[] cats, int catMissing,
      int sourceDay, long sourceLine) {
    ensure(16 + 2 + 2 + NUM_DENSE * 6 + 2 + NUM_CATS * 6 + 2 + 5 + 10);
    writeLong(eventTime);
    if (label < 0) {
      buf[pos++] = 0; // union branch 0: null
    } else {
      buf[pos++] = 2; // union branch 1 (zigzag 2): int
      writeLong(label);
    }
    buf[pos++] = (byte) (NUM_DENSE * 2); // one block of 13 items (zigzag)
    for (int i = 0; i < NUM_DENSE; i++) {
      if ((denseMissing >>> i & 1) != 0) {
        buf[pos++] = 0;
      } else {
        buf[pos++] = 2;
        writeLong(dense[i]);
      }
    }
    buf[pos++] = 0; // end of array
    buf[pos++] = (byte) (NUM_CATS * 2);
    for (int t = 0; t < NUM_CATS; t++) {
      if ((catMissing >>> t & 1) != 0) {
        buf[pos++] = 0;
      } else {
        buf[pos++] = 2;
        writeLong(Integer.toUnsignedLong(cats[t]));
      }
    }
    buf[pos++] = 0;
    writeLong(sourceDay);
    writeLong(sourceLine);
    return Arrays.copyOf(buf, pos);
  }

  private void writeBytes(byte[] b, int len) {
    ensure(len + 10);
    writeLong(len);
    System.arraycopy(b, 0, buf, pos, len);
    pos += len;
  }

  private void writeString(String s) {
    int n = s.length();
    boolean ascii = true;
    for (int i = 0; i < n; i++) {
      if (s.charAt(i) >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      ensure(n + 10);
      writeLong(n);
      for (int i = 0; i < n; i++) {
        buf[pos++] = (byte) s.charAt(i);
      }
    } else {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      ensure(b.length + 10);
      writeLong(b.length);
      System.arraycopy(b, 0, buf, pos, b.length);
      pos += b.length;
    }
  }

  /** Zigzag varint, as Avro writes both int and long. */
  private void writeLong(long v) {
    long z = (v << 1) ^ (v >> 63);
    while ((z & ~0x7FL) != 0) {
      buf[pos++] = (byte) ((z & 0x7F) | 0x80);
      z >>>= 7;
    }
    buf[pos++] = (byte) z;
  }

  private void ensure(int more) {
    if (pos + more > buf.length) {
      buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + more));
    }
  }
}
