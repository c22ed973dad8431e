package io.tinyrec.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyrec.jobs.cluster.FlinkClusterKit;
import io.tinyrec.model.data.CriteoRow;
import io.tinyrec.schemas.ModelSnapshot;
import io.tinyrec.schemas.TopicDefaults;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

/**
 * The job as a platform team runs it: tinyrec-job.jar submitted with Flink's CLI to a standalone
 * session cluster of separate JVMs (a JobManager and two TaskManagers of Flink's default memory),
 * against a real broker. Mid-stream it meets a lull of over a minute, a poison record and a kill -9
 * of a TaskManager; it is then stopped with a savepoint and resumed with one learner, then with
 * three. At the end the events trained equal the events replayed, exactly, and a read_committed
 * reader sees strictly increasing versions; the job's metrics come from Flink's Prometheus reporter.
 *
 * <p>The model is the small preset; {@code -Dtinyrec.cluster.preset=kaggle} runs the same sequence
 * with the kaggle preset (about 12 MB of weights and optimizer state) on the same default-memory
 * TaskManagers ({@code -Dtinyrec.cluster.managed-fraction=0.1} gives their managed memory, which the
 * hashmap backend does not use, to the heap).
 */
class StandaloneClusterIT {
  static final int PHASE = 10_000;
  static final Duration TRAIN_TIMEOUT = Duration.ofMinutes(3);

  @Test
  void survivesALullAPoisonRecordAKilledTaskManagerAndRescalesFromSavepoints() throws Exception {
    Path jar = Path.of("target", "tinyrec-job.jar");
    assertTrue(Files.isRegularFile(jar), jar.toAbsolutePath() + " is missing: run the IT with mvn verify");
    List<CriteoRow> rows = JobTestKit.syntheticRows(41, 6 * PHASE);
    try (JobTestKit kafka = new JobTestKit();
        FlinkClusterKit cluster = FlinkClusterKit.start(JobTestKit.tempDir("cluster"), 2, settings())) {
      TrainJobConfig c = kafka.topics(TrainJobConfig.builder(kafka.bootstrap(), TrainJobIT.MODEL), "cluster", 3)
          .build();
      long t0 = System.nanoTime();
      kafka.produce(c.eventsTopic, rows.subList(0, 2 * PHASE), 0);
      String job = cluster.run(null, jar, jobArgs(c, kafka.bootstrap(), 2));
      cluster.awaitRunning(job, Duration.ofMinutes(2));
      assertEquals(2 * PHASE, awaitTrained(kafka, c, 2 * PHASE), "trained before the lull");
      log(t0, "%d events trained by 2 learners", 2 * PHASE);

      Thread.sleep(65_000); // a lull: over twice the events' idleness timeout
      assertEquals("RUNNING", cluster.jobState(job));
      kafka.produceRaw(c.eventsTopic, "poison".getBytes(StandardCharsets.UTF_8),
          io.tinyrec.jobs.events.EventDecoderFuzzTest.lyingDenseLength());
      kafka.produce(c.eventsTopic, rows.subList(2 * PHASE, 3 * PHASE), 2 * PHASE);
      assertEquals(3 * PHASE, awaitTrained(kafka, c, 3 * PHASE), "trained after a 65 s lull and a poison record");
      log(t0, "after the lull and the poison record: %d", 3 * PHASE);

      kafka.produce(c.eventsTopic, rows.subList(3 * PHASE, 3 * PHASE + PHASE / 2), 3 * PHASE);
      int victim = cluster.taskManagerRunning(job, "merger"); // the authoritative model's TaskManager
      cluster.killTaskManager(victim);
      kafka.produce(c.eventsTopic, rows.subList(3 * PHASE + PHASE / 2, 4 * PHASE), 3 * PHASE + PHASE / 2);
      cluster.startTaskManager();
      assertEquals(4 * PHASE, awaitTrained(kafka, c, 4 * PHASE), "trained across a kill -9 of a TaskManager");
      assertTrue(cluster.rest("/jobs/" + job + "/exceptions").path("exceptionHistory").path("entries").size() > 0,
          "the kill -9 made the job fail over and restore from its checkpoint");
      log(t0, "after kill -9 of TaskManager %d, the merger's: %d", victim, 4 * PHASE);

      Path one = cluster.stopWithSavepoint(job);
      log(t0, "savepoint %s", one);
      job = cluster.run(one, jar, jobArgs(c, kafka.bootstrap(), 1));
      kafka.produce(c.eventsTopic, rows.subList(4 * PHASE, 5 * PHASE), 4 * PHASE);
      assertEquals(5 * PHASE, awaitTrained(kafka, c, 5 * PHASE), "trained after resuming with 1 learner");
      log(t0, "resumed with 1 learner: %d", 5 * PHASE);

      Path two = cluster.stopWithSavepoint(job);
      job = cluster.run(two, jar, jobArgs(c, kafka.bootstrap(), 3));
      kafka.produce(c.eventsTopic, rows.subList(5 * PHASE, 6 * PHASE), 5 * PHASE);
      assertEquals(6 * PHASE, awaitTrained(kafka, c, 6 * PHASE), "trained after resuming with 3 learners");
      log(t0, "resumed with 3 learners: %d", 6 * PHASE);

      // The job's own figures, as a Prometheus server would scrape them.
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      OptionalDouble trained = OptionalDouble.empty();
      List<String> metrics = List.of();
      while (System.nanoTime() < deadline) {
        metrics = cluster.scrapePrometheus();
        trained = gauge(metrics, "flink_taskmanager_job_task_operator_eventsTrained");
        if (trained.isPresent() && trained.getAsDouble() == 6 * PHASE) {
          break;
        }
        Thread.sleep(1000);
      }
      assertEquals(6.0 * PHASE, trained.orElse(-1), "eventsTrained over Prometheus");
      double auc = gauge(metrics, "flink_taskmanager_job_task_operator_auc").orElse(Double.NaN);
      assertTrue(auc > 0.6 && auc < 1, "auc over Prometheus: " + auc);
      assertTrue(gauge(metrics, "flink_taskmanager_job_task_operator_modelVersion").orElse(0) > 0);
      cluster.stopWithSavepoint(job);

      List<ModelSnapshot> snapshots = kafka.snapshots(c.modelsTopic);
      TrainJobIT.assertSnapshotsExactlyOnce(snapshots);
      ModelSnapshot last = TrainJobIT.last(snapshots);
      assertEquals(6 * PHASE, last.getEventsTrained(), "events trained equal events replayed");
      assertEquals(6 * PHASE, last.getMetrics().getCount(), "events scored into the progressive metrics");
      var dlq = kafka.readCommitted(c.dlqTopic);
      assertEquals(1, dlq.size(), "the poison record, and only it, is on the dlq");
      assertEquals("BAD_DATUM", new String(dlq.get(0).headers().lastHeader(TopicDefaults.DLQ_ERROR_KIND).value(),
          StandardCharsets.UTF_8));
      log(t0, "done: %d snapshots, versions up to %d, AUC %.4f", snapshots.size(), last.getVersion(),
          last.getMetrics().getAuc());
    }
  }

