package io.tinyrec.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyrec.model.Dlrm;
import io.tinyrec.model.ModelConfig;
import io.tinyrec.model.codec.SnapshotCodec;
import io.tinyrec.model.data.CriteoReader;
import io.tinyrec.model.data.CriteoRow;
import io.tinyrec.model.sync.ModelTensors;
import io.tinyrec.model.train.ProgressiveValidation;
import io.tinyrec.schemas.ModelSnapshot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.zip.CRC32;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.core.execution.JobClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The job's invariants, each on a local MiniCluster against a real in-JVM Kafka broker:
 * learning exactly as `tinyrec learn` does, exactly-once snapshots, crash and restore, poison
 * pills, and one model on every learner.
 */
class TrainJobIT {
  static final ModelConfig MODEL = ModelConfig.preset("small");
  static final int BATCH = 64;
  static JobTestKit kit;

  @BeforeAll
  static void startBroker() {
    kit = new JobTestKit();
  }

  @AfterAll
  static void stopBroker() {
    if (kit != null) {
      kit.close();
    }
  }

  static TrainJobConfig.Builder job(String name, int learners) throws Exception {
    return kit.topics(TrainJobConfig.builder(kit.bootstrap(), MODEL), name, learners)
        .learners(learners).batch(BATCH).maxWaitMs(0).bounded(true)
        .syncEvery(2048).syncIntervalMs(200)
        .checkpointInterval(Duration.ofMillis(500)).snapshotInterval(Duration.ofSeconds(1));
  }

  static JobExecutionResult runToEnd(TrainJobConfig c, Path checkpoints, Path restoreFrom) throws Exception {
    JobClient client = LocalTrainRunner.start(c, new LocalTrainRunner.Options(checkpoints, restoreFrom, -1, 3));
    return client.getJobExecutionResult().get(90, java.util.concurrent.TimeUnit.SECONDS);
  }

  /** What `tinyrec learn` computes: one pass of progressive validation over the rows, as a TSV file. */
  static Dlrm learn(List<CriteoRow> rows) throws Exception {
    Path tsv = Files.createTempFile("tinyrec-learn-", ".tsv");
    Files.write(tsv, rows.stream().map(CriteoRow::toTsv).toList());
    Dlrm model = new Dlrm(MODEL);
    ProgressiveValidation.run(model, new CriteoReader(List.of(tsv), CriteoReader.OnMalformed.FAIL, e -> {}), BATCH,
        0, 10_000, (n, m) -> {});
    Files.delete(tsv);
    return model;
  }

  static Dlrm finalModel(List<ModelSnapshot> snapshots) {
    ModelSnapshot last = snapshots.get(snapshots.size() - 1);
    return SnapshotCodec.decode(last.getCodec().array());
  }

  static void assertSnapshotsExactlyOnce(List<ModelSnapshot> snapshots) {
    assertTrue(!snapshots.isEmpty(), "no committed snapshot");
    long prev = -1;
    for (ModelSnapshot s : snapshots) {
      assertTrue(s.getVersion() > prev, "versions must strictly increase: " + prev + " then " + s.getVersion());
      prev = s.getVersion();
      byte[] codec = s.getCodec().array();
      CRC32 crc = new CRC32();
      crc.update(codec);
      assertEquals(s.getChecksum(), crc.getValue(), "checksum of snapshot version " + s.getVersion());
      SnapshotCodec.decode(codec); // decodes, and its own CRC holds
    }
  }

  @Test
  void oneLearnerTrainsExactlyAsLearnAndPublishesSnapshotsExactlyOnce() throws Exception {
    List<CriteoRow> rows = JobTestKit.syntheticRows(7, 20_000);
    TrainJobConfig c = job("exact", 1).snapshotOptimizerState(true).build();
    kit.produce(c.eventsTopic, rows);
    runToEnd(c, JobTestKit.tempDir("exact"), null);

    List<ModelSnapshot> snapshots = kit.snapshots(c.modelsTopic);
    assertSnapshotsExactlyOnce(snapshots);
    Dlrm job = finalModel(snapshots);
    Dlrm reference = learn(rows);
    assertEquals(rows.size(), snapshots.get(snapshots.size() - 1).getEventsTrained());
    assertTrue(ModelTensors.of(job).sameAs(ModelTensors.of(reference)),
        "the job's final weights differ from tinyrec learn's on the same rows");
  }
}
