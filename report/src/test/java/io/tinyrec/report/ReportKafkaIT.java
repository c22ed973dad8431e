package io.tinyrec.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyrec.replay.LocalKafkaBroker;
import io.tinyrec.schemas.ModelMetrics;
import io.tinyrec.schemas.ModelSnapshot;
import io.tinyrec.schemas.ScoredEvent;
import io.tinyrec.schemas.SingleObjectCodec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report against a real broker: ScoredEvents on a two-partition scores topic (written out of
 * scoring order across the partitions, with a poison record), snapshots on a models topic; the
 * numbers it reports must equal ones computed independently from the same scores.
 */
class ReportKafkaIT {
  static final int EVENTS = 4000;
  static final int WINDOW = 500;
  static final long T0 = 1_700_000_000_000L;
  static LocalKafkaBroker broker;
  static float[] scores = new float[EVENTS];
  static int[] labels = new int[EVENTS];

  @BeforeAll
  static void writeARun() throws Exception {
    broker = LocalKafkaBroker.start(0, null, Map.of());
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
      admin.createTopics(List.of(new NewTopic("scores", 2, (short) 1), new NewTopic("models", 1, (short) 1),
          new NewTopic("empty", 1, (short) 1))).all().get();
    }
    SplittableRandom rnd = new SplittableRandom(11);
    for (int i = 0; i < EVENTS; i++) {
      labels[i] = rnd.nextDouble() < 0.25 ? 1 : 0;
      // The model is good until event 2000 (the "drift"), then much worse.
      scores[i] = Synthetic.score(rnd, labels[i] == 1, i < EVENTS / 2 ? 1.5 : 0.3);
    }
    Properties p = new Properties();
    p.put("bootstrap.servers", broker.bootstrapServers());
    p.put("linger.ms", "5");
    SingleObjectCodec<ScoredEvent> sc = SingleObjectCodec.of(ScoredEvent.class);
    SingleObjectCodec<ModelSnapshot> mc = SingleObjectCodec.of(ModelSnapshot.class);
    try (KafkaProducer<byte[], byte[]> prod = new KafkaProducer<>(p, new ByteArraySerializer(),
        new ByteArraySerializer())) {
      // Partition 1 first, then partition 0: the read order is not the scoring order.
      for (int part = 1; part >= 0; part--) {
        for (int i = part; i < EVENTS; i += 2) {
          ScoredEvent e = ScoredEvent.newBuilder().setEventId("e:" + i).setKey("k" + i).setScore(scores[i])
              .setLabel(labels[i]).setModelVersion(i / 1000).setEventTime(T0 + i).setProcessingTime(T0 + i).build();
          prod.send(new ProducerRecord<>("scores", part, ("k" + i).getBytes(StandardCharsets.UTF_8), sc.encode(e)));
        }
      }
      prod.send(new ProducerRecord<>("scores", 0, null, "{\"not\":\"avro\"}".getBytes(StandardCharsets.UTF_8)));
      for (int v = 1; v <= 3; v++) {
        ModelMetrics mm = ModelMetrics.newBuilder().setCount(1000L * v).setAuc(0.7).setLogloss(0.5).setNe(0.9)
            .setCalibration(1.0).build();
        ModelSnapshot s = ModelSnapshot.newBuilder().setModelName("ctr").setVersion(v).setEpoch(0)
            .setCreatedAt(T0 + 1000L * v).setEventTimeWatermark(Long.MIN_VALUE).setEventsTrained(1000L * v)
            .setConfig(Map.of()).setCodec(ByteBuffer.wrap(new byte[10_000 * v])).setChecksum(0).setMetrics(mm)
            .setWindowMetrics(mm).setMetricsWindow(WINDOW).build();
        prod.send(new ProducerRecord<>("models", "ctr".getBytes(StandardCharsets.UTF_8), mc.encode(s)));
      }
      ModelMetrics mm = ModelMetrics.newBuilder().setCount(1).setAuc(0.5).setLogloss(0.5).setNe(1).setCalibration(1)
          .build();
      prod.send(new ProducerRecord<>("models", "other".getBytes(StandardCharsets.UTF_8), mc.encode(
          ModelSnapshot.newBuilder().setModelName("other").setVersion(9).setEpoch(0).setCreatedAt(T0)
              .setEventTimeWatermark(0).setEventsTrained(1).setConfig(Map.of()).setCodec(ByteBuffer.wrap(new byte[1]))
              .setChecksum(0).setMetrics(mm).setWindowMetrics(mm).setMetricsWindow(1).build())));
      prod.send(new ProducerRecord<>("models", "ctr".getBytes(StandardCharsets.UTF_8), new byte[] {(byte) 0xC3, 1, 2}));
      prod.flush();
    }
  }

  @AfterAll
  static void stop() {
    if (broker != null) {
      broker.close();
    }
  }

  static KafkaRunReader.Source source(String scores, String models, String model) {
    return KafkaRunReader.Source.of(broker.bootstrapServers(), scores, models, model);
  }

  @Test
  void reportedMetricsShouldEqualOnesComputedIndependentlyFromTheSameScores(@TempDir Path dir) throws Exception {
    List<String> warnings = new CopyOnWriteArrayList<>();
    ReportConfig cfg = ReportConfig.of(dir, source("scores", "models", "ctr"), List.of())
        .withMetricsWindow(WINDOW).withDriftAt(EVENTS / 2);
    ReportResult r = Report.run(cfg, warnings::add);

    RunCurve run = r.data().runs().get(0);
    assertEquals(EVENTS, run.events());
    List<float[]> all = new ArrayList<>();
    List<float[]> last = new ArrayList<>();
    List<float[]> beforeDrift = new ArrayList<>();
    for (int i = 0; i < EVENTS; i++) {
      float[] e = {scores[i], labels[i]};
      all.add(e);
      if (i >= EVENTS - WINDOW) {
        last.add(e);
      }
    }
    assertEquals(ScoreLogTest.exactAuc(all), run.last().auc(), 1e-3);
    assertEquals(ScoreLogTest.exactAuc(last), run.last().windowAuc(), 1e-3);
    DriftAnalysis d = r.drifts().get(0).orElseThrow();
    for (int i = (int) d.beforeAt() - WINDOW; i < d.beforeAt(); i++) {
      beforeDrift.add(new float[] {scores[i], labels[i]});
    }
    assertEquals(ScoreLogTest.exactAuc(beforeDrift), d.beforeAuc(), 1e-3);
    assertTrue(d.minAuc() < d.beforeAuc() - 0.1, d.toString());
    assertTrue(!d.recovered(), "the planted model never gets better after the drift: " + d);

    // The poison records are counted and reported with their place, not fatal.
    assertTrue(warnings.stream().anyMatch(w -> w.startsWith("scores partition 0 offset 2000: skipped, not a "
        + "ScoredEvent")), warnings.toString());
    assertTrue(warnings.stream().anyMatch(w -> w.startsWith("models partition 0 offset 4: skipped")),
        warnings.toString());
    assertTrue(r.data().notes().stream().anyMatch(n -> n.contains("4,001 records, 4,000 scored events used, "
        + "0 without a label, 1 undecodable")), r.data().notes().toString());
    assertTrue(r.data().notes().stream().anyMatch(n -> n.contains("1 of other models left out")),
        r.data().notes().toString());

    assertEquals(List.of(1L, 2L, 3L), r.data().snapshots().stream().map(SnapshotPoint::version).toList());
    assertEquals(List.of(10_000L, 20_000L, 30_000L), r.data().snapshots().stream().map(SnapshotPoint::codecBytes)
        .toList());
    assertEquals(1.0, r.data().snapshots().get(0).seconds(), 1e-9); // seconds from the first score
    assertEquals(5, r.pngs().size());
    for (Path png : r.pngs()) {
      assertTrue(Files.size(png) > 5_000, png.toString());
    }
    assertTrue(r.summary().contains("snapshots: 3 (versions 1..3)"), r.summary());
    assertTrue(r.summary().contains("NOT back within 0.01"), r.summary());
  }

  @Test
  void aMissingTopicShouldFailWithItsNameAndAnEmptyOneShouldNot(@TempDir Path dir) throws Exception {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Report.run(ReportConfig.of(dir, source("no-such-scores", null, null), List.of()), w -> { }));
    assertTrue(e.getMessage().contains("topic 'no-such-scores' does not exist on " + broker.bootstrapServers()),
        e.getMessage());

    List<String> warnings = new ArrayList<>();
    ReportResult r = Report.run(ReportConfig.of(dir, source("empty", "models", null), List.of()), warnings::add);
    assertTrue(r.data().runs().isEmpty());
    assertEquals(4, r.data().snapshots().size()); // no model filter: "other" too
    assertTrue(warnings.stream().anyMatch(w -> w.contains("topic empty has no scored events")), warnings.toString());
    assertEquals(List.of(Report.VERSIONS_PNG, Report.SIZES_PNG),
        r.pngs().stream().map(p -> p.getFileName().toString()).toList());
  }
}
