package io.tinyrec.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyrec.model.data.CriteoRow;
import io.tinyrec.schemas.ModelSnapshot;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.flink.core.execution.JobClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The job as users run it: unbounded, with lulls longer than the source's idleness timeout, and
 * restored from its checkpoints with another number of learners. Nothing may be lost or counted
 * twice: the events trained that the committed snapshots report must equal the events produced.
 */
class ContinuousTrainingIT {
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

  static TrainJobConfig.Builder unbounded(String name, int learners, int partitions) throws Exception {
    return settings(kit.topics(TrainJobConfig.builder(kit.bootstrap(), TrainJobIT.MODEL), name, partitions), learners);
  }

  /** The same job on topics created before. */
  static TrainJobConfig.Builder again(String name, int learners) {
    return settings(TrainJobConfig.builder(kit.bootstrap(), TrainJobIT.MODEL)
        .topics(name + ".events", name + ".scores", name + ".sync", name + ".models", name + ".dlq").modelName(name),
        learners);
  }

  static TrainJobConfig.Builder settings(TrainJobConfig.Builder b, int learners) {
    return b.learners(learners).batch(TrainJobIT.BATCH).maxWaitMs(50).bounded(false).jitWarmup(false)
        .syncEvery(256).syncIntervalMs(200)
        .checkpointInterval(Duration.ofMillis(500)).snapshotInterval(Duration.ofSeconds(1));
  }

  static long trained(TrainJobConfig c) {
    return kit.trained(c.modelsTopic);
  }

  /**
   * A lull longer than the events' idleness timeout (30 s) once let the watermark run to its
   * maximum, which the learners took for the end of the input: nothing after the lull was trained.
   */
  @Test
  void aLullLongerThanTheIdlenessTimeoutLosesNothing() throws Exception {
    List<CriteoRow> rows = JobTestKit.syntheticRows(31, 10_000);
    TrainJobConfig c = unbounded("lull", 1, 1).build();
    JobClient job = LocalTrainRunner.start(c, new LocalTrainRunner.Options(JobTestKit.tempDir("lull"), null, -1, 0));
    try {
      kit.produce(c.eventsTopic, rows.subList(0, 5_000));
      assertEquals(5_000, kit.awaitTrained(c.modelsTopic, 5_000, Duration.ofSeconds(90)), "trained before the lull");
      Thread.sleep(130_000); // the lull: minutes, over four times withIdleness(30 s)
      kit.produce(c.eventsTopic, rows.subList(5_000, 10_000));
      assertEquals(10_000, kit.awaitTrained(c.modelsTopic, 10_000, Duration.ofSeconds(60)),
          "events after a 130 s lull are trained");
      ModelSnapshot last = TrainJobIT.last(kit.snapshots(c.modelsTopic));
      assertTrue(Instant.ofEpochMilli(last.getEventTimeWatermark()).isBefore(Instant.parse("2100-01-01T00:00:00Z")),
          "the snapshot's event time is an event's, not the end of time: " + last.getEventTimeWatermark());
      assertEquals(org.apache.flink.api.common.JobStatus.RUNNING, job.getJobStatus().get());
    } finally {
      LocalTrainRunner.cancelAndWait(job, Duration.ofSeconds(60));
    }
  }

  /**
   * 2 learners, then 1, then 3, each run restored from the last one's checkpoint while events were
   * still being trained; the last run is bounded, so it must also end by itself after a restore
   * from an unbounded run's checkpoint.
   */
  @Test
  void restoresWithOtherNumbersOfLearnersLoseAndRepeatNothing() throws Exception {
    int total = 60_000;
    List<CriteoRow> rows = JobTestKit.syntheticRows(37, total);
    TrainJobConfig two = unbounded("rescale", 2, 3).build();
    // Events keep arriving while the runs are stopped and restored: 4,000 a second for 15 s.
    var producing = java.util.concurrent.CompletableFuture.runAsync(() -> {
      try {
        for (int from = 0; from < total; from += 1_000) {
          long t = System.nanoTime();
          kit.produce(two.eventsTopic, rows.subList(from, from + 1_000), from);
          Thread.sleep(Math.max(0, 250 - (System.nanoTime() - t) / 1_000_000));
        }
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });

    Path fromTwo = runUntilCheckpointed(two, JobTestKit.tempDir("rescale2"), null, 8_000);
    long afterTwo = trained(two);

    TrainJobConfig one = again("rescale", 1).build();
    Path fromOne = runUntilCheckpointed(one, JobTestKit.tempDir("rescale1"), fromTwo, afterTwo + 8_000);
    long afterOne = trained(one);
    assertTrue(!producing.isDone(), "the events were all produced before the second run was stopped");
    producing.get(2, java.util.concurrent.TimeUnit.MINUTES);

    TrainJobConfig three = again("rescale", 3).bounded(true).build();
    JobClient last = LocalTrainRunner.start(three, new LocalTrainRunner.Options(JobTestKit.tempDir("rescale3"),
        fromOne, -1, 0));
    last.getJobExecutionResult().get(3, java.util.concurrent.TimeUnit.MINUTES);

    List<ModelSnapshot> snapshots = kit.snapshots(three.modelsTopic);
    TrainJobIT.assertSnapshotsExactlyOnce(snapshots);
    ModelSnapshot end = TrainJobIT.last(snapshots);
    System.out.printf("rescale 2 -> 1 -> 3: %d, %d, then %d events trained; AUC %.4f%n", afterTwo, afterOne,
        end.getEventsTrained(), end.getMetrics().getAuc());
    assertTrue(afterTwo < afterOne && afterOne < total, afterTwo + " then " + afterOne);
    assertEquals(total, end.getEventsTrained(), "events trained over three runs");
    assertEquals(total, end.getMetrics().getCount(), "events scored into the progressive metrics");
    assertTrue(end.getMetrics().getAuc() > 0.65, "the model still learns: AUC " + end.getMetrics().getAuc());
  }

  /**
   * Runs the job (restored from {@code from} if not null) until the snapshots report at least
   * {@code atLeast} events and a checkpoint has completed after that; cancels it and returns
   * that checkpoint.
   */
  static Path runUntilCheckpointed(TrainJobConfig c, Path dir, Path from, long atLeast) throws Exception {
    JobClient job = LocalTrainRunner.start(c, new LocalTrainRunner.Options(dir, from, -1, 0));
    try {
      long n = kit.awaitTrained(c.modelsTopic, atLeast, Duration.ofSeconds(120));
      assertTrue(n >= atLeast, "trained " + n + " of the " + atLeast + " wanted");
      long mark = System.currentTimeMillis();
      while (LocalTrainRunner.latestCheckpoint(dir).map(p -> p.toFile().lastModified()).orElse(0L) <= mark) {
        Thread.sleep(100);
      }
    } finally {
      LocalTrainRunner.cancelAndWait(job, Duration.ofSeconds(60));
    }
    return LocalTrainRunner.latestCheckpoint(dir).orElseThrow();
  }
}
