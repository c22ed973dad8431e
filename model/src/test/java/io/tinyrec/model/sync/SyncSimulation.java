package io.tinyrec.model.sync;

import io.tinyrec.model.Batch;
import io.tinyrec.model.Dlrm;
import io.tinyrec.model.ModelConfig;
import io.tinyrec.model.data.CriteoRow;
import io.tinyrec.model.metrics.ProgressiveMetrics;
import io.tinyrec.model.synthetic.SyntheticCriteo;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Offline model of the job's sync protocol, without Flink or Kafka: N learners take turns training
 * one batch each, send their change every {@code syncEvery} batches, the merger merges at once, and
 * the merged change reaches every learner {@code delay} turns later. Prints the progressive AUC of
 * one sequential model and of the N learners, to see what staleness costs.
 *
 * <p>Run: {@code java -cp model/target/classes:model/target/test-classes --add-modules
 * jdk.incubator.vector io.tinyrec.model.sync.SyncSimulation preset rows learners syncEvery delay [lr]}
 */
public final class SyncSimulation {
  record Msg(int deliverAt, ChunkDelta change, int learner, long seq) {}

  static final class L {
    Dlrm local;
    ModelTensors lt;
    Dlrm global;
    ModelTensors gt;
    ModelTensors base;
    long seq = -1;
    ArrayDeque<Object[]> inFlight = new ArrayDeque<>();
    int sinceSend;
    long trained;
  }

  public static void main(String[] a) {
    String preset = a[0];
    int rows = Integer.parseInt(a[1]);
    int n = Integer.parseInt(a[2]);
    int syncEvery = Integer.parseInt(a[3]);
    int delay = Integer.parseInt(a[4]);
    ModelConfig cfg = ModelConfig.preset(preset);
    if (a.length > 5) {
      float lr = Float.parseFloat(a[5]);
      cfg = cfg.withLearningRates(lr, lr);
    }
    int batch = a.length > 6 ? Integer.parseInt(a[6]) : 64;
    long stale = a.length > 7 ? Long.parseLong(a[7]) : Long.MAX_VALUE;
    long waits = 0;
    SyntheticCriteo gen = new SyntheticCriteo(11, -1);
    List<CriteoRow> data = new ArrayList<>(rows);
    for (int i = 0; i < rows; i++) {
      data.add(gen.sample(i).row());
    }
    // Sequential reference.
    ProgressiveMetrics seqM = new ProgressiveMetrics(100_000);
    Dlrm m = new Dlrm(cfg);
    Batch b = new Batch(batch);
    float[] out = new float[batch];
    for (int i = 0; i < rows; i += batch) {
      b.clear();
      for (int j = i; j < Math.min(rows, i + batch); j++) {
        b.add(data.get(j));
      }
      m.trainStepInPlace(b, out);
      for (int j = 0; j < b.size(); j++) {
        seqM.add(out[j], b.label(j) > 0.5f);
      }
    }
    // N learners: learner k gets rows whose index hashes to k, in order.
    List<List<CriteoRow>> parts = new ArrayList<>();
    for (int k = 0; k < n; k++) {
      parts.add(new ArrayList<>());
    }
    for (int i = 0; i < rows; i++) {
      parts.get(Math.floorMod(Long.hashCode(i * 0x9E3779B97F4A7C15L), n)).add(data.get(i));
    }
    Dlrm merger = new Dlrm(cfg);
    ModelTensors mt = ModelTensors.of(merger);
    L[] ls = new L[n];
    for (int k = 0; k < n; k++) {
      L l = new L();
      l.local = new Dlrm(cfg);
      l.lt = ModelTensors.of(l.local);
      l.global = new Dlrm(cfg);
      l.gt = ModelTensors.of(l.global);
      l.base = l.gt.copy();
      ls[k] = l;
    }
    ArrayDeque<Msg> pending = new ArrayDeque<>();
    ProgressiveMetrics parM = new ProgressiveMetrics(100_000);
    int[] pos = new int[n];
    int turn = 0;
    boolean any = true;
    while (any) {
      any = false;
      for (int k = 0; k < n; k++, turn++) {
        // Deliver due sync messages (in order) to every learner.
        while (!pending.isEmpty() && pending.peekFirst().deliverAt() <= turn) {
          Msg msg = pending.pollFirst();
          for (int q = 0; q < n; q++) {
            apply(ls[q], q, msg);
          }
        }
        L l = ls[k];
        List<CriteoRow> p = parts.get(k);
        if (pos[k] >= p.size()) {
          continue;
        }
        any = true;
        if (!l.inFlight.isEmpty() && l.trained - (long) l.inFlight.peekFirst()[2] >= stale) {
          waits++;
          continue;
        }
        b.clear();
        for (int j = pos[k]; j < Math.min(p.size(), pos[k] + batch); j++) {
          b.add(p.get(j));
        }
        pos[k] += b.size();
        l.trained += b.size();
        l.local.trainStepInPlace(b, out);
        for (int j = 0; j < b.size(); j++) {
          parM.add(out[j], b.label(j) > 0.5f);
        }
        if (++l.sinceSend >= syncEvery && l.inFlight.size() < 4) {
          l.sinceSend = 0;
          ModelTensors from = l.inFlight.isEmpty() ? l.base : (ModelTensors) l.inFlight.peekLast()[1];
          ChunkDelta d = ChunkDelta.between(from, l.lt, true);
          l.seq++;
          l.inFlight.addLast(new Object[] {l.seq, l.lt.copy(), l.trained});
          ChunkDelta merged = d.mergeInto(mt);
          pending.addLast(new Msg(turn + delay, merged, k, l.seq));
        }
      }
    }
    System.out.printf("%s rows=%d learners=%d syncEvery=%d delay=%d stale=%d: sequential AUC %.4f, parallel %.4f, "
        + "gap %.4f, waited turns %d of %d%n", preset, rows, n, syncEvery, delay, stale, seqM.overall().auc(),
        parM.overall().auc(), seqM.overall().auc() - parM.overall().auc(), waits, turn);
  }

  private static void apply(L l, int me, Msg msg) {
    ChunkDelta change = msg.change();
    ChunkDelta previous = change.valuesIn(l.gt);
    change.overwrite(l.gt);
    l.global.weightsChangedInPlace();
    if (msg.learner() == me) {
      Object[] newest = null;
      while (!l.inFlight.isEmpty() && (long) l.inFlight.peekFirst()[0] <= msg.seq()) {
        newest = l.inFlight.pollFirst();
      }
      ModelTensors sent = (ModelTensors) newest[1];
      ChunkDelta.rebase(l.lt, sent, l.gt);
      for (Object[] f : l.inFlight) {
        ChunkDelta.rebase((ModelTensors) f[1], sent, l.gt);
      }
      if (l.inFlight.isEmpty()) {
        l.base.setFrom(l.gt);
      }
    } else {
      change.rebaseChunks(l.lt, previous);
      for (Object[] f : l.inFlight) {
        change.rebaseChunks((ModelTensors) f[1], previous);
      }
      if (l.inFlight.isEmpty()) {
        l.base.setFrom(l.gt);
      }
    }
    l.local.weightsChangedInPlace();
  }
}
