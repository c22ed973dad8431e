package io.tinyrec.schemas;

import java.util.ArrayDeque;
import java.util.Deque;
import org.apache.avro.Schema;

/**
 * Checks, before Avro's reader allocates anything, that every length in a binary datum fits in the
 * bytes that are left. Avro's reader sizes an array from the count the datum claims: a 30-byte
 * value claiming two billion items makes it allocate gigabytes and fail with an OutOfMemoryError
 * (Avro's own limit, {@code org.apache.avro.limits.collectionItems.maxLength}, defaults to about
 * two billion). A lying string or bytes length, a union or enum index out of range and a truncated
 * value are found the same way.
 *
 * <p>The walk follows the writer schema over the bytes without building anything: its cost is a
 * fraction of a decode. Items that take no bytes at all (an array of nulls) cannot be bounded by
 * the bytes left, so their counts are capped at {@link #MAX_ZERO_BYTE_ITEMS}.
 */
final class DatumBounds {
  /** Most items of a zero-byte type (such as "null") one array or map may claim. */
  static final long MAX_ZERO_BYTE_ITEMS = 1 << 20;
  /** Deepest nesting walked (tinyrec's schemas nest three levels). */
  static final int MAX_DEPTH = 64;

  private final byte[] v;
  private final int end;
  private int pos;
  private final Deque<String> path = new ArrayDeque<>();

  private DatumBounds(byte[] v, int from, int end) {
    this.v = v;
    this.pos = from;
    this.end = end;
  }

  /**
   * Null when every length of the datum in {@code v[from..end)} fits the bytes left; otherwise what
   * does not, naming the field.
   */
  static String check(Schema writer, byte[] v, int from, int end) {
    DatumBounds b = new DatumBounds(v, from, end);
    try {
      b.walk(writer, 0);
      return null;
    } catch (OutOfBounds e) {
      return e.getMessage();
    }
  }

  private static final class OutOfBounds extends Exception {
    private static final long serialVersionUID = 1L;

    OutOfBounds(String message) {
      super(message, null, false, false);
    }
  }

  private OutOfBounds fail(String what) {
    String where = path.isEmpty() ? "the datum" : "field '" + String.join(".", (Iterable<String>) path::descendingIterator) + "'";
    return new OutOfBounds(where + ": " + what + " at byte " + pos + " of " + end);
  }

  private void walk(Schema s, int depth) throws OutOfBounds {
    if (depth > MAX_DEPTH) {
      throw fail("nested deeper than " + MAX_DEPTH + " levels");
    }
    switch (s.getType()) {
      case NULL -> { }
      case BOOLEAN -> skip(1, "boolean");
      case INT -> varint(5, "int");
      case LONG -> varint(10, "long");
      case FLOAT -> skip(4, "float");
      case DOUBLE -> skip(8, "double");
      case STRING, BYTES -> {
        long len = zigzag(varint(10, "length"));
        if (len < 0 || len > end - pos) {
          throw fail(s.getType().getName() + " of " + len + " bytes, but " + (end - pos) + " are left");
        }
        pos += (int) len;
      }
      case FIXED -> skip(s.getFixedSize(), "fixed");
      case ENUM -> {
        long i = zigzag(varint(5, "enum index"));
        if (i < 0 || i >= s.getEnumSymbols().size()) {
          throw fail("enum index " + i + " of " + s.getEnumSymbols().size() + " symbols");
        }
      }
      case UNION -> {
        long i = zigzag(varint(5, "union index"));
        if (i < 0 || i >= s.getTypes().size()) {
          throw fail("union index " + i + " of " + s.getTypes().size() + " branches");
        }
        walk(s.getTypes().get((int) i), depth + 1);
      }
      case RECORD -> {
        for (Schema.Field f : s.getFields()) {
          path.push(f.name());
          walk(f.schema(), depth + 1);
          path.pop();
        }
      }
      case ARRAY -> blocks(s.getElementType(), false, depth);
      case MAP -> blocks(s.getValueType(), true, depth);
      default -> throw fail("unknown type " + s.getType());
    }
  }

  /** Array or map blocks: a count (negative: then a byte size), that many items, until a zero count. */
  private void blocks(Schema item, boolean map, int depth) throws OutOfBounds {
    long itemMin = minBytes(item, 0) + (map ? 1 : 0);
    while (true) {
      long count = zigzag(varint(10, "block count"));
      if (count == 0) {
        return;
      }
      if (count < 0) {
        count = -count;
        long size = zigzag(varint(10, "block size"));
        if (size < 0 || size > end - pos) {
          throw fail("block of " + size + " bytes, but " + (end - pos) + " are left");
        }
      }
      if (count < 0 || (itemMin == 0 ? count > MAX_ZERO_BYTE_ITEMS : count > (end - pos) / itemMin)) {
        throw fail((map ? "map" : "array") + " block of " + count + " items, but " + (end - pos)
            + " bytes are left");
      }
      for (long i = 0; i < count; i++) {
        if (map) {
          walk(Schema.create(Schema.Type.STRING), depth + 1);
        }
        walk(item, depth + 1);
      }
    }
  }

  /** The fewest bytes a value of this schema can take. */
  static long minBytes(Schema s, int depth) {
    if (depth > MAX_DEPTH) {
      return 0;
    }
    return switch (s.getType()) {
      case NULL -> 0;
      case FLOAT -> 4;
      case DOUBLE -> 8;
      case FIXED -> s.getFixedSize();
      case RECORD -> {
        long n = 0;
        for (Schema.Field f : s.getFields()) {
          n += minBytes(f.schema(), depth + 1);
        }
        yield n;
      }
      default -> 1; // a varint, a length, a count or an index: at least one byte
    };
  }

  private void skip(int n, String what) throws OutOfBounds {
    if (n > end - pos) {
      throw fail(what + " of " + n + " bytes, but " + (end - pos) + " are left");
    }
    pos += n;
  }

  private long varint(int maxBytes, String what) throws OutOfBounds {
    long n = 0;
    for (int i = 0; i < maxBytes; i++) {
      if (pos >= end) {
        throw fail("the value ends inside a " + what);
      }
      int b = v[pos++] & 0xff;
      n |= (long) (b & 0x7f) << (7 * i);
      if (b < 0x80) {
        return n;
      }
    }
    throw fail(what + " longer than " + maxBytes + " bytes");
  }

  private static long zigzag(long n) {
    return (n >>> 1) ^ -(n & 1);
  }
}
