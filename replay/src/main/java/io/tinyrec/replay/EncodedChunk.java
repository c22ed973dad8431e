package io.tinyrec.replay;

import io.tinyrec.model.data.MalformedRowException;

/** A chunk of lines as the encoder thread hands it to the sender: keys, encoded events, rejects. */
final class EncodedChunk {
  final int file;
  final int fileStartDay;
  final long[] lines;
  /** Event times, for pacing. */
  final long[] times;
  final byte[][] keys;
  /** EncodedChunk ClickEvents; null where the line was malformed. */
  final byte[][] values;
  /** Where values[j] is null: why, and the line as read. */
  MalformedRowException[] errors;
  String[] raw;
  int size;
  boolean end;
  String error;

  EncodedChunk(int file, int fileStartDay, int capacity) {
    this.file = file;
    this.fileStartDay = fileStartDay;
    lines = new long[capacity];
    times = new long[capacity];
    keys = new byte[capacity][];
    values = new byte[capacity][];
  }

  void reject(long line, MalformedRowException e, String text) {
    if (errors == null) {
      errors = new MalformedRowException[lines.length];
      raw = new String[lines.length];
    }
    lines[size] = line;
    errors[size] = e;
    raw[size++] = text;
  }

  static EncodedChunk marker(boolean end, String error) {
    EncodedChunk e = new EncodedChunk(0, 0, 0);
    e.end = end;
    e.error = error;
    return e;
  }
}
