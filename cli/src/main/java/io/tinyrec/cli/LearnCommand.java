package io.tinyrec.cli;

import io.tinyrec.model.Dlrm;
import io.tinyrec.model.ModelConfig;
import io.tinyrec.model.codec.SnapshotCodec;
import io.tinyrec.model.data.CriteoReader;
import io.tinyrec.model.data.CriteoRow;
import io.tinyrec.model.data.MalformedRowException;
import io.tinyrec.model.metrics.MetricsSnapshot;
import io.tinyrec.model.metrics.ProgressiveMetrics;
import io.tinyrec.model.nn.Kernels;
import io.tinyrec.model.train.JitWarmup;
import io.tinyrec.model.train.ProgressiveValidation;
import io.tinyrec.report.LearnCurveWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code tinyrec learn}: one pass of progressive validation over Criteo files. */
@Command(name = "learn", mixinStandardHelpOptions = true, sortOptions = false,
    description = "One pass of progressive validation over raw Criteo TSV files (plain or .gz, read in order as "
        + "successive days): each mini-batch is scored with the current model, then trained on. Prints the "
        + "metrics at the end; --json prints one JSON line instead.",
    footer = {"", "Examples:",
        "  ./tinyrec learn --input day_0.gz day_1.gz --optimizer adagrad --lr 0.01 --json",
        "  ./tinyrec learn --input train.txt --embedding hash --rows-per-table 100000 --optimizer sgd --lr 0.1",
        "  ./tinyrec learn --input runs/synthetic-1m.tsv --compression 1000x --save-snapshot runs/model.trsn",
        "  ./tinyrec learn --input runs/drift.tsv --curve runs/drift-curve.jsonl && ./tinyrec report --learn-json "
            + "runs/drift-curve.jsonl --drift-at 150000"})
public final class LearnCommand implements Callable<Integer> {
  @Option(names = "--input", required = true, arity = "1..*", description = "Criteo TSV files, plain or .gz.")
  List<Path> inputs;

  @Mixin
  ModelOptions model;

  @Option(names = "--batch", defaultValue = "128", description = "Mini-batch rows (default ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--limit", defaultValue = "0", description = "Stop after this many rows (default 0: all).")
  long limit;

  @Option(names = "--metrics-window", defaultValue = "100000",
      description = "Events in the sliding metrics window (default ${DEFAULT-VALUE}).")
  int metricsWindow;

  @Option(names = "--strict", description = "Fail on the first malformed line instead of skipping and counting it.")
  boolean strict;

  @Option(names = "--json", description = "Print one JSON line with the results instead of a summary.")
  boolean json;

  @Option(names = "--curve", paramLabel = "FILE", description = "Also write the run's curve to FILE for `tinyrec "
      + "report --learn-json`: one JSON line every --curve-every rows and one at the end (rows, wall_seconds, auc, ne, "
      + "logloss, window_auc, window_ne, window_logloss, rows_per_s, metrics_window).")
  Path curve;

  @Option(names = "--curve-every", defaultValue = "1000", paramLabel = "ROWS",
      description = "Rows between two --curve lines (default ${DEFAULT-VALUE}).")
  long curveEvery;

  @Option(names = "--save-snapshot", description = "Write the trained model to this file in the snapshot format.")
  Path saveSnapshot;

  @Option(names = "--with-optimizer-state", description = "Include optimizer state in the saved snapshot.")
  boolean withOptimizerState;

  @Option(names = "--no-warmup", description = "Skip the JIT warm-up: by default a throwaway copy of the model trains "
      + "on the input's first rows (until its speed stops improving, at most --warmup-max-seconds) before the real "
      + "run, so the timed loop starts compiled. The real model's results are the same either way; the wall figures "
      + "include the warm-up.")
  boolean noWarmup;

  @Option(names = "--warmup-max-seconds", defaultValue = "10", paramLabel = "S",
      description = "Cap on the JIT warm-up (default ${DEFAULT-VALUE}); it usually stops earlier, once its speed is "
          + "stable: about 4 s for a float32 model and 7 s for a quantized one on one core.")
  double warmupMaxSeconds;

