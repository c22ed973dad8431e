package io.tinyrec.model.data;

/**
 * A Criteo row that cannot be parsed. The message names the source, the 1-based line number, the
 * field (label, I1..I13, C1..C26) and the offending value, so the bad line can be found and fixed.
 */
public final class MalformedRowException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final String source;
  private final long line;
  private final String field;
  private final String reason;

  public MalformedRowException(String source, long line, String field, String reason) {
    super(source + ":" + line + ": " + (field == null ? "" : "field " + field + ": ") + reason);
    this.source = source;
    this.line = line;
    this.field = field;
    this.reason = reason;
  }

  public String source() {
    return source;
  }

  public long line() {
    return line;
  }

  /** The field name (label, I1..I13, C1..C26), or null when the row as a whole is wrong. */
  public String field() {
    return field;
  }

  public String reason() {
    return reason;
  }
}
