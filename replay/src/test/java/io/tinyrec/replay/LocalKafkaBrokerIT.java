package io.tinyrec.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalKafkaBrokerIT {

  @Test
  void shouldKeepTopicsAndRecordsAcrossARestartOnTheSamePortAndDirectory(@TempDir Path dir) throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    String clusterId;
    try (LocalKafkaBroker broker = LocalKafkaBroker.start(port, dir, Map.of())) {
      assertEquals("localhost:" + port, broker.bootstrapServers());
      assertFalse(broker.isTemporary());
      clusterId = broker.clusterId();
      try (var admin = org.apache.kafka.clients.admin.Admin.create(
          Map.<String, Object>of("bootstrap.servers", broker.bootstrapServers()))) {
        Topics.ensure(admin, new Topics.Spec("kept", 1, Map.of()));
      }
      try (KafkaProducer<String, String> p = new KafkaProducer<>(Map.of(
          ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
          ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new StringSerializer())) {
        for (int i = 0; i < 10; i++) {
          p.send(new ProducerRecord<>("kept", "k" + i, "v" + i)).get();
        }
      }
    }
    assertTrue(Files.exists(dir.resolve("kafka").resolve("meta.properties")));

    try (LocalKafkaBroker broker = LocalKafkaBroker.start(port, dir, Map.of())) {
      assertEquals(clusterId, broker.clusterId(), "restart must reuse the formatted storage, not re-format it");
      List<String> values = readAll(broker.bootstrapServers(), "kept", 10);
      assertEquals(List.of("v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9"), values);
    }
  }

  @Test
  void shouldRefuseAPortThatIsTakenAndDeleteItsTemporaryDirectory() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> LocalKafkaBroker.start(s.getLocalPort(), null, Map.of()));
      assertTrue(e.getMessage().contains("already in use"), e.getMessage());
    }
    Path tmp;
    try (LocalKafkaBroker broker = LocalKafkaBroker.start(0, null, Map.of())) {
      tmp = broker.dataDir();
      assertTrue(broker.isTemporary());
      assertTrue(Files.isDirectory(tmp));
    }
    assertFalse(Files.exists(tmp), "a temporary broker removes its data on close");
  }

  static List<String> readAll(String bootstrap, String topic, int expected) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p, new StringDeserializer(),
        new StringDeserializer())) {
      TopicPartition tp = new TopicPartition(topic, 0);
      c.assign(List.of(tp));
      c.seekToBeginning(List.of(tp));
      List<String> out = new ArrayList<>();
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (out.size() < expected && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
          out.add(r.value());
        }
      }
      return out;
    }
  }
}
