package io.tinyrec.model.data;

/**
 * Parses one raw Criteo TSV line: label, I1..I13, C1..C26, tab-separated, an empty field is missing.
 * A line without the label column (39 fields) is accepted when {@code labelOptional} is set, which
 * is how serving takes rows. A trailing carriage return is ignored.
 *
 * <p>Stateless and thread-safe. Throws {@link MalformedRowException} naming line, field and value.
 */
public final class CriteoParser {
  private static final int FIELDS = 1 + CriteoRow.NUM_DENSE + CriteoRow.NUM_CATS;

  private CriteoParser() {}

  public static CriteoRow parse(CharSequence line, String source, long lineNo) {
    return parse(line, source, lineNo, false);
  }

  public static CriteoRow parse(CharSequence line, String source, long lineNo, boolean labelOptional) {
    int len = line.length();
    if (len > 0 && line.charAt(len - 1) == '\r') {
      len--;
    }
    int tabs = 0;
    for (int i = 0; i < len; i++) {
      if (line.charAt(i) == '\t') {
        tabs++;
      }
    }
    int fields = tabs + 1;
    boolean hasLabel;
    if (fields == FIELDS) {
      hasLabel = true;
    } else if (labelOptional && fields == FIELDS - 1) {
      hasLabel = false;
    } else {
      throw new MalformedRowException(source, lineNo, null,
          "expected " + FIELDS + " tab-separated fields (label, I1..I13, C1..C26), found " + fields);
    }
    int[] dense = new int[CriteoRow.NUM_DENSE];
    int[] cats = new int[CriteoRow.NUM_CATS];
    int denseMissing = 0;
    int catMissing = 0;
    int label = CriteoRow.NO_LABEL;
    int pos = 0;
    int field = hasLabel ? 0 : 1;
    while (field < FIELDS) {
      int end = pos;
      while (end < len && line.charAt(end) != '\t') {
        end++;
      }
      if (field == 0) {
        if (end - pos != 1 || (line.charAt(pos) != '0' && line.charAt(pos) != '1')) {
          throw bad(source, lineNo, "label", line, pos, end, "must be 0 or 1");
        }
        label = line.charAt(pos) - '0';
      } else if (field <= CriteoRow.NUM_DENSE) {
        int i = field - 1;
        if (end == pos) {
          denseMissing |= 1 << i;
        } else {
          dense[i] = parseInt(line, pos, end, source, lineNo, "I" + field);
        }
      } else {
        int t = field - 1 - CriteoRow.NUM_DENSE;
        if (end == pos) {
          catMissing |= 1 << t;
        } else {
          cats[t] = parseHex(line, pos, end, source, lineNo, "C" + (t + 1));
        }
      }
      pos = end + 1;
      field++;
    }
    return new CriteoRow(label, dense, denseMissing, cats, catMissing);
  }

  private static int parseInt(CharSequence s, int from, int to, String source, long lineNo, String name) {
    int i = from;
    boolean neg = false;
    if (s.charAt(i) == '-' || s.charAt(i) == '+') {
      neg = s.charAt(i) == '-';
      i++;
    }
    if (i == to) {
      throw bad(source, lineNo, name, s, from, to, "is not an integer");
    }
    long v = 0;
    for (; i < to; i++) {
      int d = s.charAt(i) - '0';
      if (d < 0 || d > 9) {
        throw bad(source, lineNo, name, s, from, to, "is not an integer");
      }
      v = v * 10 + d;
      if (v > 1L << 31) {
        throw bad(source, lineNo, name, s, from, to, "is outside the 32-bit integer range");
      }
    }
    v = neg ? -v : v;
    if (v > Integer.MAX_VALUE) {
      throw bad(source, lineNo, name, s, from, to, "is outside the 32-bit integer range");
    }
    return (int) v;
  }

  private static int parseHex(CharSequence s, int from, int to, String source, long lineNo, String name) {
    if (to - from != 8) {
      throw bad(source, lineNo, name, s, from, to, "must be eight hex digits");
    }
    int v = 0;
    for (int i = from; i < to; i++) {
      int d = Character.digit(s.charAt(i), 16);
      if (d < 0) {
        throw bad(source, lineNo, name, s, from, to, "must be eight hex digits");
      }
      v = v << 4 | d;
    }
    return v;
  }

  private static MalformedRowException bad(String source, long lineNo, String field, CharSequence s,
      int from, int to, String what) {
    String value = s.subSequence(from, Math.min(to, from + 40)).toString();
    return new MalformedRowException(source, lineNo, field, "value '" + value + "' " + what);
  }
}
