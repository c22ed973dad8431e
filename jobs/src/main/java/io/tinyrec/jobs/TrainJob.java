package io.tinyrec.jobs;

import io.tinyrec.jobs.events.EventDecoder;
import io.tinyrec.jobs.events.RawRecord;
import io.tinyrec.jobs.events.RawRecordDeserializer;
import io.tinyrec.jobs.events.TrainingEvent;
import io.tinyrec.jobs.kafka.KafkaOut;
import io.tinyrec.jobs.kafka.KafkaOutSerializer;
import io.tinyrec.jobs.kafka.RestorableBoundedSource;
import io.tinyrec.jobs.kafka.SyncMessageDeserializer;
import io.tinyrec.jobs.kafka.UntilLastSource;
import io.tinyrec.jobs.learner.Learner;
import io.tinyrec.jobs.merger.Merger;
import io.tinyrec.model.sync.LearnerUpdate;
import io.tinyrec.model.sync.SyncMessage;
import io.tinyrec.schemas.TopicDefaults;
import java.time.Duration;
import java.util.Properties;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.streaming.api.datastream.BroadcastStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.DataStreamUtils;
import org.apache.flink.streaming.api.datastream.KeyedStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The training job's graph:
 * <pre>
 * events --KafkaSource--> decode (undecodable/invalid -> dlq)
 *   --keyBy(event key)--> Learner x N  (broadcast side: sync topic) --scores--> scores
 *   --updates--> Merger x 1 --sync (at once)--> sync
 *                           --snapshots (EXACTLY_ONCE)--> models
 * </pre>
 * The loop from the merger back to the learners goes through the sync topic, because Flink 2.x
 * has no iterations; Kafka also buffers the cycle, so it cannot deadlock on backpressure.
 */
public final class TrainJob {
  /** Largest Kafka message the job writes or reads: a full model with optimizer state. */
  public static final int MAX_MESSAGE_BYTES = TopicDefaults.MAX_SNAPSHOT_BYTES;
  /** The sync source's fetch size limits (soft: a larger message comes through alone). */
  static final int SYNC_FETCH_BYTES = 4 << 20;
  /** Below the broker's default transaction.max.timeout.ms (15 min), or the sink never commits. */
  static final String TRANSACTION_TIMEOUT_MS = "600000";

  private TrainJob() {}

  /** Adds the job to the environment (checkpointing and the like are the caller's). */
  public static void build(StreamExecutionEnvironment env, TrainJobConfig c) {
    // No operator keeps or changes a record it was handed (the learner keeps the events it buffers,
    // but those arrive over the network, deserialized afresh), so chained operators may pass
    // records on without Flink copying each one.
    env.getConfig().enableObjectReuse();
    // Flink reads an uncompressed operator state back one byte per read() call on the file (its
    // CompressibleFSDataInputStream has no bulk read): megabytes of state took a minute to restore.
    // Compressed, the bytes come from the decompressor's buffer instead.
    env.getConfig().setUseSnapshotCompression(true);
    Properties client = c.kafkaClientProperties();

    KafkaSourceBuilder<RawRecord> events = KafkaSource.<RawRecord>builder()
        .setBootstrapServers(c.bootstrapServers)
        .setTopics(c.eventsTopic)
        .setGroupId("tinyrec-train-" + c.modelName)
        .setStartingOffsets(OffsetsInitializer.earliest())
        .setDeserializer(new RawRecordDeserializer())
        .setProperties(client)
        .setProperty("commit.offsets.on.checkpoint", "true");
    if (c.bounded) {
      events.setBounded(OffsetsInitializer.latest());
    }
    SingleOutputStreamOperator<TrainingEvent> decoded = env
        .fromSource(new RestorableBoundedSource<>(events.build()), WatermarkStrategy.noWatermarks(), "events")
        .uid("events-source").setParallelism(c.learners)
        .process(new EventDecoder(c.dlqTopic, LEARNER_MAX_PARALLELISM)).uid("decode").name("decode")
        .setParallelism(c.learners);
    DataStream<TrainingEvent> timed = decoded
        .assignTimestampsAndWatermarks(WatermarkStrategy.<TrainingEvent>forBoundedOutOfOrderness(Duration.ofSeconds(5))
            .withTimestampAssigner((e, ts) -> e.eventTime)
            .withIdleness(Duration.ofSeconds(30)))
        .uid("event-time").name("event-time").setParallelism(c.learners);

    KafkaSource<SyncMessage> syncKafka = KafkaSource.<SyncMessage>builder()
        .setBootstrapServers(c.bootstrapServers)
        .setTopics(c.syncTopic)
        .setGroupId("tinyrec-sync-" + c.modelName)
        .setStartingOffsets(OffsetsInitializer.latest())
        .setDeserializer(new SyncMessageDeserializer())
        .setProperties(client)
        // Small fetches: Kafka still returns a message larger than these limits, alone. At the
        // largest message size a fetch allocated 64 MB at once, and a TaskManager of Flink's default
        // memory ran out of heap in the sync source.
        .setProperty("max.partition.fetch.bytes", Integer.toString(SYNC_FETCH_BYTES))
        .setProperty("fetch.max.bytes", Integer.toString(SYNC_FETCH_BYTES))
        .setProperty("commit.offsets.on.checkpoint", "false")
        .setProperty("fetch.max.wait.ms", "20")
        .build();
    BroadcastStream<SyncMessage> sync = env
        .fromSource(new UntilLastSource<>(syncKafka, r -> r.last), WatermarkStrategy.forGenerator(ctx -> new NoEventTime()),
            "sync")
        .uid("sync-source").setParallelism(1)
        .setBufferTimeout(0)
        .broadcast(Learner.GLOBAL_MODEL);

    // Each learner trains the events its own source subtask reads, without a shuffle (measured in
    // docs/benchmarks.md), unless there are fewer partitions than learners: then events are
    // spread over every learner by their key.
    KeyedStream<TrainingEvent, String> keyed = c.spreadEvents ? timed.keyBy(e -> e.key)
        : DataStreamUtils.reinterpretAsKeyedStream(timed, e -> e.route, Types.STRING);
    SingleOutputStreamOperator<LearnerUpdate> learned = keyed
        .connect(sync)
        .process(new Learner(c)).uid("learner").name("learner").setParallelism(c.learners)
        .setMaxParallelism(LEARNER_MAX_PARALLELISM)
        .setBufferTimeout(0); // updates are few; each should reach the merger at once

    SingleOutputStreamOperator<KafkaOut> merged = learned
        .keyBy(u -> 0)
        .process(new Merger(c)).uid("merger").name("merger").setParallelism(1).setMaxParallelism(1)
        .setBufferTimeout(0);

    long fullBytes = fullModelBytes(c);
    merged.sinkTo(atLeastOnceSink(c, "0", fullBytes)).uid("sync-sink").name("sync sink").setParallelism(1);
    merged.getSideOutput(Merger.SNAPSHOTS).sinkTo(exactlyOnceSink(c, "models", fullBytes)).uid("models-sink").name("models sink")
        .setParallelism(1);
    learned.getSideOutput(Learner.SCORES).sinkTo(atLeastOnceSink(c, "5", 0)).uid("scores-sink").name("scores sink")
        .setParallelism(c.learners);
    decoded.getSideOutput(EventDecoder.DEAD_LETTERS).sinkTo(atLeastOnceSink(c, "5", 0)).uid("dlq-sink").name("dlq sink")
        .setParallelism(c.learners);
  }

