package io.tinyrec.jobs.kafka;

import java.nio.charset.StandardCharsets;

/**
 * One record the job writes to Kafka: topic, key, value and optional headers (name, value pairs).
 * A plain Flink POJO so it crosses operators without Kryo.
 */
public class KafkaOut {
  public String topic;
  public byte[] key;
  public byte[] value;
  /** Header names and values alternating: name0, value0, name1, value1, ... (UTF-8 on the wire). */
  public String[] headers;

  public KafkaOut() {}

  public KafkaOut(String topic, byte[] key, byte[] value, String... headers) {
    this.topic = topic;
    this.key = key;
    this.value = value;
    this.headers = headers;
  }

  public static byte[] utf8(String s) {
    return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
  }
}
