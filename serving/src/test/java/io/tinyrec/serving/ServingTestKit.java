package io.tinyrec.serving;

import io.tinyrec.replay.LocalKafkaBroker;
import io.tinyrec.replay.Topics;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * A real in-JVM broker, models topics made as `tinyrec topics create` makes them, and a
 * transactional producer that publishes snapshot records as the job's EXACTLY_ONCE sink does.
 */
final class ServingTestKit implements AutoCloseable {
  final LocalKafkaBroker broker = LocalKafkaBroker.start(0, null, Map.of());
  private int producers;

  String bootstrap() {
    return broker.bootstrapServers();
  }

  /** Creates a models topic with the project's settings (compacted, 64 MiB records). */
  void createModelsTopic(String name) {
    Topics.Settings d = Topics.Settings.defaults();
    Topics.Settings s = new Topics.Settings(name + ".events", 1, name + ".scores", name + ".sync", d.syncRetention(),
        name, d.maxSnapshotBytes(), name + ".dlq");
    Topics.Spec models = Topics.specs(s).stream().filter(t -> t.name().equals(name)).findFirst().orElseThrow();
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap()))) {
      Topics.ensure(admin, List.of(models));
    }
  }

  /** A transactional producer, ready for beginTransaction. */
  KafkaProducer<byte[], byte[]> transactionalProducer() {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap());
    p.put("transactional.id", "serving-test-" + (++producers) + "-" + System.nanoTime());
    p.put("max.request.size", Integer.toString(Topics.DEFAULT_MAX_SNAPSHOT_BYTES));
    p.put("acks", "all");
    KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    producer.initTransactions();
    return producer;
  }

  /**
   * Publishes each value in its own committed transaction, keyed by the model name; returns the
   * wall-clock time (ms) just before the last commit.
   */
  static long publish(KafkaProducer<byte[], byte[]> producer, String topic, String key, byte[]... values)
      throws Exception {
    long t = 0;
    for (byte[] v : values) {
      producer.beginTransaction();
      producer.send(new ProducerRecord<>(topic, key == null ? null : key.getBytes(), v)).get();
      t = System.currentTimeMillis();
      producer.commitTransaction();
    }
    return t;
  }

  /** Publishes a value in a transaction that is then aborted: read_committed consumers never see it. */
  static void publishAborted(KafkaProducer<byte[], byte[]> producer, String topic, String key, byte[] value)
      throws Exception {
    producer.beginTransaction();
    producer.send(new ProducerRecord<>(topic, key.getBytes(), value)).get();
    producer.flush();
    producer.abortTransaction();
  }

  static SnapshotSubscriber subscribe(String bootstrap, String topic, String model, ServingMetrics metrics) {
    return SnapshotSubscriber.start(SnapshotSubscriber.Settings.of(bootstrap).withTopic(topic).withModelName(model),
        metrics);
  }

  static final Duration WAIT = Duration.ofSeconds(60);

  @Override
  public void close() {
    broker.close();
  }
}
