package io.tinyrec.model.data;

import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import java.util.zip.GZIPInputStream;

/**
 * Streams Criteo rows from one or more TSV files, plain or gzip (detected by magic bytes), read in
 * order as successive days. Memory is bounded by one line.
 *
 * <p>With {@link OnMalformed#FAIL} a bad line throws {@link MalformedRowException}; with
 * {@link OnMalformed#SKIP} it is counted, passed to the reject listener, and reading goes on.
 * Not thread-safe.
 */
public final class CriteoReader implements Closeable {
  /** What to do with a line that does not parse. */
  public enum OnMalformed { FAIL, SKIP }

  private final List<Path> files;
  private final OnMalformed onMalformed;
  private final Consumer<MalformedRowException> rejectListener;
  private final boolean labelOptional;
  private int fileIndex = -1;
  private BufferedReader reader;
  private String source;
  private long lineNo;
  private long skipped;
  private long rows;

  public CriteoReader(List<Path> files, OnMalformed onMalformed, Consumer<MalformedRowException> rejectListener) {
    this(files, onMalformed, rejectListener, false);
  }

  /**
   * As above; with {@code labelOptional} a line may also leave out the label column (39 fields,
   * for scoring), and such a row has no label ({@link CriteoRow#NO_LABEL}).
   */
  public CriteoReader(List<Path> files, OnMalformed onMalformed, Consumer<MalformedRowException> rejectListener,
      boolean labelOptional) {
    this.labelOptional = labelOptional;
    if (files.isEmpty()) {
      throw new IllegalArgumentException("no input files given");
    }
    for (Path f : files) {
      if (!Files.isReadable(f)) {
        throw new IllegalArgumentException("cannot read input file " + f);
      }
    }
    this.files = List.copyOf(files);
    this.onMalformed = onMalformed;
    this.rejectListener = rejectListener == null ? e -> { } : rejectListener;
  }

  /** Opens a file as text, transparently un-gzipping it when it starts with the gzip magic. */
  public static BufferedReader open(Path file) throws IOException {
    return new BufferedReader(new InputStreamReader(openBytes(file), StandardCharsets.UTF_8), 1 << 16);
  }

  /** Opens a file as bytes, un-gzipping it when it starts with the gzip magic (1f 8b), whatever its name. */
  public static InputStream openBytes(Path file) throws IOException {
    InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
    in.mark(2);
    int b1 = in.read();
    int b2 = in.read();
    in.reset();
    return b1 == 0x1f && b2 == 0x8b ? new GZIPInputStream(in, 1 << 16) : in;
  }

  /** The next row, or null at the end of the last file. */
  public CriteoRow next() {
    try {
      while (true) {
        if (reader == null && !openNext()) {
          return null;
        }
        String line = reader.readLine();
        if (line == null) {
          reader.close();
          reader = null;
          continue;
        }
        lineNo++;
        if (line.isEmpty()) {
          continue;
        }
        try {
          CriteoRow row = CriteoParser.parse(line, source, lineNo, labelOptional);
          rows++;
          return row;
        } catch (MalformedRowException e) {
          if (onMalformed == OnMalformed.FAIL) {
            throw e;
          }
          skipped++;
          rejectListener.accept(e);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + source + " near line " + lineNo, e);
    }
  }

  private boolean openNext() throws IOException {
    if (fileIndex + 1 >= files.size()) {
      return false;
    }
    fileIndex++;
    source = files.get(fileIndex).toString();
    lineNo = 0;
    reader = open(files.get(fileIndex));
    return true;
  }

  /** The file currently being read. */
  public String source() {
    return source;
  }

  /** The 1-based number of the last line read in the current file. */
  public long lineNo() {
    return lineNo;
  }

  public long skippedLines() {
    return skipped;
  }

  public long rowsRead() {
    return rows;
  }

  @Override
  public void close() throws IOException {
    if (reader != null) {
      reader.close();
      reader = null;
    }
  }
}
