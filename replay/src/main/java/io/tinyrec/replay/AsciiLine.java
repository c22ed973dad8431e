package io.tinyrec.replay;

import java.nio.charset.StandardCharsets;

/**
 * A line of bytes seen as characters one byte each, so CriteoParser can read it without a String
 * being made. Criteo lines are ASCII; any other byte can only be part of a malformed field, and the
 * parser rejects it either way. Mutable and reused: not thread-safe.
 */
final class AsciiLine implements CharSequence {
  private byte[] buf;
  private int off;
  private int len;

  void set(byte[] buf, int off, int len) {
    this.buf = buf;
    this.off = off;
    this.len = len;
  }

  @Override
  public int length() {
    return len;
  }

  @Override
  public char charAt(int index) {
    return (char) (buf[off + index] & 0xff);
  }

  @Override
  public CharSequence subSequence(int start, int end) {
    return new String(buf, off + start, end - start, StandardCharsets.ISO_8859_1);
  }

  @Override
  public String toString() {
    return new String(buf, off, len, StandardCharsets.ISO_8859_1);
  }
}
