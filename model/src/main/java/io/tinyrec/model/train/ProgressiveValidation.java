package io.tinyrec.model.train;

import io.tinyrec.model.Batch;
import io.tinyrec.model.Dlrm;
import io.tinyrec.model.data.CriteoReader;
import io.tinyrec.model.data.CriteoRow;
import io.tinyrec.model.metrics.MetricsSnapshot;
import io.tinyrec.model.metrics.ProgressiveMetrics;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One pass of progressive validation: each mini-batch is scored with the current model, then
 * trained on. Parsing runs on its own thread and hands over filled batches through a small pool,
 * so memory stays bounded by a few batches whatever the input size.
 *
 * <p>Timing follows the reference peer: {@code trainSeconds} covers only the model's scoring and
 * update calls; {@code wallSeconds} covers everything, parsing included.
 */
public final class ProgressiveValidation {
  private static final int POOL = 8;

  /** Called on the training thread after each batch. */
  public interface Listener {
    void afterBatch(long rows, ProgressiveMetrics metrics);
  }

  /**
   * The outcome of a run.
   *
   * @param rows rows scored and trained on
   * @param overall metrics over the whole run
   * @param window metrics over the last {@code metricsWindow} rows
   * @param trainSeconds time inside the model's score-and-train calls
   * @param wallSeconds total time, parsing included
   * @param skippedLines malformed input lines that were skipped
   * @param skippedUpdates batches whose update was skipped for a non-finite loss or gradient
   * @param trainCpuSeconds CPU time of the training thread inside the score-and-train calls: what
   *     {@code trainSeconds} would be had no other process shared the core (NaN if the JVM cannot
   *     measure thread CPU time)
   */
  public record Result(long rows, MetricsSnapshot overall, MetricsSnapshot window, double trainSeconds,
      double wallSeconds, long skippedLines, long skippedUpdates, double trainCpuSeconds) {

    public double rowsPerSecond() {
      return rows / trainSeconds;
    }

    /** Rows per CPU-second of the training thread: robust to other processes on a shared machine. */
    public double cpuRowsPerSecond() {
      return rows / trainCpuSeconds;
    }

    public double wallRowsPerSecond() {
      return rows / wallSeconds;
    }
  }

  private ProgressiveValidation() {}

  /**
   * Runs the pass. {@code limit} caps the rows read (0 = all). The reader is consumed but not
   * closed. Parse errors propagate unless the reader skips them.
   */
  public static Result run(Dlrm model, CriteoReader reader, int batchSize, long limit, int metricsWindow,
      Listener listener) throws InterruptedException {
    BlockingQueue<Batch> free = new ArrayBlockingQueue<>(POOL);
    BlockingQueue<Batch> full = new ArrayBlockingQueue<>(POOL + 1);
    for (int i = 0; i < POOL; i++) {
      free.add(new Batch(batchSize));
    }
    Batch end = new Batch(1);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    long wallStart = System.nanoTime();
    Thread parser = new Thread(() -> {
      try {
        long read = 0;
        boolean done = false;
        while (!done) {
          Batch b = free.take();
          b.clear();
          while (!b.isFull()) {
            if (limit > 0 && read >= limit) {
              done = true;
              break;
            }
            CriteoRow row = reader.next();
            if (row == null) {
              done = true;
              break;
            }
            b.add(row);
            read++;
          }
          if (b.size() > 0) {
            full.put(b);
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (Throwable t) {
        failure.set(t);
      } finally {
        full.offer(end);
      }
    }, "tinyrec-parser");
    parser.setDaemon(true);
    parser.start();

    ProgressiveMetrics metrics = new ProgressiveMetrics(metricsWindow);
    float[] scores = new float[batchSize];
    long rows = 0;
    long trainNanos = 0;
    long cpuNanos = 0;
    java.lang.management.ThreadMXBean cpu = java.lang.management.ManagementFactory.getThreadMXBean();
    boolean cpuTime = cpu.isCurrentThreadCpuTimeSupported();
    try {
      while (true) {
        Batch b = full.take();
        if (b == end) {
          break;
        }
        long c0 = cpuTime ? cpu.getCurrentThreadCpuTime() : 0;
        long t0 = System.nanoTime();
        model.trainStepInPlace(b, scores);
        trainNanos += System.nanoTime() - t0;
        cpuNanos += cpuTime ? cpu.getCurrentThreadCpuTime() - c0 : 0;
        for (int i = 0; i < b.size(); i++) {
          metrics.add(scores[i], b.label(i) != 0f);
        }
        rows += b.size();
        free.put(b);
        if (listener != null) {
          listener.afterBatch(rows, metrics);
        }
      }
    } finally {
      parser.interrupt();
    }
    parser.join();
    Throwable t = failure.get();
    if (t instanceof RuntimeException re) {
      throw re;
    }
    if (t instanceof Error err) {
      throw err;
    }
    if (t != null) {
      throw new IllegalStateException(t);
    }
    double wall = (System.nanoTime() - wallStart) / 1e9;
    return new Result(rows, metrics.overall(), metrics.windowed(), trainNanos / 1e9, wall, reader.skippedLines(),
        model.skippedUpdates(), cpuTime ? cpuNanos / 1e9 : Double.NaN);
  }
}
