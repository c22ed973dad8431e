package io.tinyrec.jobs.events;

import io.tinyrec.jobs.kafka.KafkaOut;
import io.tinyrec.model.data.CriteoRow;
import io.tinyrec.schemas.ClickEvent;
import io.tinyrec.schemas.ClickEventDecoder;
import io.tinyrec.schemas.SingleObjectCodec;
import io.tinyrec.schemas.TopicDefaults;
import io.tinyrec.schemas.UndecodableRecordException;
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
  private transient ClickEventDecoder fast;
  private transient Counter dlqRecords;
  private transient org.apache.flink.api.common.accumulators.LongCounter dlqTotal;
  /** Accumulator with the number of records sent to the dead-letter topic. */
  public static final String DLQ_ACCUMULATOR = "dlq-records";

  /** The learner operator's max parallelism, whose key groups the route keys fall in. */
  private final int learnerMaxParallelism;
  private transient String route;

  public EventDecoder(String dlqTopic, int learnerMaxParallelism) {
    this.dlqTopic = dlqTopic;
    this.learnerMaxParallelism = learnerMaxParallelism;
  }

  @Override
  public void open(OpenContext ctx) {
    codec = SingleObjectCodec.of(ClickEvent.class);
    fast = new ClickEventDecoder();
    var task = getRuntimeContext().getTaskInfo();
    route = LearnerRoutes.keyFor(task.getIndexOfThisSubtask(), task.getNumberOfParallelSubtasks(),
        learnerMaxParallelism);
    dlqRecords = getRuntimeContext().getMetricGroup().counter("dlqRecords");
    dlqTotal = new org.apache.flink.api.common.accumulators.LongCounter();
    getRuntimeContext().addAccumulator(DLQ_ACCUMULATOR, dlqTotal);
  }

  @Override
  public void processElement(RawRecord r, Context ctx, Collector<TrainingEvent> out) {
    if (fast.read(r.value)) {
      CriteoRow row = new CriteoRow(fast.label(), fast.dense(), fast.denseMissing(), fast.cats(), fast.catMissing());
      out.collect(routed(toTrainingEvent(fast.eventId(), fast.key(), fast.eventTime(), row, r.timestamp)));
      return;
    }
    // Anything the fast path declines: Avro's reader decodes it, or names what is wrong with it.
    ClickEvent e;
    try {
      e = codec.decode(r.value);
    } catch (UndecodableRecordException ex) {
      reject(r, ex.reason().name(), ex.getMessage(), ctx);
      return;
    }
    if (e.getKey() == null) {
      reject(r, "INVALID_EVENT", "event " + e.getEventId() + ": key is missing", ctx);
      return;
    }
    CriteoRow row;
    try {
      row = CriteoRow.of(e.getLabel(), e.getDense(), e.getCats());
    } catch (IllegalArgumentException ex) {
      reject(r, "INVALID_EVENT", "event " + e.getEventId() + ": " + ex.getMessage(), ctx);
      return;
    }
    out.collect(routed(toTrainingEvent(e, row, r.timestamp)));
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

  /**
   * The model-input form of an event whose fields made {@code row}: the transforms are
   * {@link CriteoRow}'s, the ones serving and {@code tinyrec learn} apply too.
   */
  private TrainingEvent routed(TrainingEvent t) {
    t.route = route;
    return t;
  }

  static TrainingEvent toTrainingEvent(ClickEvent e, CriteoRow row, long ingestTime) {
    return toTrainingEvent(e.getEventId(), e.getKey(), e.getEventTime(), row, ingestTime);
  }

  private static TrainingEvent toTrainingEvent(String eventId, String key, long eventTime, CriteoRow row,
      long ingestTime) {
    TrainingEvent t = new TrainingEvent();
    t.eventId = eventId;
    t.key = key;
    t.eventTime = eventTime;
    t.ingestTime = ingestTime;
    t.label = row.label();
    t.dense = row.denseFeatures();
    t.cats = row.categoryValues();
    return t;
  }
}
