package io.tinyrec.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tinyrec.jobs.TrainJobConfig;
import io.tinyrec.model.ModelConfig;
import io.tinyrec.model.data.CriteoReader;
import io.tinyrec.model.data.CriteoRow;
import io.tinyrec.model.synthetic.SyntheticCriteo;
import io.tinyrec.model.sync.SyncHarness;
import io.tinyrec.model.sync.SyncMerger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "bench-sync", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Runs N learners and the merger with the job's own sync protocol in one thread, in a "
        + "deterministic interleaving, on the same rows, and prints one JSON line per N: progressive AUC and log "
        + "loss, sync bytes each learner reads and sends per trained event, the merger's CPU per event and the "
        + "learners' CPU per event spent on sync.",
        "Time runs in ticks: each learner trains one batch per tick, a sync message reaches the learners "
            + "--delay-ticks later. No Flink, no Kafka: this is what the protocol itself costs."})
public final class BenchSyncCommand implements Callable<Integer> {
  @Option(names = "--learners", defaultValue = "1,2,4,8,16,32", split = ",",
      description = "Learner counts (default ${DEFAULT-VALUE}).")
  List<Integer> learners;
  @Option(names = "--input", description = "Criteo TSV file(s) (.gz too); default: --rows generated rows.")
  List<Path> input;
  @Option(names = "--rows", defaultValue = "1000000", description = "Generated rows without --input (default ${DEFAULT-VALUE}).")
  int rows;
  @Option(names = "--data-seed", defaultValue = "1", description = "Seed of the generated rows, as generate --seed (default ${DEFAULT-VALUE}).")
  long dataSeed;
  @Option(names = "--batch", defaultValue = "128", description = "Micro-batch of each learner (default ${DEFAULT-VALUE}).")
  int batch;
  @Option(names = "--sync-every", description = "Events between a learner's updates, as train's (default: the "
      + "job's for each N, 8192/N between 256 and 4096).")
  Integer syncEvery;
  @Option(names = "--max-staleness", description = "As train's (default: --sync-every).")
  Integer maxStaleness;
  @Option(names = "--delay-ticks", defaultValue = "4",
      description = "Ticks from a message's publishing to its arrival (default ${DEFAULT-VALUE}: about 25 ms at 20k events/s and batch 128).")
  int delayTicks;
  @Option(names = "--full-sync-every", defaultValue = "50", description = "As train's (default ${DEFAULT-VALUE}).")
  int fullSyncEvery;
  @Option(names = "--merge-exponent", description = "How a weight several learners changed in one round combines "
      + "their k changes: sum / k^e; 0 is the sum, 1 the mean (default: the job's, "
      + "0.5" + ").")
  Double mergeExponent;
  @Mixin
  ModelOptions model;

  @Override
  public Integer call() throws Exception {
    for (int n : learners) {
      if (n < 1 || n > 1024) {
        throw new IllegalArgumentException("--learners must be between 1 and 1024, got " + n);
      }
    }
    if (input == null && rows < 1) {
      throw new IllegalArgumentException("--rows must be >= 1, got " + rows);
    }
    ModelConfig config = model.toConfig();
    List<CriteoRow> data = new ArrayList<>();
    if (input != null && !input.isEmpty()) {
      try (CriteoReader r = new CriteoReader(input, CriteoReader.OnMalformed.FAIL, e -> {})) {
        for (CriteoRow row = r.next(); row != null; row = r.next()) {
          data.add(row);
        }
      }
    } else {
      SyntheticCriteo gen = new SyntheticCriteo(dataSeed, -1);
      for (int i = 0; i < rows; i++) {
        data.add(gen.sample(i).row());
      }
    }
    if (data.isEmpty()) {
      throw new IllegalStateException("no rows to train on in " + input);
    }
    ObjectMapper json = new ObjectMapper();
    for (int n : learners) {
      // The job's sync period for n learners, unless given (one learner: the many-learner period
      // of 2, so that N = 1 is measured with the same settings as the rest).
      int period = syncEvery != null ? syncEvery : TrainJobConfig.defaultSyncEvery(Math.max(2, n));
      SyncHarness.Settings s = new SyncHarness.Settings(config, batch, period,
          maxStaleness != null ? maxStaleness : period, delayTicks, fullSyncEvery, 100_000,
          mergeExponent != null ? mergeExponent : SyncMerger.SHARED_EXPONENT);
      SyncHarness.Result r = SyncHarness.run(data, n, s);
      ObjectNode o = json.createObjectNode();
      o.put("measure", "sync_harness");
      o.put("learners", n);
      o.put("sync_every", period);
      o.put("merge_exponent", s.sharedExponent());
      o.put("rows", data.size());
      o.put("events_trained", r.events());
      o.put("auc", r.metrics().auc());
      o.put("logloss", r.metrics().logloss());
      o.put("sync_bytes_in_per_learner_event", r.bytesInPerLearnerEvent());
      o.put("sync_bytes_out_per_learner_event", r.bytesOutPerLearnerEvent());
      o.put("merger_cpu_ns_per_event", r.mergerCpuNsPerEvent());
      o.put("learner_sync_cpu_ns_per_event", r.learnerSyncCpuNsPerEvent());
      o.put("sync_messages", r.messages());
      o.put("updates", r.updates());
      o.put("mean_sync_message_bytes", r.syncMessageBytes());
      o.put("stale_ticks", r.staleTicks());
      o.put("ticks", r.ticks());
      o.put("seconds", r.seconds());
      System.out.println(json.writeValueAsString(o));
      System.out.flush();
    }
    return 0;
  }
}
