package io.tinyrec.jobs.kafka;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/** Turns a {@link KafkaOut} into the producer record it describes, stamped with the send time. */
public final class KafkaOutSerializer implements KafkaRecordSerializationSchema<KafkaOut> {
  private static final long serialVersionUID = 1L;

  @Override
  public ProducerRecord<byte[], byte[]> serialize(KafkaOut out, KafkaSinkContext context, Long timestamp) {
    List<Header> headers = new ArrayList<>();
    if (out.headers != null) {
      for (int i = 0; i + 1 < out.headers.length; i += 2) {
        String v = out.headers[i + 1];
        headers.add(new RecordHeader(out.headers[i], v == null ? null : v.getBytes(StandardCharsets.UTF_8)));
      }
    }
    // No element timestamp: records written from the end-of-input timer carry Long.MAX_VALUE, and
    // event times of a replayed day can lie outside the broker's accepted range. The producer
    // stamps the send time instead, which is also where score latency ends.
    return new ProducerRecord<>(out.topic, null, null, out.key, out.value, headers);
  }
}