  /** Cluster settings beyond Flink's defaults: {@code -Dtinyrec.cluster.managed-fraction=F}, none by default. */
  static Map<String, String> settings() {
    String f = System.getProperty("tinyrec.cluster.managed-fraction");
    return f == null ? Map.of() : Map.of("taskmanager.memory.managed.fraction", f);
  }

  static String[] jobArgs(TrainJobConfig c, String bootstrap, int learners) {
    List<String> a = new ArrayList<>(List.of("--bootstrap-servers", bootstrap,
        "--events-topic", c.eventsTopic, "--scores-topic", c.scoresTopic, "--sync-topic", c.syncTopic,
        "--models-topic", c.modelsTopic, "--dlq-topic", c.dlqTopic, "--model-name", c.modelName,
        "--preset", System.getProperty("tinyrec.cluster.preset", "small"), "--lr", "0.02", "--batch", Integer.toString(TrainJobIT.BATCH), "--max-wait-ms", "50",
        "--sync-every", "256", "--snapshot-interval-s", "1", "--checkpoint-interval-s", "1",
        "--learners", Integer.toString(learners)));
    return a.toArray(String[]::new);
  }

  static long awaitTrained(JobTestKit kafka, TrainJobConfig c, long want) throws Exception {
    return kafka.awaitTrained(c.modelsTopic, want, TRAIN_TIMEOUT);
  }

  /** The largest value of a metric over every line that names it (one per subtask and process). */
  static OptionalDouble gauge(List<String> lines, String name) {
    return lines.stream().filter(l -> l.startsWith(name + "{") || l.startsWith(name + " "))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).filter(d -> !Double.isNaN(d))
        .max();
  }

  static void log(long t0, String format, Object... args) {
    System.out.printf("cluster IT %6.1f s: %s%n", (System.nanoTime() - t0) / 1e9, String.format(format, args));
  }
}