  /** The validated settings of one learn run. */
  record LearnConfig(List<Path> inputs, ModelConfig model, int batch, long limit, int metricsWindow, boolean strict,
      boolean json, Path saveSnapshot, boolean withOptimizerState, boolean warmup, double warmupMaxSeconds, Path curve,
      long curveEvery) {
    LearnConfig {
      if (batch < 1) {
        throw new IllegalArgumentException("--batch must be >= 1, got " + batch);
      }
      if (limit < 0) {
        throw new IllegalArgumentException("--limit must be >= 0, got " + limit);
      }
      if (metricsWindow < 1) {
        throw new IllegalArgumentException("--metrics-window must be >= 1, got " + metricsWindow);
      }
      if (!(warmupMaxSeconds >= 0)) {
        throw new IllegalArgumentException("--warmup-max-seconds must be >= 0, got " + warmupMaxSeconds);
      }
      if (curveEvery < 1) {
        throw new IllegalArgumentException("--curve-every must be >= 1 row, got " + curveEvery);
      }
      for (Path p : inputs) {
        if (!Files.isReadable(p)) {
          throw new IllegalArgumentException("--input " + p + " does not exist or is not readable");
        }
      }
    }
  }

  @Override
  public Integer call() throws Exception {
    LearnConfig cfg = new LearnConfig(inputs, model.toConfig(), batch, limit, metricsWindow, strict, json,
        saveSnapshot, withOptimizerState, !noWarmup, warmupMaxSeconds, curve, curveEvery);
    PrintStream err = System.err;
    if (!cfg.json()) {
      err.println("learn: " + cfg.model() + ", batch " + cfg.batch() + ", kernels " + Kernels.implementation());
    }
    double warmupSeconds = 0;
    if (cfg.warmup()) {
      // A separate model: the real one is built below and never sees the warm-up.
      long t0 = System.nanoTime();
      List<CriteoRow> head = firstRows(cfg.inputs(), JitWarmup.rowsWanted(cfg.model(), cfg.batch()));
      JitWarmup.Result w = JitWarmup.run(cfg.model(), cfg.batch(), cfg.warmupMaxSeconds(), Long.MAX_VALUE, head);
      warmupSeconds = (System.nanoTime() - t0) / 1e9;
      if (!cfg.json()) {
        err.printf(Locale.ROOT, "learn: JIT warm-up %.2fs (%d batches of %s on a throwaway model, %s)%n",
            warmupSeconds, w.batches(), head.size() >= cfg.batch() ? "the input's first " + head.size() + " rows"
                : "generated rows", w.stable() ? "speed stable" : "time cap");
      }
    }
    AtomicLong reported = new AtomicLong();
    CriteoReader.OnMalformed mode = cfg.strict() ? CriteoReader.OnMalformed.FAIL : CriteoReader.OnMalformed.SKIP;
    Dlrm dlrm = new Dlrm(cfg.model());
    ProgressiveValidation.Result r;
    try (CriteoReader reader = new CriteoReader(cfg.inputs(), mode, e -> reportMalformed(err, e, reported));
        LearnCurveWriter curveOut = cfg.curve() == null ? null : new LearnCurveWriter(cfg.curve(), cfg.curveEvery())) {
      Progress progress = new Progress(err, cfg.limit(), !cfg.json() && System.console() != null);
      ProgressiveMetrics[] last = new ProgressiveMetrics[1];
      ProgressiveValidation.Listener listener = curveOut == null ? progress::update : (rows, m) -> {
        progress.update(rows, m);
        curveOut.afterBatch(rows, m);
        last[0] = m;
      };
      r = ProgressiveValidation.run(dlrm, reader, cfg.batch(), cfg.limit(), cfg.metricsWindow(), listener);
      progress.finish();
      if (curveOut != null) {
        curveOut.finish(r.rows(), last[0] == null ? new ProgressiveMetrics(cfg.metricsWindow()) : last[0]);
        if (!cfg.json()) {
          err.println("learn: wrote the curve to " + cfg.curve() + " (tinyrec report --learn-json " + cfg.curve()
              + " plots it)");
        }
      }
    } catch (MalformedRowException e) {
      err.println("learn: malformed input: " + e.getMessage() + " (drop --strict to skip and count such lines)");
      return 1;
    }
    if (r.skippedLines() > reported.get()) {
      err.println("learn: skipped " + r.skippedLines() + " malformed lines in all (first "
          + reported.get() + " shown above)");
    }
    if (r.rows() == 0) {
      // Nothing learned: say so and fail, rather than print a summary of zero rows (or save an untrained model).
      err.println("learn: no rows to learn from in " + cfg.inputs() + (r.skippedLines() > 0
          ? " (" + r.skippedLines() + " malformed lines skipped)" : " (the input is empty)")
          + (cfg.saveSnapshot() != null ? "; no snapshot written" : ""));
      return 1;
    }
    if (cfg.saveSnapshot() != null) {
      byte[] bytes = SnapshotCodec.encode(dlrm, cfg.withOptimizerState());
      Path p = cfg.saveSnapshot();
      if (p.toAbsolutePath().getParent() != null) {
        Files.createDirectories(p.toAbsolutePath().getParent());
      }
      Files.write(p, bytes);
      if (!cfg.json()) {
        err.println("learn: wrote snapshot " + p + " (" + bytes.length + " bytes)");
      }
    }
    if (cfg.json()) {
      System.out.println(toJson(cfg, r, dlrm, warmupSeconds));
    } else {
      printSummary(System.out, r, dlrm, warmupSeconds);
    }
    return 0;
  }

