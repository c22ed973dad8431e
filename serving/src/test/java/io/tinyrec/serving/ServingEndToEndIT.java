package io.tinyrec.serving;

import static io.tinyrec.serving.ServingTestKit.WAIT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyrec.jobs.LocalTrainRunner;
import io.tinyrec.jobs.TrainJobConfig;
import io.tinyrec.model.Batch;
import io.tinyrec.model.Dlrm;
import io.tinyrec.model.ModelConfig;
import io.tinyrec.model.codec.SnapshotCodec;
import io.tinyrec.model.data.CriteoRow;
import io.tinyrec.replay.ReplayConfig;
import io.tinyrec.replay.ReplaySummary;
import io.tinyrec.replay.Replayer;
import io.tinyrec.replay.Topics;
import io.tinyrec.schemas.ModelSnapshot;
import io.tinyrec.schemas.SingleObjectCodec;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;

/**
 * The acceptance test of serving: the real training job (Flink MiniCluster) trains on a real broker
 * while `serve`'s pieces follow its models topic; held-out rows are then scored over HTTP and must
 * equal the trainer's own scores on the same snapshot, with its version; a newer snapshot is picked
 * up; a corrupt one leaves the previous model serving and raises the failure counter.
 */
class ServingEndToEndIT {
  static final ModelConfig MODEL = ModelConfig.preset("small").withLearningRates(0.02f, 0.02f);
  static final long SEED = 1; // the synthetic stream replay writes for --synthetic N --seed 1
  static final int TRAIN = 6_000;
  static final String NAME = "e2e";
  static final HttpClient HTTP = HttpClient.newHttpClient();

