package io.tinyrec.model.data;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * A one-pass parser of Criteo TSV lines held as bytes (a line as read from a file, without its
 * '\n'), for readers that must keep up with hundreds of thousands of rows a second. It accepts
 * exactly what {@link CriteoParser} accepts (the label required, or optional as serving takes rows)
 * and gives the same rows: any line it is
 * not sure about (a missing or extra field, a bad label, a non-digit, an out-of-range or over-long
 * number, a byte outside ASCII) goes to CriteoParser, which returns the row or throws the
 * {@link MalformedRowException} naming file, line, field and value. FastCriteoParserTest checks the
 * two agree on valid, edge-case and malformed lines.
 *
 * <p>{@link #parse(byte[], int, int, String, long, CriteoFields)} fills a reusable {@link CriteoFields}
 * and allocates nothing on the fast path. The 26 categorical fields, most of a line's bytes, are
 * checked and converted eight hex digits at a time in one 64-bit word.
 *
 * <p>Stateless and thread-safe.
 */
public final class FastCriteoParser {
  private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final long ONES = 0x0101010101010101L;
  private static final long HIGH = 0x8080808080808080L;

  private FastCriteoParser() {}

  /** The row of one line; allocates the row. As {@link CriteoParser#parse(CharSequence, String, long)}. */
  public static CriteoRow parse(byte[] b, int off, int len, String source, long lineNo) {
    CriteoFields f = new CriteoFields();
    parse(b, off, len, source, lineNo, f);
    return f.toRow();
  }

  /**
   * Parses one line into {@code into}.
   *
   * @throws MalformedRowException as CriteoParser does, naming source, line, field and value; {@code
   *     into} is then left in an undefined state
   */
  public static void parse(byte[] b, int off, int len, String source, long lineNo, CriteoFields into) {
    parse(b, off, len, source, lineNo, into, false);
  }

  /**
   * As {@link #parse(byte[], int, int, String, long, CriteoFields)}; with {@code labelOptional} a
   * line of 39 fields (no label column) is accepted too and gets {@link CriteoRow#NO_LABEL}.
   */
  public static void parse(byte[] b, int off, int len, String source, long lineNo, CriteoFields into,
      boolean labelOptional) {
    if (tryParse(b, off, len, into, labelOptional)) {
      return;
    }
    into.set(slowParse(b, off, len, source, lineNo, labelOptional));
  }

  private static CriteoRow slowParse(byte[] b, int off, int len, String source, long lineNo, boolean labelOptional) {
    for (int i = off; i < off + len; i++) {
      if (b[i] < 0) {
        // Not ASCII: let the error message show the value as the file has it (UTF-8).
        return CriteoParser.parse(new String(b, off, len, StandardCharsets.UTF_8), source, lineNo, labelOptional);
      }
    }
    return CriteoParser.parse(new AsciiLine(b, off, len), source, lineNo, labelOptional);
  }

  /**
   * Parses a well-formed line into {@code into} and returns true, or returns false (leaving {@code
   * into} undefined) when the line needs CriteoParser's judgement. A line of valid fields that this
   * fast path declines (e.g. a number with more than ten digits) is still a valid line.
   */
  public static boolean tryParse(byte[] b, int off, int len, CriteoFields into) {
    return tryParse(b, off, len, into, false);
  }

  /** As {@link #tryParse(byte[], int, int, CriteoFields)}; with {@code labelOptional} as in parse. */
  public static boolean tryParse(byte[] b, int off, int len, CriteoFields into, boolean labelOptional) {
    int end = off + len;
    if (len > 0 && b[end - 1] == '\r') {
      end--;
    }
    int p;
    if (labelOptional && tabs(b, off, end) == CriteoRow.NUM_DENSE + CriteoRow.NUM_CATS - 1) {
      // 39 fields: I1..I13, C1..C26 with no label column. Only the count tells it from a labelled
      // line, since I1 may itself be 0 or 1.
      into.label = CriteoRow.NO_LABEL;
      p = off;
    } else {
      if (end - off < 2 || (b[off] != '0' && b[off] != '1') || b[off + 1] != '\t') {
        return false;
      }
      into.label = b[off] - '0';
      p = off + 2;
    }
    int[] dense = into.dense;
    int denseMissing = 0;
    for (int i = 0; i < CriteoRow.NUM_DENSE; i++) {
      if (p >= end) {
        return false; // too few fields
      }
      if (b[p] == '\t') {
        denseMissing |= 1 << i;
        p++;
        continue;
      }
      boolean neg = false;
      if (b[p] == '-' || b[p] == '+') {
        neg = b[p] == '-';
        p++;
      }
      int start = p;
      long v = 0;
      while (p < end && b[p] != '\t') {
        int d = b[p] - '0';
        if (d < 0 || d > 9 || p - start >= 10) {
          return false; // not a digit, or more digits than an int can hold
        }
        v = v * 10 + d;
        p++;
      }
      if (p == start || p >= end) {
        return false; // no digits, or the line ends where more fields must follow
      }
      v = neg ? -v : v;
      if (v > Integer.MAX_VALUE || v < Integer.MIN_VALUE) {
        return false;
      }
      dense[i] = (int) v;
      p++; // the tab
    }
    into.denseMissing = denseMissing;
    int[] cats = into.cats;
    int catMissing = 0;
    for (int t = 0; t < CriteoRow.NUM_CATS; t++) {
      boolean last = t == CriteoRow.NUM_CATS - 1;
      if (p > end || (p == end && !last)) {
        return false; // too few fields
      }
      if (p == end || b[p] == '\t') {
        catMissing |= 1 << t;
      } else {
        if (end - p < 8) {
          return false;
        }
        long v = hex8((long) LONGS.get(b, p));
        if (v < 0) {
          return false;
        }
        cats[t] = (int) v;
        p += 8;
        if (p < end && b[p] != '\t') {
          return false; // more than eight characters
        }
      }
      if (last) {
        if (p != end) {
          return false; // extra fields
        }
      } else {
        p++; // the tab
      }
    }
    into.catMissing = catMissing;
    return true;
  }

  private static int tabs(byte[] b, int from, int to) {
    int n = 0;
    for (int i = from; i < to; i++) {
      n += b[i] == '\t' ? 1 : 0;
    }
    return n;
  }

  /**
   * The value of eight ASCII hex digits held in a little-endian word (the first digit in the lowest
   * byte, as read from the line), or -1 if any byte is not [0-9a-fA-F]. SWAR: every byte is tested
   * and converted at once; no byte can carry into its neighbour because each is below 0x80 first.
   */
  static long hex8(long x) {
    if ((x & HIGH) != 0) {
      return -1; // a byte outside ASCII
    }
    // A byte's high bit after adding (0x80 - k) says whether it is >= k.
    long digit = (x + ONES * (0x80 - '0')) & ~(x + ONES * (0x80 - '9' - 1)) & HIGH;
    long lower = x | ONES * 0x20; // 'A'..'F' -> 'a'..'f'; digits already have the bit
    long letter = (lower + ONES * (0x80 - 'a')) & ~(lower + ONES * (0x80 - 'f' - 1)) & HIGH;
    if ((digit | letter) != HIGH) {
      return -1;
    }
    // Each byte's value: its low nibble, plus 9 for a letter ('a' = 0x61 -> 1 + 9).
    long n = (x & ONES * 0x0F) + (letter >>> 7) * 9;
    // Pack the nibbles, first digit most significant: bytes -> 4 bytes -> 2 shorts -> 1 int.
    n = ((n << 4) + (n >>> 8)) & 0x00FF00FF00FF00FFL;
    n = ((n << 8) + (n >>> 16)) & 0x0000FFFF0000FFFFL;
    return ((n << 16) + (n >>> 32)) & 0xFFFFFFFFL;
  }
}