  /**
   * Up to n rows from the start of the inputs, for the JIT warm-up (which trains a throwaway model
   * on them); malformed lines are passed over here and reported by the real run. None when an
   * input is not a regular file (a pipe cannot be read twice).
   */
  static List<CriteoRow> firstRows(List<Path> inputs, int n) throws IOException {
    List<CriteoRow> rows = new ArrayList<>(n);
    if (!inputs.stream().allMatch(Files::isRegularFile)) {
      return rows;
    }
    try (CriteoReader r = new CriteoReader(inputs, CriteoReader.OnMalformed.SKIP, e -> {})) {
      for (CriteoRow row; rows.size() < n && (row = r.next()) != null; ) {
        rows.add(row);
      }
    }
    return rows;
  }

  private static void reportMalformed(PrintStream err, MalformedRowException e, AtomicLong reported) {
    if (reported.get() < 10) {
      err.println("learn: skipping malformed line: " + e.getMessage());
      reported.incrementAndGet();
    }
  }

  /** Wall time of the whole run: the warm-up, then reading, scoring and training. */
  static double wallSeconds(ProgressiveValidation.Result r, double warmupSeconds) {
    return warmupSeconds + r.wallSeconds();
  }

  static String toJson(LearnConfig cfg, ProgressiveValidation.Result r, Dlrm dlrm, double warmupSeconds) {
    MetricsSnapshot o = r.overall();
    MetricsSnapshot w = r.window();
    ModelConfig m = cfg.model();
    ModelConfig.Quantization q = m.quantization();
    double wall = wallSeconds(r, warmupSeconds);
    return String.format(Locale.ROOT, "{\"rows\":%d,\"auc\":%s,\"auc_error_bound\":%s,\"logloss\":%s,\"ne\":%s,"
            + "\"calibration\":%s,\"window_auc\":%s,\"window_ne\":%s,\"rows_per_s\":%.1f,\"wall_rows_per_s\":%.1f,"
            + "\"seconds\":%.3f,\"wall_seconds\":%.3f,\"warmup_seconds\":%.3f,\"model_bytes\":%d,\"embedding_bytes\":%d,"
            + "\"embedding_state_bytes\":%d,\"cpu_seconds\":%.3f,\"cpu_rows_per_s\":%.1f,"
            + "\"skipped_lines\":%d,"
            + "\"skipped_updates\":%d,\"embedding\":\"%s\",\"optimizer\":\"%s\",\"embedding_adagrad\":\"%s\","
            + "\"lr_dense\":%s,\"lr_embedding\":%s,"
            + "\"batch\":%d,\"robe_size\":%d,\"robe_z\":%d,\"rows_per_table\":%d,\"seed\":%d,\"kernels\":\"%s\","
            + "\"precision\":\"%s\"%s}",
        r.rows(), num(o.auc()), num(o.aucErrorBound()), num(o.logloss()), num(o.ne()), num(o.calibration()),
        num(w.auc()), num(w.ne()), r.rowsPerSecond(), r.rows() / wall, r.trainSeconds(), wall, warmupSeconds,
        dlrm.parameterBytes(), dlrm.embedding().storageBytes(), dlrm.embedding().optimizerStateBytes(),
        r.trainCpuSeconds(), r.cpuRowsPerSecond(), r.skippedLines(), r.skippedUpdates(),
        m.embedding().name().toLowerCase(Locale.ROOT), m.optimizer().name().toLowerCase(Locale.ROOT),
        m.embeddingAdagrad().name().toLowerCase(Locale.ROOT), num(m.lrDense()), num(m.lrEmbedding()), cfg.batch(), m.robeSize(), m.robeZ(), m.rowsPerTable(), m.seed(),
        Kernels.implementation(), q.precision().name().toLowerCase(Locale.ROOT), quantizationJson(dlrm));
  }

