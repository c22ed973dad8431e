package io.tinyrec.replay;

import io.tinyrec.model.data.CriteoParser;
import io.tinyrec.model.data.CriteoRow;
import java.nio.charset.StandardCharsets;

/**
 * A one-pass parser of Criteo TSV lines held as bytes, for replay's hot path. It accepts exactly what
 * {@link CriteoParser} accepts and gives the same rows: any line it is not sure about (a missing or
 * extra field, a bad label, a non-digit, an out-of-range or over-long number) goes to CriteoParser,
 * which returns the row or throws the MalformedRowException naming file, line and field.
 * FastCriteoParserTest checks the two agree on valid, edge-case and malformed lines.
 *
 * <p>Stateless and thread-safe.
 */
final class FastCriteoParser {
  private static final int FIELDS = 1 + CriteoRow.NUM_DENSE + CriteoRow.NUM_CATS;
  private static final byte[] HEX = new byte[256];

  static {
    java.util.Arrays.fill(HEX, (byte) -1);
    for (int c = '0'; c <= '9'; c++) {
      HEX[c] = (byte) (c - '0');
    }
    for (int c = 'a'; c <= 'f'; c++) {
      HEX[c] = (byte) (c - 'a' + 10);
      HEX[c - 'a' + 'A'] = (byte) (c - 'a' + 10);
    }
  }

  private FastCriteoParser() {}

  /**
   * The row of one line (without its '\n').
   *
   * @param scratch a reusable view used only when the line goes to CriteoParser
   * @throws io.tinyrec.model.data.MalformedRowException as CriteoParser does
   */
  static CriteoRow parse(byte[] b, int off, int len, String source, long lineNo, AsciiLine scratch) {
    CriteoRow row = tryParse(b, off, len);
    if (row != null) {
      return row;
    }
    for (int i = off; i < off + len; i++) {
      if (b[i] < 0) {
        // Not ASCII: let the error message show the value as the file has it (UTF-8).
        return CriteoParser.parse(new String(b, off, len, StandardCharsets.UTF_8), source, lineNo);
      }
    }
    scratch.set(b, off, len);
    return CriteoParser.parse(scratch, source, lineNo);
  }

  /** The row, or null when the line needs CriteoParser's judgement. */
  static CriteoRow tryParse(byte[] b, int off, int len) {
    int end = off + len;
    if (len > 0 && b[end - 1] == '\r') {
      end--;
    }
    if (end - off < 2 || (b[off] != '0' && b[off] != '1') || b[off + 1] != '\t') {
      return null;
    }
    int label = b[off] - '0';
    int p = off + 2;
    int[] dense = new int[CriteoRow.NUM_DENSE];
    int denseMissing = 0;
    for (int i = 0; i < CriteoRow.NUM_DENSE; i++) {
      if (p >= end && i < FIELDS - 1) {
        return null; // too few fields
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
          return null; // not a digit, or more digits than an int can hold
        }
        v = v * 10 + d;
        p++;
      }
      if (p == start || p >= end) {
        return null; // no digits, or the line ends where more fields must follow
      }
      v = neg ? -v : v;
      if (v > Integer.MAX_VALUE || v < Integer.MIN_VALUE) {
        return null;
      }
      dense[i] = (int) v;
      p++; // the tab
    }
    int[] cats = new int[CriteoRow.NUM_CATS];
    int catMissing = 0;
    for (int t = 0; t < CriteoRow.NUM_CATS; t++) {
      boolean last = t == CriteoRow.NUM_CATS - 1;
      if (p > end || (p == end && !last)) {
        return null; // too few fields
      }
      if (p == end || b[p] == '\t') {
        catMissing |= 1 << t;
      } else {
        if (end - p < 8) {
          return null;
        }
        int v = 0;
        for (int k = 0; k < 8; k++) {
          int d = HEX[b[p + k] & 0xff];
          if (d < 0) {
            return null;
          }
          v = v << 4 | d;
        }
        cats[t] = v;
        p += 8;
        if (p < end && b[p] != '\t') {
          return null; // more than eight characters
        }
      }
      if (last) {
        if (p != end) {
          return null; // extra fields
        }
      } else {
        p++; // the tab
      }
    }
    return new CriteoRow(label, dense, denseMissing, cats, catMissing);
  }
}
