package io.tinyrec.jobs.events;

import io.tinyrec.model.data.CriteoRow;
import io.tinyrec.schemas.SingleObjectCodec;
import java.nio.charset.StandardCharsets;

/**
 * The source's fast path: reads a ClickEvent written with this build's schema (schemas/ClickEvent.avsc,
 * Avro binary encoding behind the single-object header) straight from its bytes into a
 * {@link CriteoRow} and the event's ids and time, without Avro's resolving reader, its boxed
 * arrays or the generated record. It accepts only what it can read exactly as Avro would, and the
 * rows it accepts satisfy {@link CriteoRow#of}: 13 dense values, 26 categories in 0..2^32-1, a label
 * of 0, 1 or null, and no byte left over. Anything else (another writer schema, an array written in
 * sized blocks, a varint that overflows, a value out of range, a truncated or padded datum) it
 * declines by returning false, and the caller decodes that record the slow way, which names what
 * is wrong.
 *
 * <p>Not thread-safe: one instance per operator instance.
 */
public final class ClickEventBytes {
  private final long fingerprint;
  private byte[] v;
  private int pos;
  private boolean ok;

  private String eventId;
  private String key;
  private long eventTime;
  private CriteoRow row;

  /** A reader of values written with the schema of this fingerprint: this build's ClickEvent's. */
  public ClickEventBytes(long fingerprint) {
    this.fingerprint = fingerprint;
  }

  /**
   * Reads one value; true when it was accepted, and {@link #eventId()} and the others then describe
   * it; false to decode it the slow way.
   */
  public boolean read(byte[] value) {
    if (value == null || value.length < SingleObjectCodec.HEADER_SIZE || value[0] != SingleObjectCodec.MARKER_0
        || value[1] != SingleObjectCodec.MARKER_1 || SingleObjectCodec.readFingerprint(value) != fingerprint) {
      return false;
    }
    v = value;
    pos = SingleObjectCodec.HEADER_SIZE;
    ok = true;
    String id = string();
    String k = string();
    long time = readLong();
    int label = CriteoRow.NO_LABEL;
    switch (readInt()) {
      case 0 -> { }
      case 1 -> label = readInt();
      default -> ok = false;
    }
    if (!ok || (label != CriteoRow.NO_LABEL && label != 0 && label != 1)) {
      return false;
    }
    int[] dense = new int[CriteoRow.NUM_DENSE];
    int denseMissing = 0;
    int n = 0;
    for (long block = readLong(); ok && block != 0; block = readLong()) {
      if (block < 0 || n + block > CriteoRow.NUM_DENSE) {
        return false;
      }
      for (long i = 0; i < block; i++, n++) {
        switch (readInt()) {
          case 0 -> denseMissing |= 1 << n;
          case 1 -> dense[n] = readInt();
          default -> ok = false;
        }
      }
    }
    if (!ok || n != CriteoRow.NUM_DENSE) {
      return false;
    }
    int[] cats = new int[CriteoRow.NUM_CATS];
    int catMissing = 0;
    n = 0;
    for (long block = readLong(); ok && block != 0; block = readLong()) {
      if (block < 0 || n + block > CriteoRow.NUM_CATS) {
        return false;
      }
      for (long i = 0; i < block; i++, n++) {
        switch (readInt()) {
          case 0 -> catMissing |= 1 << n;
          case 1 -> {
            long c = readLong();
            if (c < 0 || c > 0xFFFF_FFFFL) {
              return false;
            }
            cats[n] = (int) c;
          }
          default -> ok = false;
        }
      }
    }
    if (!ok || n != CriteoRow.NUM_CATS) {
      return false;
    }
    readInt(); // sourceDay
    readLong(); // sourceLine
    if (!ok || pos != v.length) {
      return false;
    }
    eventId = id;
    key = k;
    eventTime = time;
    row = new CriteoRow(label, dense, denseMissing, cats, catMissing);
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

  /** The last accepted event's label and features, as {@link CriteoRow#of} would have made them. */
  public CriteoRow row() {
    return row;
  }

  /** An Avro int: a zigzag varint of at most 5 bytes, its high bits dropped as Avro's reader drops them. */
  private int readInt() {
    int n = 0;
    for (int shift = 0; shift < 35; shift += 7) {
      if (pos >= v.length) {
        ok = false;
        return 0;
      }
      int b = v[pos++] & 0xff;
      n |= (b & 0x7f) << shift;
      if (b < 0x80) {
        return (n >>> 1) ^ -(n & 1);
      }
    }
    ok = false;
    return 0;
  }

  /** An Avro long: a zigzag varint of at most 10 bytes. */
  private long readLong() {
    long n = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (pos >= v.length) {
        ok = false;
        return 0;
      }
      int b = v[pos++] & 0xff;
      n |= (long) (b & 0x7f) << shift;
      if (b < 0x80) {
        return (n >>> 1) ^ -(n & 1);
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