  /** The quantized array's settings and cache figures, as further JSON fields (none for fp32). */
  private static String quantizationJson(Dlrm dlrm) {
    if (!(dlrm.embedding() instanceof io.tinyrec.model.nn.QuantizedRobeEmbedding e)) {
      return "";
    }
    ModelConfig c = dlrm.config();
    ModelConfig.Quantization q = c.quantization();
    io.tinyrec.model.nn.QuantizedArray a = e.array();
    return String.format(Locale.ROOT, ",\"quant_group\":%d,\"quant_scale\":\"%s\",\"cache_fraction\":%s,"
            + "\"cache_policy\":\"%s\",\"cache_lines\":%d,\"line_floats\":%d,\"cache_evictions\":%d",
        c.quantGroupSize(), q.scaleDtype().name().toLowerCase(Locale.ROOT), num(q.cacheFraction()),
        q.cachePolicy().name().toLowerCase(Locale.ROOT), a.capacity(), a.lineLength(), a.evictions());
  }

  private static String num(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%.6g", v) : "null";
  }

  private static void printSummary(PrintStream out, ProgressiveValidation.Result r, Dlrm dlrm, double warmupSeconds) {
    MetricsSnapshot o = r.overall();
    MetricsSnapshot w = r.window();
    out.printf(Locale.ROOT, "rows            %,d (skipped lines %d, skipped updates %d)%n", r.rows(), r.skippedLines(),
        r.skippedUpdates());
    out.printf(Locale.ROOT, "auc             %.4f (+/- %.1e binning bound)   window %.4f%n", o.auc(),
        o.aucErrorBound(), w.auc());
    out.printf(Locale.ROOT, "logloss         %.4f   window %.4f%n", o.logloss(), w.logloss());
    out.printf(Locale.ROOT, "ne              %.4f   window %.4f%n", o.ne(), w.ne());
    out.printf(Locale.ROOT, "calibration     %.4f   window %.4f%n", o.calibration(), w.calibration());
    out.printf(Locale.ROOT, "train rows/s    %,.0f  (%.2fs in score+update)%n", r.rowsPerSecond(), r.trainSeconds());
    double wall = wallSeconds(r, warmupSeconds);
    out.printf(Locale.ROOT, "wall rows/s     %,.0f  (%.2fs in all, %.2fs of it JIT warm-up)%n", r.rows() / wall, wall,
        warmupSeconds);
    out.printf(Locale.ROOT, "model bytes     %,d (embedding %,d, its optimizer state %,d more)%n",
        dlrm.parameterBytes(), dlrm.embedding().storageBytes(), dlrm.embedding().optimizerStateBytes());
  }

  /** A one-line progress display on a terminal, redrawn at most twice a second. */
  static final class Progress {
    private final PrintStream err;
    private final long total;
    private final boolean enabled;
    private final long start = System.nanoTime();
    private long lastDraw;

    Progress(PrintStream err, long total, boolean enabled) {
      this.err = err;
      this.total = total;
      this.enabled = enabled;
    }

    void update(long rows, io.tinyrec.model.metrics.ProgressiveMetrics metrics) {
      if (!enabled) {
        return;
      }
      long now = System.nanoTime();
      if (now - lastDraw < 500_000_000L) {
        return;
      }
      lastDraw = now;
      double secs = (now - start) / 1e9;
      double rate = rows / Math.max(secs, 1e-9);
      String pct = total > 0 ? String.format(Locale.ROOT, " %5.1f%% ETA %.0fs", 100.0 * rows / total,
          (total - rows) / Math.max(rate, 1)) : "";
      err.printf(Locale.ROOT, "\r%,12d rows %,9.0f rows/s%s  window auc %.4f   ", rows, rate, pct,
          metrics.windowed().auc());
    }

    void finish() {
      if (enabled) {
        err.print("\r" + " ".repeat(90) + "\r");
      }
    }
  }
}
