package io.tinyrec.replay;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(SharedBroker.class)
class TopicsIT {

  private static Config config(Admin admin, String topic) throws Exception {
    ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    return admin.describeConfigs(List.of(r)).all().get(30, TimeUnit.SECONDS).get(r);
  }

  @Test
  void shouldCreateTheProjectTopicsOnceAndChangeNothingTheSecondTime(LocalKafkaBroker broker) throws Exception {
    Topics.Settings s = new Topics.Settings("t1.events", 3, "t1.scores", "t1.sync", Duration.ofMinutes(30),
        "t1.models", 32 << 20, "t1.dlq");
    try (Admin admin = Admin.create(Map.<String, Object>of("bootstrap.servers", broker.bootstrapServers()))) {
      List<String> first = Topics.ensure(admin, Topics.specs(s));
      assertEquals(5, first.size());
      first.forEach(line -> assertTrue(line.startsWith("created "), line));

      List<String> second = Topics.ensure(admin, Topics.specs(s));
      second.forEach(line -> assertTrue(line.contains("settings up to date"), line));

      assertEquals(3, Topics.describe(admin, "t1.events").orElseThrow().partitions().size());
      assertEquals(3, Topics.describe(admin, "t1.scores").orElseThrow().partitions().size());
      assertEquals(1, Topics.describe(admin, "t1.sync").orElseThrow().partitions().size());
      Config models = config(admin, "t1.models");
      assertEquals("compact", models.get("cleanup.policy").value());
      assertEquals(Integer.toString(32 << 20), models.get("max.message.bytes").value());
      Config sync = config(admin, "t1.sync");
      assertEquals("delete", sync.get("cleanup.policy").value());
      assertEquals(Long.toString(Duration.ofMinutes(30).toMillis()), sync.get("retention.ms").value());

      // A changed setting is brought up to date; partitions are never touched.
      Topics.Settings bigger = new Topics.Settings("t1.events", 4, "t1.scores", "t1.sync", Duration.ofHours(2),
          "t1.models", 48 << 20, "t1.dlq");
      List<String> third = Topics.ensure(admin, Topics.specs(bigger));
      assertTrue(third.get(0).contains("WARNING: it has fewer partitions"), third.get(0));
      assertTrue(third.get(2).contains("updated") && third.get(2).contains("retention.ms=7200000"), third.get(2));
      assertEquals(Integer.toString(48 << 20), config(admin, "t1.models").get("max.message.bytes").value());
      assertEquals(3, Topics.describe(admin, "t1.events").orElseThrow().partitions().size());
    }
  }

  @Test
  void shouldCarryASnapshotFarAboveTheDefaultMessageSizeOnTheModelsTopic(LocalKafkaBroker broker) throws Exception {
    Topics.Settings s = new Topics.Settings("t2.events", 1, "t2.scores", "t2.sync", Duration.ofHours(1),
        "t2.models", Topics.DEFAULT_MAX_SNAPSHOT_BYTES, "t2.dlq");
    try (Admin admin = Admin.create(Map.<String, Object>of("bootstrap.servers", broker.bootstrapServers()))) {
      Topics.ensure(admin, Topics.specs(s));
    }
    byte[] snapshot = new byte[12 << 20];
    new java.util.SplittableRandom(1).nextBytes(snapshot);
    try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
        ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.DEFAULT_MAX_SNAPSHOT_BYTES), new StringSerializer(),
        new ByteArraySerializer())) {
      p.send(new ProducerRecord<>("t2.models", "ctr", snapshot)).get(60, TimeUnit.SECONDS);
    }
    try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
        ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Topics.DEFAULT_MAX_SNAPSHOT_BYTES,
        ConsumerConfig.FETCH_MAX_BYTES_CONFIG, Topics.DEFAULT_MAX_SNAPSHOT_BYTES), new StringDeserializer(),
        new ByteArrayDeserializer())) {
      TopicPartition tp = new TopicPartition("t2.models", 0);
      c.assign(List.of(tp));
      c.seekToBeginning(List.of(tp));
      ConsumerRecord<String, byte[]> got = null;
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (got == null && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
          got = r;
        }
      }
      assertEquals("ctr", got.key());
      assertArrayEquals(snapshot, got.value());
    }
  }
}
