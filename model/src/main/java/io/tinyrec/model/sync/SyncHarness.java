package io.tinyrec.model.sync;

import io.tinyrec.model.Batch;
import io.tinyrec.model.ModelConfig;
import io.tinyrec.model.data.CriteoRow;
import io.tinyrec.model.metrics.MetricsSnapshot;
import io.tinyrec.model.metrics.ProgressiveMetrics;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * N learners and the merger, run with the job's own protocol classes ({@link SyncLearner},
 * {@link SyncMerger}) in one thread, in a deterministic interleaving, on the same rows: what
 * scaling out costs in accuracy and in sync traffic, without Flink, Kafka or a cluster.
 *
 * <p>Rows go to learners by a hash of their index, as keyed events go to partitions. Time runs in
 * ticks; in each tick every learner that has rows left and is not held back by bounded staleness
 * trains one batch, in learner order, and sends an update when one is due (every
 * {@code syncEvery} events). The merger merges each update as it arrives and publishes a message
 * once it holds one per learner, or at the end of the tick (the job's coalescing window). A message
 * reaches every learner {@code delayTicks} ticks later, in order (the round trip through Kafka).
 * When the rows run out, every learner sends its final update and the last messages are delivered.
 *
 * <p>Counted: progressive AUC and log loss over every learner's scores; payload bytes each learner
 * reads (sync messages) and sends (updates); CPU time of the merger and of the learners' sync work
 * (building updates, applying messages), apart from training.
 */
public final class SyncHarness {
  /** How the protocol runs: the job's sync settings, in events and ticks. */
  public record Settings(ModelConfig model, int batch, int syncEvery, int maxStaleness, int delayTicks,
      int fullEvery, int metricsWindow, double sharedExponent) {
    public Settings {
      if (batch < 1 || syncEvery < 1 || maxStaleness < 0 || delayTicks < 0 || fullEvery < 1 || metricsWindow < 1
          || !(sharedExponent >= 0 && sharedExponent <= 1)) {
        throw new IllegalArgumentException("batch, syncEvery, fullEvery and metricsWindow must be >= 1, "
            + "maxStaleness and delayTicks >= 0, sharedExponent in [0, 1]");
      }
    }

    /** The job's settings: its merge rule ({@link SyncMerger#SHARED_EXPONENT}). */
    public Settings(ModelConfig model, int batch, int syncEvery, int maxStaleness, int delayTicks, int fullEvery,
        int metricsWindow) {
      this(model, batch, syncEvery, maxStaleness, delayTicks, fullEvery, metricsWindow, SyncMerger.SHARED_EXPONENT);
    }
  }

  /** What one run measured. Per event: per labelled event trained, over all learners. */
  public record Result(int learners, long events, MetricsSnapshot metrics, long messages, long updates,
      double bytesInPerLearnerEvent, double bytesOutPerLearnerEvent, double mergerCpuNsPerEvent,
      double learnerSyncCpuNsPerEvent, double syncMessageBytes, long staleTicks, long ticks, double seconds) {}

  private SyncHarness() {}

  public static Result run(List<CriteoRow> rows, int n, Settings s) {
    long t0 = System.nanoTime();
    List<List<CriteoRow>> parts = new ArrayList<>();
    for (int k = 0; k < n; k++) {
      parts.add(new ArrayList<>());
    }
    for (int i = 0; i < rows.size(); i++) {
      parts.get(Math.floorMod(Long.hashCode(i * 0x9E3779B97F4A7C15L), n)).add(rows.get(i));
    }
    SyncMerger merger = new SyncMerger(new io.tinyrec.model.Dlrm(s.model()), 0, 0, 0, Long.MIN_VALUE, n, 0, n,
        s.fullEvery(), s.sharedExponent());
    SyncLearner[] learners = new SyncLearner[n];
    for (int k = 0; k < n; k++) {
      learners[k] = new SyncLearner(s.model(), k, 0);
      learners[k].startIfFresh(0);
    }
    ArrayDeque<Pending> inTransit = new ArrayDeque<>();
    // The merger's first message: the epoch's whole model.
    inTransit.add(new Pending(s.delayTicks(), merger.full(false)));
    ProgressiveMetrics metrics = new ProgressiveMetrics(s.metricsWindow());
    Batch batch = new Batch(s.batch());
    float[] scores = new float[s.batch()];
    int[] pos = new int[n];
    long tick = 0;
    long staleTicks = 0;
    long updates = 0;
    boolean rowsLeft = true;
    while (rowsLeft) {
      rowsLeft = false;
      deliver(inTransit, tick, learners);
      for (int k = 0; k < n; k++) {
        SyncLearner l = learners[k];
        List<CriteoRow> p = parts.get(k);
        if (pos[k] >= p.size()) {
          continue;
        }
        rowsLeft = true;
        if (l.heldBack(s.maxStaleness())) {
          staleTicks++;
          continue;
        }
        batch.clear();
        int end = Math.min(p.size(), pos[k] + s.batch());
        for (int j = pos[k]; j < end; j++) {
          batch.add(p.get(j));
        }
        pos[k] = end;
        l.train(batch, scores);
        for (int j = 0; j < batch.size(); j++) {
          metrics.add(scores[j], batch.label(j) > 0.5f);
        }
        l.handled(batch.size(), tick);
        if (l.sendDue(tick, s.syncEvery(), Long.MAX_VALUE)) {
          merger.merge(l.send(false, tick));
          updates++;
          if (merger.publishDue()) {
            inTransit.add(new Pending(tick + s.delayTicks(), merger.publish()));
          }
        }
      }
      if (merger.hasUnpublished()) {
        inTransit.add(new Pending(tick + s.delayTicks(), merger.publish()));
      }
      tick++;
    }
    for (SyncLearner l : learners) {
      merger.merge(l.send(true, tick));
      updates++;
    }
    inTransit.add(new Pending(tick, merger.full(true)));
    deliver(inTransit, Long.MAX_VALUE, learners);
    long events = merger.eventsTrained();
    long bytesIn = 0;
    long bytesOut = 0;
    long learnerNs = 0;
    for (SyncLearner l : learners) {
      bytesIn += l.stats().bytesIn;
      bytesOut += l.stats().bytesOut;
      learnerNs += l.stats().mergeNanos + l.stats().publishNanos;
    }
    SyncStats m = merger.stats();
    double ev = Math.max(1, events);
    return new Result(n, events, metrics.overall(), m.messages, updates, bytesIn / ev, bytesOut / ev,
        (m.mergeNanos + m.publishNanos) / ev, learnerNs / ev, (double) m.bytesOut / Math.max(1, m.messages),
        staleTicks, tick, (System.nanoTime() - t0) / 1e9);
  }

  /** A sync message on its way, due at a tick. */
  private record Pending(long deliverAt, SyncMessage message) {}

  private static void deliver(ArrayDeque<Pending> inTransit, long tick, SyncLearner[] learners) {
    while (!inTransit.isEmpty() && inTransit.peekFirst().deliverAt() <= tick) {
      SyncMessage m = inTransit.pollFirst().message();
      for (SyncLearner l : learners) {
        if (l.onSync(m, tick) == SyncLearner.Outcome.DROPPED) {
          throw new IllegalStateException("learner dropped sync message version " + m.version);
        }
      }
    }
  }
}
