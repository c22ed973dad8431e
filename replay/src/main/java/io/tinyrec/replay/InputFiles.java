package io.tinyrec.replay;

import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Reads Criteo inputs, plain or gzip (detected by magic bytes, as CriteoReader does), as byte lines:
 * no per-line String or charset decoding, which would cost as much as un-gzipping.
 */
final class InputFiles {
  private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  private InputFiles() {}

  /** Receives one line (without its '\n') in a buffer that is reused once the call returns. */
  @FunctionalInterface
  interface LineHandler {
    void line(byte[] buf, int off, int len, long lineNo) throws InterruptedException;
  }

  /** Opens a file, un-gzipping it when it starts with the gzip magic bytes (the model's reader does the detecting). */
  static InputStream open(Path file) throws IOException {
    return io.tinyrec.model.data.CriteoReader.openBytes(file);
  }

  /** Lines in a file: newline bytes, plus one for a last line without a newline. */
  static long countLines(Path file) throws IOException {
    try (InputStream in = open(file)) {
      byte[] buf = new byte[1 << 16];
      long lines = 0;
      int n;
      byte last = '\n';
      while ((n = in.read(buf)) > 0) {
        for (int i = indexOfNewline(buf, 0, n); i >= 0; i = indexOfNewline(buf, i + 1, n)) {
          lines++;
        }
        last = buf[n - 1];
      }
      return last == '\n' ? lines : lines + 1;
    }
  }

  /**
   * The index of the first '\n' in buf[from, to), or -1. Eight bytes at a time: a line is ~250 bytes,
   * and a byte-by-byte search cost as much as parsing the line.
   */
  static int indexOfNewline(byte[] buf, int from, int to) {
    int i = from;
    for (; i + 8 <= to; i += 8) {
      long x = (long) LONGS.get(buf, i) ^ 0x0A0A0A0A0A0A0A0AL;
      // Sets the high bit of the lowest byte that is zero (a '\n'); bits above it may be false hits.
      long t = (x - 0x0101010101010101L) & ~x & 0x8080808080808080L;
      if (t != 0) {
        return i + (Long.numberOfTrailingZeros(t) >>> 3);
      }
    }
    for (; i < to; i++) {
      if (buf[i] == '\n') {
        return i;
      }
    }
    return -1;
  }

  /**
   * Calls the handler for each line, numbered from 1, and returns the number of lines. A final line
   * without '\n' counts. A line longer than the buffer grows it; memory is bounded by the longest line.
   */
  static long forEachLine(InputStream in, LineHandler handler) throws IOException, InterruptedException {
    byte[] buf = new byte[1 << 20];
    int start = 0;
    int end = 0;
    long lineNo = 0;
    while (true) {
      if (start > 0) {
        System.arraycopy(buf, start, buf, 0, end - start);
        end -= start;
        start = 0;
      }
      if (end == buf.length) {
        buf = Arrays.copyOf(buf, buf.length * 2);
      }
      int n;
      try {
        n = in.read(buf, end, buf.length - end);
      } catch (IOException e) {
        throw new IOException("after line " + lineNo + ": " + e.getMessage(), e);
      }
      if (n < 0) {
        break;
      }
      int scan = end;
      end += n;
      int nl;
      while ((nl = indexOfNewline(buf, scan, end)) >= 0) {
        handler.line(buf, start, nl - start, ++lineNo);
        start = nl + 1;
        scan = start;
      }
      if (Thread.currentThread().isInterrupted()) {
        throw new InterruptedException("reading stopped");
      }
    }
    if (end > start) {
      handler.line(buf, start, end - start, ++lineNo);
    }
    return lineNo;
  }
}
