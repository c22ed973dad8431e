package io.tinyrec.replay;

import io.tinyrec.model.data.CriteoRow;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;

/** Lines (or generated rows) as the reader thread hands them to the encoder, reused through a free list. */
final class ReplayChunk {
  /** Rows a chunk holds at most. */
  static final int CHUNK = 1024;
  /** Bytes of lines a chunk holds, unless one line is longer. */
  static final int CHUNK_BYTES = 256 * 1024;

  int file;
  int fileStartDay;
  long rowsPerDay;
  final long[] lines;
  /** Synthetic rows, or null for a chunk of lines. */
  final CriteoRow[] rows;
  /** Lines without their '\n': line j is data[offsets[j], offsets[j] + lengths[j]). Null for rows. */
  byte[] data;
  final int[] offsets;
  final int[] lengths;
  int bytes;
  int size;
  boolean end;
  String error;

  private ReplayChunk(boolean ofLines, int capacity) {
    lines = new long[capacity];
    rows = ofLines ? null : new CriteoRow[capacity];
    data = ofLines ? new byte[CHUNK_BYTES] : null;
    offsets = ofLines ? new int[capacity] : null;
    lengths = ofLines ? new int[capacity] : null;
  }

  static ReplayChunk ofRows(int file, int fileStartDay, long rowsPerDay) {
    return new ReplayChunk(false, CHUNK).reset(file, fileStartDay, rowsPerDay);
  }

  /** A chunk of lines: one the encoder gave back, or a new one. */
  static ReplayChunk ofLines(BlockingQueue<ReplayChunk> free, int file, int fileStartDay, long rowsPerDay) {
    ReplayChunk c = free.poll();
    return (c != null ? c : new ReplayChunk(true, CHUNK)).reset(file, fileStartDay, rowsPerDay);
  }

  private ReplayChunk reset(int newFile, int newFileStartDay, long newRowsPerDay) {
    file = newFile;
    fileStartDay = newFileStartDay;
    rowsPerDay = newRowsPerDay;
    size = 0;
    bytes = 0;
    return this;
  }

  void add(long line, CriteoRow row) {
    lines[size] = line;
    rows[size++] = row;
  }

  /** Copies a line in; false when the chunk is full (then it is unchanged). A line never splits. */
  boolean addLine(byte[] buf, int off, int len, long line) {
    if (size == lines.length || (bytes + len > data.length && size > 0)) {
      return false;
    }
    if (bytes + len > data.length) {
      data = new byte[Math.max(len, data.length)]; // one line longer than a whole chunk
    }
    System.arraycopy(buf, off, data, bytes, len);
    lines[size] = line;
    offsets[size] = bytes;
    lengths[size++] = len;
    bytes += len;
    return true;
  }

  /** Line j as read, without a trailing '\r', for the rejects file. */
  String text(int j) {
    int n = lengths[j];
    if (n > 0 && data[offsets[j] + n - 1] == '\r') {
      n--;
    }
    return new String(data, offsets[j], n, StandardCharsets.UTF_8);
  }

  static ReplayChunk marker(boolean end, String error) {
    ReplayChunk c = new ReplayChunk(false, 0);
    c.end = end;
    c.error = error;
    return c;
  }
}