  @Test
  void servesTheJobsSnapshotsWithTheTrainersScoresPicksUpNewerOnesAndSurvivesCorruptOnes() throws Exception {
    try (ServingTestKit kit = new ServingTestKit()) {
      Topics.Settings topics = new Topics.Settings(NAME + ".events", 1, NAME + ".scores", NAME + ".sync",
          Duration.ofHours(1), NAME + ".models", Topics.DEFAULT_MAX_SNAPSHOT_BYTES, NAME + ".dlq");
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", kit.bootstrap()))) {
        Topics.ensure(admin, Topics.specs(topics));
      }
      ReplaySummary replayed = new Replayer(ReplayConfig.ofSynthetic(kit.bootstrap(), topics.events(), TRAIN, SEED),
          quiet(), quiet()).run();
      assertEquals(TRAIN, replayed.acknowledged());

      // Serving starts first and follows the job's snapshots as they are committed.
      ServingMetrics metrics = new ServingMetrics();
      try (SnapshotSubscriber models = ServingTestKit.subscribe(kit.bootstrap(), topics.models(), NAME, metrics);
          ScoringServer server = ScoringServer.start(new ScoringServer.Settings("127.0.0.1", 0, 2, 1 << 20), models,
              metrics)) {
        assertEquals(503, get(server, "/healthz").statusCode(), "not ready before the first snapshot");

        TrainJobConfig job = TrainJobConfig.builder(kit.bootstrap(), MODEL)
            .topics(topics.events(), topics.scores(), topics.sync(), topics.models(), topics.dlq()).modelName(NAME)
            .learners(1).batch(64).maxWaitMs(0).bounded(true).jitWarmup(false)
            .checkpointInterval(Duration.ofMillis(500)).snapshotInterval(Duration.ofSeconds(1)).build();
        LocalTrainRunner.start(job, new LocalTrainRunner.Options(Files.createTempDirectory("tinyrec-e2e-"), null, -1, 0))
            .getJobExecutionResult().get(4, TimeUnit.MINUTES);

        List<ModelSnapshot> published = committedSnapshots(kit.bootstrap(), topics.models());
        ModelSnapshot last = published.get(published.size() - 1);
        assertEquals(TRAIN, last.getEventsTrained());
        ServedModel served = models.awaitVersion(last.getVersion(), WAIT);
        assertEquals(last.getVersion(), served.info().version());
        assertEquals(200, get(server, "/healthz").statusCode());

        // Held-out rows (after the training rows in the same stream), half without their label.
        List<CriteoRow> heldOut = TestSnapshots.rows(SEED, TRAIN + 1_000, 500);
        Dlrm trainer = SnapshotCodec.decode(bytes(last));
        assertScoredOverHttp(server, heldOut, trainer, last.getVersion());

        // A newer snapshot: the job's model trained further, published as the merger publishes.
        Dlrm newer = SnapshotCodec.decode(bytes(last));
        trainOn(newer, TestSnapshots.rows(SEED, TRAIN, 1_000));
        long next = last.getVersion() + 1;
        long committing;
        try (KafkaProducer<byte[], byte[]> p = kit.transactionalProducer()) {
          committing = ServingTestKit.publish(p, topics.models(), NAME, TestSnapshots.value(NAME, next, newer));
        }
        ServedModel picked = models.awaitVersion(next, WAIT);
        System.out.printf("e2e: job published %d snapshots (last version %d); version %d served %d ms after its "
            + "commit began%n", published.size(), last.getVersion(), next, picked.loadedAtMs() - committing);
        assertScoredOverHttp(server, heldOut, newer, next);

        // A corrupt record: the failure counter rises (seen on /metrics), version `next` keeps serving.
        try (KafkaProducer<byte[], byte[]> p = kit.transactionalProducer()) {
          ServingTestKit.publish(p, topics.models(), NAME, corrupt(TestSnapshots.value(NAME, next + 1, newer)));
        }
        long deadline = System.nanoTime() + WAIT.toNanos();
        String text = get(server, "/metrics").body();
        while (!text.contains("tinyrec_serving_snapshot_failures_total{reason=\"checksum\"} 1")
            && System.nanoTime() < deadline) {
          Thread.sleep(20);
          text = get(server, "/metrics").body();
        }
        assertTrue(text.contains("tinyrec_serving_snapshot_failures_total{reason=\"checksum\"} 1"), text);
        assertTrue(text.contains("tinyrec_serving_model_version " + next), text);
        assertEquals(next, models.version());
        assertScoredOverHttp(server, heldOut, newer, next);
        assertTrue(get(server, "/model").body().contains("\"version\":" + next));
      }
    }
  }

  /** Scores the rows over HTTP as TSV (every other row without its label) and as JSON. */
  static void assertScoredOverHttp(ScoringServer server, List<CriteoRow> rows, Dlrm trainer, long version)
      throws Exception {
    float[] want = TestSnapshots.reference(trainer, rows);
    StringBuilder tsv = new StringBuilder();
    for (int i = 0; i < rows.size(); i++) {
      String line = rows.get(i).toTsv();
      tsv.append(i % 2 == 0 ? line : line.substring(line.indexOf('\t') + 1)).append('\n');
    }
    HttpResponse<String> r = post(server, "text/tab-separated-values", tsv.toString());
    assertEquals(200, r.statusCode(), r.body());
    assertTrue(r.body().startsWith("{\"model\":\"" + NAME + "\",\"version\":" + version + ","), r.body());
    ScoringServerTest.assertScores(want, r.body());

    StringBuilder json = new StringBuilder("{\"events\": [");
    for (int i = 0; i < 50; i++) {
      json.append(i == 0 ? "" : ",").append(JsonEventsTest.event(rows.get(i), i % 2 == 1));
    }
    HttpResponse<String> j = post(server, "application/json", json.append("]}").toString());
    assertEquals(200, j.statusCode(), j.body());
    assertTrue(j.body().contains("\"version\":" + version + ","), j.body());
    ScoringServerTest.assertScores(java.util.Arrays.copyOf(want, 50), j.body());
  }

  static HttpResponse<String> post(ScoringServer server, String type, String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(server.uri() + "/score")).header("Content-Type", type)
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> get(ScoringServer server, String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(server.uri() + path)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Every committed snapshot on the topic, read as serving reads it. */
  static List<ModelSnapshot> committedSnapshots(String bootstrap, String topic) {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    p.put("isolation.level", "read_committed");
    p.put("max.partition.fetch.bytes", Integer.toString(Topics.DEFAULT_MAX_SNAPSHOT_BYTES));
    SingleObjectCodec<ModelSnapshot> codec = SingleObjectCodec.of(ModelSnapshot.class);
    List<ModelSnapshot> out = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
        new ByteArrayDeserializer())) {
      TopicPartition tp = new TopicPartition(topic, 0);
      c.assign(List.of(tp));
      c.seekToBeginning(List.of(tp));
      long end = c.endOffsets(List.of(tp)).get(tp);
      while (c.position(tp) < end) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
          out.add(codec.decode(r.value()));
        }
      }
    }
    assertTrue(!out.isEmpty(), "the job committed no snapshot");
    return out;
  }

  static void trainOn(Dlrm model, List<CriteoRow> rows) {
    Batch b = new Batch(64);
    float[] out = new float[64];
    for (int i = 0; i < rows.size(); i += 64) {
      b.clear();
      rows.subList(i, Math.min(rows.size(), i + 64)).forEach(b::add);
      model.trainStepInPlace(b, out);
    }
  }

  /** A record whose codec bytes were damaged after their checksum was taken. */
  static byte[] corrupt(byte[] value) {
    byte[] v = value.clone();
    v[v.length / 2] ^= 0x10;
    return v;
  }

  static byte[] bytes(ModelSnapshot s) {
    byte[] b = new byte[s.getCodec().remaining()];
    s.getCodec().duplicate().get(b);
    return b;
  }

  static PrintStream quiet() {
    return new PrintStream(OutputStream.nullOutputStream());
  }
}
