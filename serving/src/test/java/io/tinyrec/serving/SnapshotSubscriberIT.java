package io.tinyrec.serving;

import static io.tinyrec.serving.ServingTestKit.WAIT;
import static io.tinyrec.serving.ServingTestKit.publish;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyrec.model.Dlrm;
import io.tinyrec.model.codec.SnapshotCodec;
import io.tinyrec.model.data.CriteoRow;
import io.tinyrec.schemas.ModelSnapshot;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The subscriber against a real broker, fed by a transactional producer as the job's sink feeds it. */
class SnapshotSubscriberIT {
  static final Dlrm[] MODELS = {TestSnapshots.trained(1, 500), TestSnapshots.trained(1, 1000),
      TestSnapshots.trained(1, 1500)};
  static final List<CriteoRow> ROWS = TestSnapshots.rows(1, 50_000, 200);
  static ServingTestKit kit;

  @BeforeAll
  static void startBroker() {
    kit = new ServingTestKit();
  }

  @AfterAll
  static void stopBroker() {
    kit.close();
  }

  static Dlrm model(long version) {
    return MODELS[(int) (version % MODELS.length)];
  }

  static byte[] good(String name, long version) {
    return TestSnapshots.value(name, version, model(version));
  }

  static void assertServes(ServedModel m, long version) {
    assertNotNull(m, "no model served");
    assertEquals(version, m.info().version());
    assertArrayEquals(TestSnapshots.reference(model(version), ROWS), m.scorer().score(ROWS), 1e-6f,
        "scores of version " + version);
  }

  @Test
  void shouldLoadTheNewestCommittedSnapshotAtStartThenSwapInEachNewerOneOnly() throws Exception {
    String topic = "t1.models";
    kit.createModelsTopic(topic);
    try (KafkaProducer<byte[], byte[]> p = kit.transactionalProducer()) {
      for (long v = 1; v <= 5; v++) {
        publish(p, topic, "ctr", good("ctr", v));
        publish(p, topic, "other", good("other", 100 + v)); // another model on the same topic
      }
      ServingTestKit.publishAborted(p, topic, "ctr", good("ctr", 99)); // never committed: never served
    }
    ServingMetrics metrics = new ServingMetrics();
    try (SnapshotSubscriber s = ServingTestKit.subscribe(kit.bootstrap(), topic, "ctr", metrics);
        KafkaProducer<byte[], byte[]> p = kit.transactionalProducer()) {
      assertServes(s.awaitModel(WAIT), 5);
      assertEquals(1, metrics.snapshotsLoaded(), "the backward search decodes one snapshot, the newest");
      assertEquals(0, metrics.snapshotFailures());

      List<Long> pickupMs = new ArrayList<>();
      for (long v = 6; v <= 10; v++) {
        long committing = publish(p, topic, "ctr", good("ctr", v));
        ServedModel m = s.awaitVersion(v, WAIT);
        assertServes(m, v);
        pickupMs.add(m.loadedAtMs() - committing);
      }
      System.out.println("subscriber pickup after commit, small preset, 115 kB codec (ms): " + pickupMs);

      assertEquals(0, s.lag());
      assertTrue(s.ageMillis() >= 0);

      publish(p, topic, "ctr", good("ctr", 8)); // an older version: skipped
      publish(p, topic, "ctr", good("ctr", 11));
      assertServes(s.awaitVersion(11, WAIT), 11);
      assertEquals(1, metrics.snapshotsSkipped());
      assertEquals(0, metrics.snapshotFailures());

      // The same with kaggle-preset snapshots (6 MB codec): the delay includes decoding them.
      Dlrm kaggle = new Dlrm(io.tinyrec.model.ModelConfig.preset("kaggle"));
      List<Long> kagglePickupMs = new ArrayList<>();
      for (long v = 12; v <= 16; v++) {
        long committing = publish(p, topic, "ctr", TestSnapshots.value("ctr", v, kaggle));
        ServedModel m = s.awaitVersion(v, WAIT);
        assertEquals(v, m.info().version());
        kagglePickupMs.add(m.loadedAtMs() - committing);
      }
      System.out.println("subscriber pickup after commit, kaggle preset, 6.1 MB codec (ms): " + kagglePickupMs);
    }
  }

