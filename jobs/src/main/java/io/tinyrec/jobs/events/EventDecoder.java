package io.tinyrec.jobs.events;

import io.tinyrec.jobs.kafka.KafkaOut;
import io.tinyrec.model.ModelConfig;
import io.tinyrec.model.data.CriteoRow;
import io.tinyrec.model.data.Preprocessing;
import io.tinyrec.schemas.ClickEvent;
import io.tinyrec.schemas.SingleObjectCodec;
import io.tinyrec.schemas.TopicDefaults;
import io.tinyrec.schemas.UndecodableRecordException;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Decodes ClickEvents and checks that each can be trained on. Anything else goes, with its original
 * key and bytes and the reason in headers, to the dead-letter side output, and is counted
 * ({@code dlqRecords}); the stream goes on.
 */
public final class EventDecoder extends ProcessFunction<RawRecord, TrainingEvent> {
  private static final long serialVersionUID = 1L;
  /** Records that could not be used, ready for the dlq topic. */
  public static final OutputTag<KafkaOut> DEAD_LETTERS = new OutputTag<>("dead-letters") {};

  private final String dlqTopic;
  private transient SingleObjectCodec<ClickEvent> codec;
  private transient Counter dlqRecords;
  private transient org.apache.flink.api.common.accumulators.LongCounter dlqTotal;
  /** Accumulator with the number of records sent to the dead-letter topic. */
  public static final String DLQ_ACCUMULATOR = "dlq-records";

  public EventDecoder(String dlqTopic) {
    this.dlqTopic = dlqTopic;
  }

  @Override
  public void open(OpenContext ctx) {
    codec = SingleObjectCodec.of(ClickEvent.class);
    dlqRecords = getRuntimeContext().getMetricGroup().counter("dlqRecords");
    dlqTotal = new org.apache.flink.api.common.accumulators.LongCounter();
    getRuntimeContext().addAccumulator(DLQ_ACCUMULATOR, dlqTotal);
  }

  @Override
  public void processElement(RawRecord r, Context ctx, Collector<TrainingEvent> out) {
    ClickEvent e;
    try {
      e = codec.decode(r.value);
    } catch (UndecodableRecordException ex) {
      reject(r, ex.reason().name(), ex.getMessage(), ctx);
      return;
    }
    String problem = validate(e);
    if (problem != null) {
      reject(r, "INVALID_EVENT", "event " + e.getEventId() + ": " + problem, ctx);
      return;
    }
    out.collect(toTrainingEvent(e, r.timestamp));
  }

  private void reject(RawRecord r, String kind, String why, Context ctx) {
    dlqRecords.inc();
    dlqTotal.add(1);
    ctx.output(DEAD_LETTERS, new KafkaOut(dlqTopic, r.key, r.value,
        TopicDefaults.DLQ_ERROR, why,
        TopicDefaults.DLQ_ERROR_KIND, kind,
        TopicDefaults.DLQ_SOURCE_TOPIC, r.topic,
        TopicDefaults.DLQ_SOURCE_PARTITION, Integer.toString(r.partition),
        TopicDefaults.DLQ_SOURCE_OFFSET, Long.toString(r.offset)));
  }

  /** Why the event cannot be used, or null if it can. */
  static String validate(ClickEvent e) {
    List<Integer> dense = e.getDense();
    List<Long> cats = e.getCats();
    if (dense == null || dense.size() != ModelConfig.NUM_DENSE) {
      return "dense has " + (dense == null ? "no" : dense.size()) + " values, expected " + ModelConfig.NUM_DENSE;
    }
    if (cats == null || cats.size() != ModelConfig.NUM_SPARSE) {
      return "cats has " + (cats == null ? "no" : cats.size()) + " values, expected " + ModelConfig.NUM_SPARSE;
    }
    Integer label = e.getLabel();
    if (label != null && label != 0 && label != 1) {
      return "label is " + label + ", expected 0, 1 or null";
    }
    for (int t = 0; t < cats.size(); t++) {
      Long v = cats.get(t);
      if (v != null && (v < 0 || v > 0xFFFF_FFFFL)) {
        return "cats[" + t + "] (C" + (t + 1) + ") is " + v + ", outside 0..4294967295";
      }
    }
    if (e.getKey() == null) {
      return "key is missing";
    }
    return null;
  }

  /** The model-input form, with exactly the transforms of {@link CriteoRow}. */
  static TrainingEvent toTrainingEvent(ClickEvent e, long ingestTime) {
    TrainingEvent t = new TrainingEvent();
    t.eventId = e.getEventId();
    t.key = e.getKey();
    t.eventTime = e.getEventTime();
    t.ingestTime = ingestTime;
    t.label = e.getLabel() == null ? -1 : e.getLabel();
    t.dense = new float[ModelConfig.NUM_DENSE];
    for (int i = 0; i < t.dense.length; i++) {
      Integer x = e.getDense().get(i);
      t.dense[i] = x == null ? 0f : Preprocessing.logTransform(x);
    }
    t.cats = new long[ModelConfig.NUM_SPARSE];
    for (int i = 0; i < t.cats.length; i++) {
      Long v = e.getCats().get(i);
      t.cats[i] = v == null ? CriteoRow.MISSING_CATEGORY : v;
    }
    return t;
  }
}
