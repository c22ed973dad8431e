package io.tinyrec.schemas;

import java.nio.charset.StandardCharsets;

/**
 * The reading half of {@link ClickEventEncoder}: reads a single-object encoded {@link ClickEvent}
 * written with this build's schema straight into primitive fields, without Avro's resolving reader,
 * the generated object or 39 boxed features. The training job's source reads every event through
 * it first.
 *
 * <p>It accepts only what it reads exactly as Avro's reader would, and only an event a model can take:
 * 13 dense values, 26 categories in 0..2^32-1 and a label of 0, 1 or null, with no byte left over.
 * Anything else (another writer schema, arrays written in sized blocks, an overlong varint, a value
 * out of range, truncated or padded data) it declines by returning false; the caller then decodes
 * that value with {@link SingleObjectCodec}, which reads it or names what is wrong with it.
 * ClickEventDecoderTest compares it field for field with Avro's reader.
 *
 * <p>Not thread-safe. The arrays of an accepted event are new for each value; the caller may keep them.
 */
public final class ClickEventDecoder {
  private static final long FINGERPRINT = WireSchemas.fingerprint(ClickEvent.getClassSchema());

  private byte[] v;
  private int pos;
  private boolean ok;

  private String eventId;
  private String key;
  private long eventTime;
  private int label;
  private int[] dense;
  private int denseMissing;
  private int[] cats;
  private int catMissing;

  /**
   * Reads one value; true when it was accepted and the accessors describe it, false to decode it
   * with {@link SingleObjectCodec} instead.
   */
  public boolean read(byte[] value) {
    if (value == null || value.length < SingleObjectCodec.HEADER_SIZE || value[0] != SingleObjectCodec.MARKER_0
        || value[1] != SingleObjectCodec.MARKER_1 || SingleObjectCodec.readFingerprint(value) != FINGERPRINT) {
      return false;
    }
    v = value;
    pos = SingleObjectCodec.HEADER_SIZE;
    ok = true;
    String id = string();
    String k = string();
    long time = readLong();
    int lab = -1;
    switch (readInt()) {
      case 0 -> { }
      case 1 -> lab = readInt();
      default -> ok = false;
    }
    if (!ok || lab < -1 || lab > 1) {
      return false;
    }
    int[] d = new int[ClickEventEncoder.NUM_DENSE];
    int dMissing = array(d, false);
    if (!ok) {
      return false;
    }
    int[] c = new int[ClickEventEncoder.NUM_CATS];
    int cMissing = array(c, true);
    readInt(); // sourceDay
    readLong(); // sourceLine
    if (!ok || pos != v.length) {
      return false;
    }
    eventId = id;
    key = k;
    eventTime = time;
    label = lab;
    dense = d;
    denseMissing = dMissing;
    cats = c;
    catMissing = cMissing;
    return true;
  }

  /** The last accepted event's id. */
  public String eventId() {
    return eventId;
  }

  /** The last accepted event's routing key. */
  public String key() {
    return key;
  }

  /** The last accepted event's event time, epoch milliseconds. */
  public long eventTime() {
    return eventTime;
  }

  /** The last accepted event's label: 0 or 1, or -1 for null (no label yet). */
  public int label() {
    return label;
  }

  /** I1..I13 of the last accepted event; entry i is 0 where bit i of {@link #denseMissing()} is set. */
  public int[] dense() {
    return dense;
  }

  /** Bit i set where I(i+1) was null. */
  public int denseMissing() {
    return denseMissing;
  }

  /** C1..C26 of the last accepted event as 32-bit values (read as unsigned); 0 where missing. */
  public int[] cats() {
    return cats;
  }

  /** Bit t set where C(t+1) was null. */
  public int catMissing() {
    return catMissing;
  }

  /**
   * An array of exactly out.length ["null", int] (or, with unsigned32, ["null", long] in
   * 0..2^32-1) items in blocks of positive counts; returns the null bits. Clears ok otherwise.
   */
  private int array(int[] out, boolean unsigned32) {
    int missing = 0;
    int n = 0;
    for (long block = readLong(); ok && block != 0; block = readLong()) {
      if (block < 0 || block > out.length - n) {
        ok = false;
        return 0;
      }
      for (long i = 0; i < block && ok; i++, n++) {
        switch (readInt()) {
          case 0 -> missing |= 1 << n;
          case 1 -> {
            long x = unsigned32 ? readLong() : readInt();
            if (unsigned32 && (x < 0 || x > 0xFFFF_FFFFL)) {
              ok = false;
            }
            out[n] = (int) x;
          }
          default -> ok = false;
        }
      }
    }
    if (n != out.length) {
      ok = false;
    }
    return missing;
  }

  /** An Avro int: a zigzag varint of at most 5 bytes, its bits past 32 dropped as Avro's reader drops them. */
  private int readInt() {
    int n = (int) varint(5);
    return (n >>> 1) ^ -(n & 1);
  }

  /** An Avro long: a zigzag varint of at most 10 bytes. */
  private long readLong() {
    long n = varint(10);
    return (n >>> 1) ^ -(n & 1);
  }

  /** The raw bits of a varint of at most maxBytes bytes; clears ok (and returns 0) past the end or past maxBytes. */
  private long varint(int maxBytes) {
    long n = 0;
    for (int i = 0; i < maxBytes && pos < v.length; i++) {
      int b = v[pos++] & 0xff;
      n |= (long) (b & 0x7f) << (7 * i);
      if (b < 0x80) {
        return n;
      }
    }
    ok = false;
    return 0;
  }

  /** An Avro string: a long byte count, then UTF-8. */
  private String string() {
    long len = readLong();
    if (!ok || len < 0 || len > v.length - pos) {
      ok = false;
      return null;
    }
    String s = new String(v, pos, (int) len, StandardCharsets.UTF_8);
    pos += (int) len;
    return s;
  }
}