  @Test
  void shouldKeepLastGoodModelWhenSnapshotIsCorrupt() throws Exception {
    String topic = "t2.models";
    kit.createModelsTopic(topic);
    ServingMetrics metrics = new ServingMetrics();
    try (SnapshotSubscriber s = ServingTestKit.subscribe(kit.bootstrap(), topic, "ctr", metrics);
        KafkaProducer<byte[], byte[]> p = kit.transactionalProducer()) {
      publish(p, topic, "ctr", good("ctr", 1));
      assertServes(s.awaitModel(WAIT), 1);

      ModelSnapshot v2 = TestSnapshots.snapshot("ctr", 2, model(2));
      byte[] codec = SnapshotCodec.encode(model(2), false);
      codec[codec.length / 2] ^= 0x01;
      CRC32 crc = new CRC32();
      crc.update(codec);
      Map<String, String> config = new HashMap<>(v2.getConfig());
      config.put("robe_size", "12345");
      Map<BadSnapshotException.Reason, byte[]> bad = new java.util.LinkedHashMap<>();
      bad.put(BadSnapshotException.Reason.UNDECODABLE, "not a snapshot".getBytes());
      bad.put(BadSnapshotException.Reason.CHECKSUM,
          TestSnapshots.value(ModelSnapshot.newBuilder(v2).setChecksum(v2.getChecksum() ^ 0xFF).build()));
      bad.put(BadSnapshotException.Reason.FORMAT, TestSnapshots.value(ModelSnapshot.newBuilder(v2)
          .setCodec(ByteBuffer.wrap(codec)).setChecksum(crc.getValue()).build()));
      bad.put(BadSnapshotException.Reason.CONFIG_MISMATCH,
          TestSnapshots.value(ModelSnapshot.newBuilder(v2).setConfig(config).build()));
      bad.put(BadSnapshotException.Reason.WRONG_MODEL, good("ctr-b", 2));
      bad.put(BadSnapshotException.Reason.TOMBSTONE, null);
      long failures = 0;
      for (Map.Entry<BadSnapshotException.Reason, byte[]> e : bad.entrySet()) {
        publish(p, topic, "ctr", e.getValue());
        // Wait on the observable effect: the counter of this reason rises.
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (metrics.snapshotFailures(e.getKey()) == 0 && System.nanoTime() < deadline) {
          Thread.sleep(10);
        }
        failures++;
        assertEquals(1, metrics.snapshotFailures(e.getKey()), e.getKey() + " counted");
        assertEquals(failures, metrics.snapshotFailures());
        assertServes(s.current(), 1);
      }
      publish(p, topic, "ctr", good("ctr", 3));
      assertServes(s.awaitVersion(3, WAIT), 3);
      String text = metrics.prometheus(s, System.currentTimeMillis());
      assertTrue(text.contains("tinyrec_serving_snapshot_failures_total{reason=\"checksum\"} 1"), text);
      assertTrue(text.contains("tinyrec_serving_model_version 3"), text);
    }
  }

  @Test
  void shouldStartFromTheNewestGoodSnapshotWhenTheLatestIsCorrupt() throws Exception {
    String topic = "t3.models";
    kit.createModelsTopic(topic);
    try (KafkaProducer<byte[], byte[]> p = kit.transactionalProducer()) {
      publish(p, topic, "ctr", good("ctr", 1), good("ctr", 2));
      publish(p, topic, "other", good("other", 1), good("other", 2), good("other", 3));
      publish(p, topic, "ctr", "garbage".getBytes());
    }
    ServingMetrics metrics = new ServingMetrics();
    try (SnapshotSubscriber s = ServingTestKit.subscribe(kit.bootstrap(), topic, "ctr", metrics)) {
      assertServes(s.awaitModel(WAIT), 2);
      assertEquals(1, metrics.snapshotFailures(BadSnapshotException.Reason.UNDECODABLE));
    }
  }

  @Test
  void shouldWaitForTheTopicAndTheFirstSnapshot() throws Exception {
    String topic = "t4.models";
    ServingMetrics metrics = new ServingMetrics();
    try (SnapshotSubscriber s = ServingTestKit.subscribe(kit.bootstrap(), topic, "ctr", metrics)) {
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (s.problem() == null && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertTrue(s.problem().contains("does not exist"), s.problem());
      assertNull(s.current());
      assertEquals(-1, s.version());
      kit.createModelsTopic(topic);
      while (!s.following() && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertNull(s.current(), "an empty topic has no model");
      try (KafkaProducer<byte[], byte[]> p = kit.transactionalProducer()) {
        publish(p, topic, "ctr", good("ctr", 4));
      }
      assertServes(s.awaitModel(WAIT), 4);
    }
  }

  @Test
  void shouldFindTheModelOnWhicheverPartitionItsKeyLandsOn() throws Exception {
    String topic = "t5.models";
    try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
        Map.of("bootstrap.servers", kit.bootstrap()))) {
      admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic(topic, 3, (short) 1)
          .configs(Map.of("cleanup.policy", "compact", "max.message.bytes", "67108864")))).all().get();
    }
    try (KafkaProducer<byte[], byte[]> p = kit.transactionalProducer()) {
      for (String other : new String[] {"a", "b", "c", "d", "e", "f"}) {
        publish(p, topic, other, good(other, 50), good(other, 51));
      }
      publish(p, topic, "ctr", good("ctr", 1), good("ctr", 2));
      for (String other : new String[] {"g", "h", "i"}) {
        publish(p, topic, other, good(other, 60));
      }
    }
    ServingMetrics metrics = new ServingMetrics();
    try (SnapshotSubscriber s = ServingTestKit.subscribe(kit.bootstrap(), topic, "ctr", metrics);
        KafkaProducer<byte[], byte[]> p = kit.transactionalProducer()) {
      assertServes(s.awaitModel(WAIT), 2);
      publish(p, topic, "ctr", good("ctr", 3));
      assertServes(s.awaitVersion(3, WAIT), 3);
      assertEquals(0, metrics.snapshotFailures());
    }
  }
}
