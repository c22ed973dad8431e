package io.tinyrec.jobs;

import io.tinyrec.model.data.CriteoRow;
import io.tinyrec.model.synthetic.SyntheticCriteo;
import io.tinyrec.replay.LocalKafkaBroker;
import io.tinyrec.schemas.ClickEventEncoder;
import io.tinyrec.schemas.ModelSnapshot;
import io.tinyrec.schemas.SingleObjectCodec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** A real in-JVM broker plus the helpers the job's integration tests share. */
final class JobTestKit implements AutoCloseable {
  final LocalKafkaBroker broker;

  JobTestKit() {
    broker = LocalKafkaBroker.start(0, null, Map.of());
  }

  String bootstrap() {
    return broker.bootstrapServers();
  }

  /** Creates the five topics with the given prefix, like `tinyrec topics create` would. */
  TrainJobConfig.Builder topics(TrainJobConfig.Builder b, String prefix, int eventPartitions) throws Exception {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap()))) {
      String big = Integer.toString(TrainJob.MAX_MESSAGE_BYTES);
      admin.createTopics(List.of(
          new NewTopic(prefix + ".events", eventPartitions, (short) 1),
          new NewTopic(prefix + ".scores", eventPartitions, (short) 1),
          new NewTopic(prefix + ".sync", 1, (short) 1).configs(Map.of("max.message.bytes", big)),
          new NewTopic(prefix + ".models", 1, (short) 1).configs(Map.of("max.message.bytes", big,
              "cleanup.policy", "compact")),
          new NewTopic(prefix + ".dlq", 1, (short) 1))).all().get();
    }
    // Wait until the broker really hosts every new partition (a leader in the metadata is not
    // enough right after creation): ListOffsets goes to the partition's leader and fails until then.
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap());
    long deadline = System.currentTimeMillis() + 30_000;
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      for (String t : List.of(".events", ".scores", ".sync", ".models", ".dlq")) {
        while (true) {
          try {
            List<TopicPartition> parts = c.partitionsFor(prefix + t).stream()
                .map(i -> new TopicPartition(prefix + t, i.partition())).toList();
            c.endOffsets(parts, Duration.ofSeconds(2));
            break;
          } catch (org.apache.kafka.common.KafkaException e) {
            if (System.currentTimeMillis() > deadline) {
              throw new IllegalStateException("topic " + prefix + t + " is not served after 30 s", e);
            }
            Thread.sleep(100);
          }
        }
      }
    }
    return b.topics(prefix + ".events", prefix + ".scores", prefix + ".sync", prefix + ".models", prefix + ".dlq")
        .modelName(prefix);
  }

  /** Rows 0..n-1 of the synthetic stream of this seed. */
  static List<CriteoRow> syntheticRows(long seed, int n) {
    SyntheticCriteo gen = new SyntheticCriteo(seed, -1);
    List<CriteoRow> rows = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      rows.add(gen.sample(i).row());
    }
    return rows;
  }

  /** Writes rows as ClickEvents, in order, keyed by event id (one partition keeps the order). */
  void produce(String topic, List<CriteoRow> rows) throws Exception {
    produce(topic, rows, 0);
  }

  /** Writes rows as ClickEvents numbered from first + 1, in order, keyed by event id. */
  void produce(String topic, List<CriteoRow> rows, int first) throws Exception {
    ClickEventEncoder enc = new ClickEventEncoder();
    List<java.util.concurrent.Future<?>> sent = new ArrayList<>(rows.size());
    try (KafkaProducer<byte[], byte[]> p = producer()) {
      long day = 1_600_000_000_000L;
      for (int i = 0; i < rows.size(); i++) {
        CriteoRow r = rows.get(i);
        int n = first + i;
        String id = "synthetic:" + (n + 1);
        byte[] v = enc.encode(id, id, day + n, r.label(), r.dense(), r.denseMissing(), r.cats(), r.catMissing(), 0,
            n + 1);
        sent.add(p.send(new ProducerRecord<>(topic, id.getBytes(StandardCharsets.UTF_8), v)));
      }
      p.flush();
      for (var f : sent) {
        f.get(); // every record acknowledged, or the test fails here rather than later
      }
    }
  }

  void produceRaw(String topic, byte[] key, byte[] value) throws Exception {
    try (KafkaProducer<byte[], byte[]> p = producer()) {
      p.send(new ProducerRecord<>(topic, key, value)).get();
    }
  }

  KafkaProducer<byte[], byte[]> producer() {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap());
    p.put("acks", "all");
    // Ordered without the idempotent producer's id handshake, which a freshly started broker can
    // stall (the order of events is what the exactness tests depend on).
    p.put("enable.idempotence", "false");
    p.put("max.in.flight.requests.per.connection", "1");
    p.put("linger.ms", "5");
    return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
  }

  /** Every committed record of a topic, read with isolation.level=read_committed. */
  List<ConsumerRecord<byte[], byte[]>> readCommitted(String topic) {
    return io.tinyrec.jobs.kafka.TopicReader.readAll(io.tinyrec.jobs.kafka.TopicReader.client(bootstrap()), topic, true);
  }

  /** The committed snapshots of the models topic, in order. */
  List<ModelSnapshot> snapshots(String topic) {
    SingleObjectCodec<ModelSnapshot> codec = SingleObjectCodec.of(ModelSnapshot.class);
    return readCommitted(topic).stream().map(r -> codec.decode(r.value())).toList();
  }

  /** The most events trained that a committed snapshot on this models topic reports (0 with none). */
  long trained(String modelsTopic) {
    return snapshots(modelsTopic).stream().mapToLong(ModelSnapshot::getEventsTrained).max().orElse(0);
  }

  /** Waits until the committed snapshots report at least {@code want} events trained; returns the count then. */
  long awaitTrained(String modelsTopic, long want, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    long n = trained(modelsTopic);
    while (n < want && System.nanoTime() < deadline) {
      Thread.sleep(250);
      n = trained(modelsTopic);
    }
    return n;
  }

  /**
   * The integration tests' job on topics created with this prefix: bounded, no JIT warm-up, full
   * batches only (so one learner trains exactly as learn does), fast checkpoints and snapshots.
   */
  TrainJobConfig.Builder boundedJob(String name, int learners, io.tinyrec.model.ModelConfig model, int batch)
      throws Exception {
    return topics(TrainJobConfig.builder(bootstrap(), model), name, learners)
        .learners(learners).batch(batch).maxWaitMs(0).bounded(true).jitWarmup(false)
        .syncEvery(64).syncIntervalMs(200)
        .checkpointInterval(Duration.ofMillis(500)).snapshotInterval(Duration.ofSeconds(1));
  }

  static Path tempDir(String name) throws Exception {
    return Files.createTempDirectory("tinyrec-" + name + "-");
  }

  @Override
  public void close() {
    broker.close();
  }
}
