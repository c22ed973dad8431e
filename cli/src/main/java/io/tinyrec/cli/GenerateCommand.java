package io.tinyrec.cli;

import io.tinyrec.model.metrics.MetricsSnapshot;
import io.tinyrec.model.metrics.ProgressiveMetrics;
import io.tinyrec.model.synthetic.SyntheticCriteo;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.zip.GZIPOutputStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code tinyrec generate}: the synthetic Criteo-like stream with a planted teacher. */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Writes Criteo-format TSV rows drawn from a hidden planted model (power-law categories, "
        + "Criteo-like cardinalities and missing rates, click rate near 0.25, a nonlinear teacher with feature "
        + "interactions). Prints the teacher's own AUC and log loss to stderr: the best any learner can reach on "
        + "these rows.",
    footer = {"", "Example:", "  ./tinyrec generate --rows 1000000 --seed 7 --out runs/synthetic-1m.tsv --drift-at 500000"})
public final class GenerateCommand implements Callable<Integer> {
  @Option(names = "--rows", required = true, description = "Rows to write.")
  long rows;

  @Option(names = "--seed", defaultValue = "1", description = "Seed of the stream and its teacher (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--out", defaultValue = "-", description = "Output file, .gz to compress, or - for stdout (default).")
  String out;

  @Option(names = "--drift-at", defaultValue = "-1", description = "Row at which the teacher changes (default: no drift).")
  long driftAt;

  @Option(names = "--from-row", defaultValue = "0", description = "First row to write (rows depend only on seed and index).")
  long fromRow;

  /** The validated settings of one generate run. */
  record GenerateConfig(long rows, long seed, String out, long driftAt, long fromRow) {
    GenerateConfig {
      if (rows < 0) {
        throw new IllegalArgumentException("--rows must be >= 0, got " + rows);
      }
      if (fromRow < 0) {
        throw new IllegalArgumentException("--from-row must be >= 0, got " + fromRow);
      }
    }
  }

  @Override
  public Integer call() throws IOException {
    GenerateConfig cfg = new GenerateConfig(rows, seed, out, driftAt, fromRow);
    SyntheticCriteo stream = new SyntheticCriteo(cfg.seed(), cfg.driftAt());
    ProgressiveMetrics teacher = new ProgressiveMetrics(100_000);
    long start = System.nanoTime();
    try (BufferedWriter w = open(cfg.out())) {
      for (long i = cfg.fromRow(); i < cfg.fromRow() + cfg.rows(); i++) {
        SyntheticCriteo.Sample s = stream.sample(i);
        w.write(s.row().toTsv());
        w.write('\n');
        teacher.add((float) s.probability(), s.row().label() == 1);
      }
    }
    MetricsSnapshot m = teacher.overall();
    System.err.printf(Locale.ROOT, "generate: %d rows, seed %d%s, click rate %.4f, %.1fs%n", cfg.rows(), cfg.seed(),
        cfg.driftAt() >= 0 ? ", drift at row " + cfg.driftAt() : "", m.ctr(), (System.nanoTime() - start) / 1e9);
    System.err.printf(Locale.ROOT, "teacher (best achievable): auc %.4f logloss %.4f ne %.4f%n", m.auc(), m.logloss(),
        m.ne());
    return 0;
  }

  private static BufferedWriter open(String out) throws IOException {
    OutputStream os;
    if ("-".equals(out)) {
      os = new java.io.FilterOutputStream(System.out) {
        @Override
        public void close() throws IOException {
          flush();
        }
      };
    } else {
      Path p = Path.of(out);
      if (p.getParent() != null) {
        Files.createDirectories(p.getParent());
      }
      os = Files.newOutputStream(p);
      if (out.endsWith(".gz")) {
        os = new GZIPOutputStream(os, 1 << 16);
      }
    }
    return new BufferedWriter(new OutputStreamWriter(os, StandardCharsets.UTF_8), 1 << 16);
  }
}
