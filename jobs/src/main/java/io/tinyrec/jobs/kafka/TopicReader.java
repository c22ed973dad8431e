package io.tinyrec.jobs.kafka;

import io.tinyrec.jobs.TrainJob;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** Reads a whole topic, from its beginning to the end offsets it has when the read starts. */
public final class TopicReader {
  private TopicReader() {}

  /**
   * Every record of every partition, in partition order. {@code client} holds the bootstrap
   * servers and any security settings; fetch sizes are raised to the largest snapshot.
   *
   * @param committedOnly read with isolation.level=read_committed, as serving must
   */
  public static List<ConsumerRecord<byte[], byte[]>> readAll(Properties client, String topic, boolean committedOnly) {
    Properties p = new Properties();
    p.putAll(client);
    p.put("isolation.level", committedOnly ? "read_committed" : "read_uncommitted");
    p.put("max.partition.fetch.bytes", Integer.toString(TrainJob.MAX_MESSAGE_BYTES));
    p.put("fetch.max.bytes", Integer.toString(TrainJob.MAX_MESSAGE_BYTES));
    List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> parts = c.partitionsFor(topic).stream()
          .map(i -> new TopicPartition(topic, i.partition())).toList();
      c.assign(parts);
      c.seekToBeginning(parts);
      Map<TopicPartition, Long> end = c.endOffsets(parts);
      while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
        c.poll(Duration.ofMillis(200)).forEach(out::add);
      }
    }
    return out;
  }

  /** Just the bootstrap servers, for a plain local broker. */
  public static Properties client(String bootstrapServers) {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrapServers);
    return p;
  }
}