  private static KafkaSink<KafkaOut> exactlyOnceSink(TrainJobConfig c, String name, long largest) {
    Properties p = producerProperties(c, largest);
    p.setProperty("transaction.timeout.ms", TRANSACTION_TIMEOUT_MS);
    return KafkaSink.<KafkaOut>builder()
        .setBootstrapServers(c.bootstrapServers)
        .setKafkaProducerConfig(p)
        .setRecordSerializer(new KafkaOutSerializer())
        .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
        .setTransactionalIdPrefix("tinyrec-" + c.modelName + "-" + name)
        .build();
  }

  private static KafkaSink<KafkaOut> atLeastOnceSink(TrainJobConfig c, String lingerMs, long largest) {
    Properties p = producerProperties(c, largest);
    p.setProperty("linger.ms", lingerMs);
    return KafkaSink.<KafkaOut>builder()
        .setBootstrapServers(c.bootstrapServers)
        .setKafkaProducerConfig(p)
        .setRecordSerializer(new KafkaOutSerializer())
        .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
        .build();
  }

  /**
   * A producer whose buffer holds a few of the largest messages it sends (full models, snapshots)
   * rather than four times the largest message Kafka allows: each sink has its own producer, and at
   * 256 MB apiece they could take a default TaskManager's whole heap.
   */
  private static Properties producerProperties(TrainJobConfig c, long largest) {
    Properties p = c.kafkaClientProperties();
    long buffer = Math.min(4L * MAX_MESSAGE_BYTES, Math.max(32L << 20, 4 * largest));
    p.setProperty("max.request.size", Long.toString(Math.min(MAX_MESSAGE_BYTES, buffer)));
    p.setProperty("buffer.memory", Long.toString(buffer));
    p.setProperty("linger.ms", "5");
    return p;
  }

  /**
   * Bytes of the largest message the merger sends: a full model with its optimizer state (and,
   * quantized, the FP32 cache lines every learner may have sent), plus room for the envelope.
   */
  public static long fullModelBytes(TrainJobConfig c) {
    io.tinyrec.model.Dlrm fresh = new io.tinyrec.model.Dlrm(c.model);
    long cache = fresh.embedding() instanceof io.tinyrec.model.nn.QuantizedRobeEmbedding q
        ? (long) c.learners * q.array().fullCacheSnapshotBytes() : 0;
    return io.tinyrec.model.codec.SnapshotCodec.encode(fresh, true).length + cache + 64 * 1024;
  }

  /**
   * The sync stream carries no event time: it is idle for watermarks, so that the learners'
   * watermark is the events' watermark alone (and reaches its end only when a bounded input ends).
   * It must not hold the watermark at its maximum: when the events go idle in a lull, the learners'
   * watermark would then jump to the maximum, which reads as the end of the input.
   */
  /**
   * The learners' max parallelism (their key groups, which the decoders' route keys fall in): 128,
   * Flink's default up to 85 subtasks, so checkpoints of earlier releases keep restoring.
   */
  public static final int LEARNER_MAX_PARALLELISM = 128;

  static final class NoEventTime implements WatermarkGenerator<SyncMessage> {
    @Override
    public void onEvent(SyncMessage event, long eventTimestamp, WatermarkOutput output) {}

    @Override
    public void onPeriodicEmit(WatermarkOutput output) {
      output.markIdle();
    }
  }
}
