package io.tinyrec.jobs.kafka;

import io.tinyrec.schemas.ModelSync;
import io.tinyrec.schemas.SingleObjectCodec;
import io.tinyrec.schemas.SyncKind;
import io.tinyrec.schemas.UndecodableRecordException;
import io.tinyrec.model.sync.SyncMessage;
import java.nio.ByteBuffer;
import java.util.List;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decodes ModelSync values. The sync topic is internal: a value that does not decode cannot have
 * come from this job's merger, so it is logged and skipped rather than failing the learners.
 */
public final class SyncMessageDeserializer implements KafkaRecordDeserializationSchema<SyncMessage> {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(SyncMessageDeserializer.class);
  private transient SingleObjectCodec<ModelSync> codec;

  @Override
  public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<SyncMessage> out) {
    if (codec == null) {
      codec = SingleObjectCodec.of(ModelSync.class);
    }
    ModelSync m;
    try {
      m = codec.decode(record.value());
    } catch (UndecodableRecordException e) {
      LOG.warn("skipping undecodable sync record at {}-{}@{}: {}", record.topic(), record.partition(),
          record.offset(), e.getMessage());
      return;
    }
    out.collect(toMessage(m));
  }

  static SyncMessage toMessage(ModelSync m) {
    SyncMessage r = new SyncMessage();
    r.epoch = m.getEpoch();
    r.version = m.getVersion();
    r.full = m.getKind() == SyncKind.FULL;
    r.baseVersion = m.getBaseVersion() == null ? -1 : m.getBaseVersion();
    ByteBuffer p = m.getPayload();
    r.payload = new byte[p.remaining()];
    p.duplicate().get(r.payload);
    r.eventsTrained = m.getEventsTrained();
    List<Long> seq = m.getMergedSeq();
    r.mergedSeq = new long[seq.size()];
    for (int i = 0; i < r.mergedSeq.length; i++) {
      r.mergedSeq[i] = seq.get(i);
    }
    r.last = m.getLast();
    return r;
  }

  @Override
  public TypeInformation<SyncMessage> getProducedType() {
    return TypeInformation.of(SyncMessage.class);
  }
}
