package io.tinyrec.replay;

import java.nio.file.Path;
import java.time.Instant;

/**
 * Where a replayed row sits in event time, and its deterministic id. A row at 1-based line L of an
 * input that starts on day D, with R rows to a day of S seconds, belongs to day
 * {@code D + (L - 1) / R} and happens at {@code start + day * S + ((L - 1) mod R) * S / R}: the rows of
 * a day are spread evenly over it, so replaying a day at speed-up 1 reproduces its real rate. A file
 * longer than R rows runs on into the following days (Criteo Kaggle's train.txt is 7 days in one file).
 *
 * <p>Stateless and thread-safe.
 */
public final class EventClock {
  private final long startMillis;
  private final long dayMillis;

  public EventClock(Instant start, long daySeconds) {
    if (daySeconds < 1) {
      throw new IllegalArgumentException("a day must last at least 1 second, got " + daySeconds);
    }
    this.startMillis = start.toEpochMilli();
    this.dayMillis = daySeconds * 1000;
  }

  /** Day index of a line; {@code fileStartDay} is the day of the file's first line. */
  public static int day(int fileStartDay, long line, long rowsPerDay) {
    return Math.toIntExact(fileStartDay + (line - 1) / rowsPerDay);
  }

  /** Event time in epoch milliseconds of a line. */
  public long eventTime(int fileStartDay, long line, long rowsPerDay) {
    long pos = (line - 1) % rowsPerDay;
    long day = fileStartDay + (line - 1) / rowsPerDay;
    return startMillis + day * dayMillis + Math.multiplyExact(pos, dayMillis) / rowsPerDay;
  }

  /** Days a file of this many lines spans: at least one, so every file starts a new day. */
  public static int daysSpanned(long lines, long rowsPerDay) {
    return (int) Math.max(1, (lines + rowsPerDay - 1) / rowsPerDay);
  }

  /**
   * The name that event ids use for an input: its file name without a trailing .gz, so a day has the
   * same ids whether it is compressed or not.
   */
  public static String sourceName(Path input) {
    String n = input.getFileName().toString();
    return n.endsWith(".gz") ? n.substring(0, n.length() - 3) : n;
  }

  /** The source name of the synthetic stream with this seed. */
  public static String syntheticSourceName(long seed) {
    return "synthetic-" + seed;
  }

  /** The deterministic event id: {@code <source>:<line>}. */
  public static String eventId(String sourceName, long line) {
    return sourceName + ":" + line;
  }

  /** The UTF-8 bytes of {@code <source>:} that {@link #eventIdUtf8} starts an id with. */
  static byte[] idPrefix(String sourceName) {
    return (sourceName + ":").getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  /**
   * Writes the UTF-8 bytes of {@link #eventId} into {@code out} (at least prefix + 20 bytes long) and
   * returns their length; replay's hot path makes no String this way.
   */
  static int eventIdUtf8(byte[] prefix, long line, byte[] out) {
    System.arraycopy(prefix, 0, out, 0, prefix.length);
    int digits = 1;
    for (long v = line; v >= 10; v /= 10) {
      digits++;
    }
    int end = prefix.length + digits;
    long v = line;
    for (int i = end - 1; i >= prefix.length; i--) {
      out[i] = (byte) ('0' + v % 10);
      v /= 10;
    }
    return end;
  }
}
