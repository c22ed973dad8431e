package io.tinyrec.model.train;

import io.tinyrec.model.Batch;
import io.tinyrec.model.Dlrm;
import io.tinyrec.model.ModelConfig;
import io.tinyrec.model.data.CriteoParser;
import io.tinyrec.model.data.CriteoRow;
import java.util.List;
import io.tinyrec.model.metrics.ProgressiveMetrics;
import io.tinyrec.model.synthetic.SyntheticCriteo;

/**
 * Gets the JIT to compile the training kernels before a timed run. A JVM starts in the
 * interpreter and reaches full speed only after C1 and then C2 have compiled the hot loops, which
 * on a short file (10k rows) is a large part of the run. This trains a throwaway model, built from
 * the same config but never the caller's, on generated rows ({@link SyntheticCriteo}, written out
 * as Criteo text and parsed back, so the parser warms too) for a bounded time, and stops early
 * once throughput has stopped improving. Steps start at 1/8 of the batch size and double every
 * window up to it, so an interpreted first step cannot overrun the cap by much.
 *
 * <p>It touches no state but its own: the caller's model is not an argument, and the model
 * classes keep no static mutable state, so a run after a warm-up gives bit-identical results to
 * one without. Rows per second are measured over windows of at least {@link #WINDOW_NANOS};
 * warm-up stops when {@link #STABLE_WINDOWS} windows in a row have not beaten the best earlier
 * window by more than 3%, after at least {@link #MIN_NANOS}, or at the caller's cap.
 */
public final class JitWarmup {
  /** Minimum length of one throughput window. */
  static final long WINDOW_NANOS = 100_000_000L;
  /** No early stop before this much warm-up. */
  static final long MIN_NANOS = 500_000_000L;
  /** Windows in a row without a 3% gain that count as stable. */
  static final int STABLE_WINDOWS = 4;
  /** The default cap on warm-up time, in seconds. */
  public static final double DEFAULT_MAX_SECONDS = 2.0;
  /** Batches of distinct rows the warm-up cycles through. */
  private static final int POOL_BATCHES = 16;
  /**
   * A quantized model needs rows it has not seen: over a few batches again and again its cache
   * soon holds every line, and the miss path (staging, admission, re-quantization) would not get hot.
   */
  private static final int QUANTIZED_POOL_BATCHES = 48;

  private JitWarmup() {}

  /**
   * What a warm-up did.
   *
   * @param batches training steps taken on the throwaway model
   * @param rows rows those steps trained on (the first steps are smaller than a batch)
   * @param seconds wall time of the whole warm-up, building the throwaway model included
   * @param stable whether it stopped because throughput stopped improving (false: it hit the cap)
   * @param lastRowsPerSecond throughput of the last window
   */
  public record Result(long batches, long rows, double seconds, boolean stable, double lastRowsPerSecond) {}

  /** Warms up for at most {@link #DEFAULT_MAX_SECONDS}. */
  public static Result run(ModelConfig config, int batchSize) {
    return run(config, batchSize, DEFAULT_MAX_SECONDS, Long.MAX_VALUE);
  }

  /**
   * Trains a throwaway {@code new Dlrm(config)} on generated batches of {@code batchSize} rows until
   * throughput is stable, {@code maxSeconds} have passed or {@code maxBatches} steps were taken.
   */
  public static Result run(ModelConfig config, int batchSize, double maxSeconds, long maxBatches) {
    return run(config, batchSize, maxSeconds, maxBatches, List.of());
  }

  /**
   * Distinct rows the warm-up cycles through: what it generates, and what it would like from the
   * caller's own input (see {@link #run(ModelConfig, int, double, long, List)}).
   */
  public static int rowsWanted(ModelConfig config, int batchSize) {
    return batchSize * (config.quantization().quantized() ? QUANTIZED_POOL_BATCHES : POOL_BATCHES);
  }

  /**
   * As {@link #run(ModelConfig, int, double, long)}, but trains the throwaway model on {@code input}
   * (typically the first {@link #rowsWanted} rows of the input the real run will read) when it
   * holds at least a batch, so the JIT profiles the kernels on the categories and values of the
   * real data. The rows are only read.
   */
  public static Result run(ModelConfig config, int batchSize, double maxSeconds, long maxBatches, List<CriteoRow> input) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
    }
    long start = System.nanoTime();
    long deadline = start + (long) (maxSeconds * 1e9);
    String[] lines = input.size() >= batchSize
        ? input.stream().map(CriteoRow::toTsv).toArray(String[]::new)
        : generatedLines(rowsWanted(config, batchSize), config.seed());
    Dlrm scratch = new Dlrm(config);
    ProgressiveMetrics metrics = new ProgressiveMetrics(Math.max(1, lines.length));
    Batch batch = new Batch(batchSize);
    float[] scores = new float[batchSize];
    long batches = 0;
    long rows = 0;
    int next = 0;
    double best = 0;
    double last = 0;
    int flat = 0;
    boolean stable = false;
    // The first steps run interpreted, where one full batch of a large model can take seconds;
    // small batches at first keep the time cap honest, then steps grow to the real batch size so
    // the compiled code is profiled on the real shapes.
    int size = Math.max(1, batchSize / 8);
    long windowStart = System.nanoTime();
    long windowRows = 0;
    while (batches < maxBatches) {
      long now = System.nanoTime();
      if (now - deadline >= 0) {
        break;
      }
      batch.clear();
      for (int i = 0; i < size; i++) {
        batch.add(CriteoParser.parse(lines[next], "warm-up", next + 1));
        next = (next + 1) % lines.length;
      }
      scratch.trainStepInPlace(batch, scores);
      for (int i = 0; i < batch.size(); i++) {
        metrics.add(scores[i], batch.label(i) != 0f);
      }
      batches++;
      rows += batch.size();
      windowRows += batch.size();
      now = System.nanoTime();
      if (now - windowStart >= WINDOW_NANOS) {
        last = windowRows / ((now - windowStart) / 1e9);
        if (size < batchSize) {
          size = Math.min(batchSize, size * 2);
        } else {
          if (last > best * 1.03) {
            flat = 0;
          } else {
            flat++;
          }
          best = Math.max(best, last);
          if (flat >= STABLE_WINDOWS && now - start >= MIN_NANOS) {
            stable = true;
            break;
          }
        }
        windowStart = now;
        windowRows = 0;
      }
    }
    return new Result(batches, rows, (System.nanoTime() - start) / 1e9, stable, last);
  }

  /** {@code n} rows of the synthetic stream as Criteo TSV lines. */
  private static String[] generatedLines(int n, long seed) {
    SyntheticCriteo s = new SyntheticCriteo(seed, -1);
    String[] out = new String[n];
    for (int i = 0; i < n; i++) {
      out[i] = s.sample(i).row().toTsv();
    }
    return out;
  }
}
