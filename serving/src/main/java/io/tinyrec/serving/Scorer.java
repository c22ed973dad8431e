package io.tinyrec.serving;

import io.tinyrec.model.Batch;
import io.tinyrec.model.Dlrm;
import io.tinyrec.model.ModelConfig;
import io.tinyrec.model.codec.SnapshotCodec;
import io.tinyrec.model.data.CriteoFields;
import io.tinyrec.model.data.CriteoParser;
import io.tinyrec.model.data.CriteoRow;
import io.tinyrec.model.data.FastCriteoParser;
import io.tinyrec.model.data.MalformedRowException;
import io.tinyrec.schemas.ClickEvent;
import java.util.Arrays;
import java.util.List;

/**
 * Click probabilities from one model for Criteo rows (parsed, or raw TSV lines with or without the
 * label column) and ClickEvents, with exactly the preprocessing and hashing of training: every input
 * becomes a {@link CriteoRow} or {@link CriteoFields} and enters the model through {@link Batch},
 * as in {@code tinyrec learn} and the streaming job. The batch methods score {@link #BATCH} rows at
 * a time, which is where the kernels reach their speed; a single row costs one forward pass of
 * batch 1.
 *
 * <p>Thread-safe: the model is only read, and each thread scores in buffers of its own (a thread
 * keeps one set for every model of the same layout, so a new version allocates nothing). The
 * Scorer owns its model: nobody may train or modify it afterwards.
 */
public final class Scorer {
  /** Rows scored together by the batch methods, unless a scorer is made with another number. */
  public static final int BATCH = 256;
  private static final ThreadLocal<Work> WORK = ThreadLocal.withInitial(Work::new);

  private final Dlrm model;
  private final int batchRows;

  /** One thread's buffers: a batch, its scores, a parsed row and the model's scratch. */
  private static final class Work {
    Batch batch = new Batch(BATCH);
    float[] out = new float[BATCH];
    final CriteoFields fields = new CriteoFields();
    Dlrm.Scratch scratch;
  }

  /** A scorer of this model, which it now owns, scoring {@link #BATCH} rows per forward pass. */
  public Scorer(Dlrm model) {
    this(model, BATCH);
  }

  /** A scorer of this model, which it now owns, scoring up to batchRows rows per forward pass. */
  public Scorer(Dlrm model, int batchRows) {
    if (batchRows < 1) {
      throw new IllegalArgumentException("rows per forward pass must be >= 1, got " + batchRows);
    }
    this.model = model;
    this.batchRows = batchRows;
  }

  /**
   * Decodes snapshot codec bytes (docs/snapshot-format.md) into a scorer.
   *
   * @throws io.tinyrec.model.codec.SnapshotFormatException when the bytes are not a valid snapshot
   */
  public static Scorer fromCodec(byte[] codec) {
    return new Scorer(SnapshotCodec.decode(codec));
  }

  public ModelConfig config() {
    return model.config();
  }

  /** The click probability of one row. */
  public float score(CriteoRow row) {
    Work w = work();
    w.batch.add(row);
    flush(w, w.out, 0);
    return w.out[0];
  }

  /**
   * The click probability of one event, from its label-free fields as {@link CriteoRow#of} reads them.
   *
   * @throws IllegalArgumentException naming the field when the event cannot be a model input
   */
  public float score(ClickEvent event) {
    return score(CriteoRow.of(event.getLabel(), event.getDense(), event.getCats()));
  }

  /**
   * The click probability of one raw Criteo TSV line, with or without its label column.
   *
   * @throws MalformedRowException naming the field and value when the line does not parse
   */
  public float score(CharSequence tsvLine) {
    return score(CriteoParser.parse(tsvLine, "row", 1, true));
  }

  /** Click probabilities of the rows, in order. */
  public float[] score(List<CriteoRow> rows) {
    float[] out = new float[rows.size()];
    Work w = work();
    for (int i = 0; i < rows.size(); i++) {
      w.batch.add(rows.get(i));
      if (w.batch.isFull()) {
        flush(w, out, i + 1 - batchRows);
      }
    }
    flush(w, out, rows.size() - w.batch.size());
    return out;
  }

  /**
   * Click probabilities of the events, in order.
   *
   * @throws IllegalArgumentException naming the event's index and field when one cannot be a model input
   */
  public float[] scoreEvents(List<ClickEvent> events) {
    CriteoRow[] rows = new CriteoRow[events.size()];
    for (int i = 0; i < rows.length; i++) {
      ClickEvent e = events.get(i);
      try {
        rows[i] = CriteoRow.of(e.getLabel(), e.getDense(), e.getCats());
      } catch (IllegalArgumentException ex) {
        throw new IllegalArgumentException("event " + i + (e.getEventId() == null ? "" : " (" + e.getEventId() + ")")
            + ": " + ex.getMessage(), ex);
      }
    }
    return score(Arrays.asList(rows));
  }

  /**
   * Click probabilities of the TSV lines in {@code buf[off, off + len)}, one per non-empty line, in
   * order. Lines end in '\n' (a '\r' before it is ignored); the label column is optional, line by
   * line. Parsing allocates nothing per row.
   *
   * @param source what the bytes are, for error messages (e.g. "request body")
   * @throws MalformedRowException naming the source, the 1-based line, the field and the value of
   *     the first line that does not parse; no score is returned then
   */
  public float[] scoreTsv(byte[] buf, int off, int len, String source) {
    Work w = work();
    float[] out = new float[Math.max(16, len / 128)];
    int n = 0;
    int end = off + len;
    long lineNo = 0;
    int start = off;
    while (start < end) {
      int nl = start;
      while (nl < end && buf[nl] != '\n') {
        nl++;
      }
      lineNo++;
      int lineLen = nl - start;
      if (lineLen > 0 && !(lineLen == 1 && buf[start] == '\r')) {
        FastCriteoParser.parse(buf, start, lineLen, source, lineNo, w.fields, true);
        w.batch.add(w.fields);
        if (w.batch.isFull()) {
          if (n + batchRows > out.length) {
            out = Arrays.copyOf(out, Math.max(2 * out.length, n + batchRows));
          }
          flush(w, out, n);
          n += batchRows;
        }
      }
      start = nl + 1;
    }
    if (n + w.batch.size() > out.length) {
      out = Arrays.copyOf(out, n + w.batch.size());
    }
    int last = w.batch.size();
    flush(w, out, n);
    n += last;
    return n == out.length ? out : Arrays.copyOf(out, n);
  }

  private Work work() {
    Work w = WORK.get();
    if (w.batch.capacity() != batchRows) {
      w.batch = new Batch(batchRows);
      w.out = new float[batchRows];
    }
    w.batch.clear();
    if (w.scratch == null || !w.scratch.fits(model)) {
      w.scratch = model.newScratch();
    }
    return w;
  }

  /** Scores the batch into dst[dstOff ..] and empties it. */
  private void flush(Work w, float[] dst, int dstOff) {
    int n = w.batch.size();
    if (n == 0) {
      return;
    }
    model.score(w.batch, w.out, w.scratch);
    if (dst != w.out || dstOff != 0) {
      System.arraycopy(w.out, 0, dst, dstOff, n);
    }
    w.batch.clear();
  }
}
