package io.tinyrec.jobs.events;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Passes each events record on undecoded, so that a value that cannot be decoded is routed to the
 * dead-letter topic by {@link EventDecoder} instead of failing the source.
 */
public final class RawRecordDeserializer implements KafkaRecordDeserializationSchema<RawRecord> {
  private static final long serialVersionUID = 1L;

  @Override
  public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<RawRecord> out) {
    RawRecord r = new RawRecord();
    r.key = record.key();
    r.value = record.value();
    r.topic = record.topic();
    r.partition = record.partition();
    r.offset = record.offset();
    r.timestamp = record.timestamp();
    out.collect(r);
  }

  @Override
  public TypeInformation<RawRecord> getProducedType() {
    return TypeInformation.of(RawRecord.class);
  }
}
