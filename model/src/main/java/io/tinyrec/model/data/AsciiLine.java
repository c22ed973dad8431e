package io.tinyrec.model.data;

import java.nio.charset.StandardCharsets;

/**
 * A line of bytes seen as characters one byte each, so CriteoParser can read it without a String
 * being made. Criteo lines are ASCII; FastCriteoParser sends a line with any other byte to
 * CriteoParser as a decoded String instead, so error messages show it as the file has it.
 */
final class AsciiLine implements CharSequence {
  private final byte[] buf;
  private final int off;
  private final int len;

  AsciiLine(byte[] buf, int off, int len) {
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
