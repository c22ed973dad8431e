package io.tinyrec.jobs.merger;

import io.tinyrec.jobs.StateBytes;
import io.tinyrec.jobs.TrainJobConfig;
import io.tinyrec.jobs.kafka.KafkaOut;
import io.tinyrec.model.sync.LearnerUpdate;
import io.tinyrec.model.Dlrm;
import io.tinyrec.model.codec.SnapshotCodec;
import io.tinyrec.model.metrics.MetricsSnapshot;
import io.tinyrec.model.metrics.ProgressiveMetrics;
import io.tinyrec.model.sync.SyncMerger;
import io.tinyrec.model.sync.SyncMessage;
import io.tinyrec.schemas.ModelMetrics;
import io.tinyrec.schemas.ModelSnapshot;
import io.tinyrec.schemas.ModelSync;
import io.tinyrec.schemas.SingleObjectCodec;
import io.tinyrec.schemas.SyncKind;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The authoritative model, at parallelism 1. It merges each learner update three-way
 * ({@link ChunkDelta#mergeInto}), bumps the version, and publishes a ModelSync for the learners: a
 * delta of the merged chunks, or a full model at the start of each epoch and every
 * {@code fullSyncEvery} versions. Every {@code snapshotInterval}, and once at the end of a bounded
 * run, it publishes a ModelSnapshot. Both go out through an EXACTLY_ONCE Kafka sink.
 *
 * <p>Sync messages go out at once (at-least-once), so learners hear of a merge within milliseconds;
 * snapshots go through the EXACTLY_ONCE sink ({@link #SNAPSHOTS}). Its state (model, version,
 * per-learner merged sequence numbers, metrics) is checkpointed. The epoch is the id of the
 * checkpoint the job was restored from (0 on a fresh start): after a restore the merger sends a
 * full model of the new epoch at once, and learners, which know the same id, ignore every older
 * message, including what the failed run sent after that checkpoint.
 */
public final class Merger extends KeyedProcessFunction<Integer, LearnerUpdate, KafkaOut>
    implements CheckpointedFunction {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(Merger.class);

  /** Snapshots for the models topic, to be written exactly once. */
  public static final org.apache.flink.util.OutputTag<KafkaOut> SNAPSHOTS =
      new org.apache.flink.util.OutputTag<>("snapshots") {};
  /** How often the merger checks whether a full model is owed (after a restore). */
  static final long HEARTBEAT_MS = 200;
  /** How often the metric gauges' AUC, log loss and NE are recomputed. */
  static final long GAUGE_REFRESH_MS = 1000;
  /** First int of the merger's state; the version that follows says how the rest is laid out. */
  static final int STATE_MAGIC = 0x544D5247; // "TMRG"
  static final int STATE_VERSION = 1;
  /** Accumulator: "version:checksum" of the final model of a bounded run. */
  public static final String FINAL_MODEL_ACCUMULATOR = "merger-final-model";

  private final TrainJobConfig config;

  private transient ListState<byte[]> checkpointed;
  /** Bytes of the last checkpointed state, to size the next one's buffer. */
  private transient int lastStateBytes;
  private transient SyncMerger protocol;
  private transient ProgressiveMetrics metrics;
  private transient long lastSnapshotMs;
  private transient long lastGaugeMs;
  private transient long lastSnapshotVersion;
  private transient boolean needFull;
  /** When the pending publish timer fires (a coalesced message is owed); Long.MIN_VALUE when none is pending. */
  private transient long publishTimerAt;
  private transient boolean endTimerRegistered;
  /** When the heartbeat timer fires next; Long.MIN_VALUE until this run registered one. */
  private transient long nextHeartbeatAt;
  /** Learners that sent their final update in this epoch, and whether the bounded input ended. */
  private transient java.util.BitSet learnersDone;
  private transient boolean inputEnded;
  private transient boolean ended;

  private transient SingleObjectCodec<ModelSync> syncCodec;
  private transient SingleObjectCodec<ModelSnapshot> snapshotCodec;
  private transient Counter snapshotsPublished;
  private transient volatile long lastSnapshotBytes;
  private transient volatile long lastSnapshotPublishMs;
  private transient volatile MetricsSnapshot overall;
  private transient volatile MetricsSnapshot windowed;

  public Merger(TrainJobConfig config) {
    this.config = config;
  }

  @Override
  public void initializeState(FunctionInitializationContext ctx) throws Exception {
    checkpointed = ctx.getOperatorStateStore().getListState(
        new ListStateDescriptor<>("merger", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
    byte[] restored = null;
    long restoredFrom = ctx.getRestoredCheckpointId().orElse(0L);
    if (ctx.isRestored()) {
      for (byte[] s : checkpointed.get()) {
        restored = s;
      }
    }
    // The epoch is the checkpoint restored from. Learners number their updates afresh in each
    // epoch; whatever they sent before the checkpoint is merged already (or replayed from the
    // channel state, and then merged as it comes).
    if (restored == null) {
      protocol = new SyncMerger(config.model, config.learners, restoredFrom, config.syncPublishEvery(),
          config.fullSyncEvery);
      metrics = new ProgressiveMetrics(config.metricsWindow);
      lastSnapshotVersion = -1;
    } else {
      readState(restored, restoredFrom);
      LOG.info("merger restored from checkpoint {} at version {}, {} events trained", restoredFrom,
          protocol.version(), protocol.eventsTrained());
    }
    learnersDone = new java.util.BitSet();
    nextHeartbeatAt = Long.MIN_VALUE;
    publishTimerAt = Long.MIN_VALUE;
    needFull = true;
    lastSnapshotMs = System.currentTimeMillis();
  }

  @Override
  public void open(OpenContext ctx) {
    syncCodec = SingleObjectCodec.of(ModelSync.class);
    snapshotCodec = SingleObjectCodec.of(ModelSnapshot.class);
    var g = getRuntimeContext().getMetricGroup();
    snapshotsPublished = g.counter("snapshotsPublished");
    g.gauge("modelVersion", () -> protocol.version());
    g.gauge("epoch", () -> protocol.epoch());
    g.gauge("eventsTrained", () -> protocol.eventsTrained());
    g.gauge("skippedUpdates", () -> protocol.skippedUpdates());
    g.gauge("syncMessages", () -> protocol.stats().messages);
    g.gauge("syncBytesOut", () -> protocol.stats().bytesOut);
    g.gauge("updateBytesIn", () -> protocol.stats().bytesIn);
    g.gauge("snapshotBytes", () -> lastSnapshotBytes);
    g.gauge("checkpointStateBytes", () -> lastStateBytes);
    g.gauge("snapshotPublishMs", () -> lastSnapshotPublishMs);
    g.gauge("auc", () -> overall == null ? Double.NaN : overall.auc());
    g.gauge("logloss", () -> overall == null ? Double.NaN : overall.logloss());
    g.gauge("ne", () -> overall == null ? Double.NaN : overall.ne());
    g.gauge("windowAuc", () -> windowed == null ? Double.NaN : windowed.auc());
    g.gauge("windowLogloss", () -> windowed == null ? Double.NaN : windowed.logloss());
    g.gauge("windowNe", () -> windowed == null ? Double.NaN : windowed.ne());
  }

  @Override
  public void processElement(LearnerUpdate u, Context ctx, Collector<KafkaOut> out) throws Exception {
    registerTimers(ctx);
    if (needFull) {
      publishFull(out, false);
      needFull = false;
    }
    if (!protocol.merge(u)) {
      return; // a restored learner asking for the epoch's model: sent above, or sent before
    }
    for (int i = 0; i < u.scores.length; i++) {
      metrics.add(u.scores[i], u.labels[i] != 0);
    }
    if (u.last && u.epoch == protocol.epoch()) {
      learnersDone.set(u.learner);
    }
    if (protocol.publishDue()) {
      publish(out);
    } else if (publishTimerAt == Long.MIN_VALUE) {
      // Coalescing: the message waits for the other learners' updates, but not longer than this.
      publishTimerAt = ctx.timerService().currentProcessingTime() + config.syncCoalesceMs;
      ctx.timerService().registerProcessingTimeTimer(publishTimerAt);
    }
    long now = System.currentTimeMillis();
    if (now - lastGaugeMs >= GAUGE_REFRESH_MS) {
      // Reading AUC scans the histograms' 65k bins; the gauges need it once a second, not per update.
      overall = metrics.overall();
      windowed = metrics.windowed();
      lastGaugeMs = now;
    }
    if (now - lastSnapshotMs >= config.snapshotInterval.toMillis()) {
      publishSnapshot(ctx);
    }
    if (inputEnded && !ended && learnersDone.cardinality() >= config.learners) {
      endOfInput(ctx, out);
    }
  }

  /** One message for everything merged since the last. */
  private void publish(Collector<KafkaOut> out) {
    send(out, protocol.publish());
    publishTimerAt = Long.MIN_VALUE;
  }

  /**
   * The heartbeat (one chain per run, however many timers a restore brought back) and, under
   * {@code --bounded} only, the end-of-input timer. An unbounded job never infers its end.
   */
  private void registerTimers(Context ctx) {
    if (nextHeartbeatAt == Long.MIN_VALUE) {
      nextHeartbeatAt = ctx.timerService().currentProcessingTime() + HEARTBEAT_MS;
      ctx.timerService().registerProcessingTimeTimer(nextHeartbeatAt);
    }
    if (config.bounded && !endTimerRegistered) {
      ctx.timerService().registerEventTimeTimer(Long.MAX_VALUE);
      endTimerRegistered = true;
    }
  }

  @Override
  public void onTimer(long timestamp, OnTimerContext ctx, Collector<KafkaOut> out) throws Exception {
    if (ctx.timeDomain() == org.apache.flink.streaming.api.TimeDomain.PROCESSING_TIME) {
      if (timestamp == publishTimerAt) {
        publishTimerAt = Long.MIN_VALUE;
        if (protocol.hasUnpublished()) {
          publish(out);
        }
        if (timestamp != nextHeartbeatAt) {
          return;
        }
      }
      boolean ours = timestamp == nextHeartbeatAt;
      // Restored timers fire at once after a restore: the learners get the new epoch's model
      // even if every one of them is waiting for an acknowledgement and sends nothing.
      if (needFull) {
        publishFull(out, false);
        needFull = false;
      }
      // When the stream pauses, the last updates still reach serving one snapshot interval later.
      if (lastSnapshotVersion != protocol.version()
          && System.currentTimeMillis() - lastSnapshotMs >= config.snapshotInterval.toMillis()) {
        publishSnapshot(ctx);
      }
      if (ours || nextHeartbeatAt == Long.MIN_VALUE) {
        nextHeartbeatAt = Long.MIN_VALUE;
        registerTimers(ctx); // the next beat; a restored timer starts this run's chain
      }
      return;
    }
    if (!config.bounded || ended) {
      return; // an end timer of a bounded run this unbounded one was restored from
    }
    inputEnded = true;
    if (learnersDone.cardinality() >= config.learners) {
      endOfInput(ctx, out);
    } else {
      // Some learner saw no event since its restore and so has no timer of its own: a model on the
      // broadcast side lets it see that its input ended and send its final update.
      LOG.info("input ended; {} of {} learners reported their end, asking the rest", learnersDone.cardinality(),
          config.learners);
      publishFull(out, false);
    }
  }

  /** Every learner has passed the end of a bounded input and sent its final update. */
  private void endOfInput(Context ctx, Collector<KafkaOut> out) {
    ended = true;
    LOG.info("input ended: final model version {}, {} events trained ({} learners reported their end)",
        protocol.version(), protocol.eventsTrained(), learnersDone.cardinality());
    if (lastSnapshotVersion != protocol.version()) {
      publishSnapshot(ctx);
    }
    publishFull(out, true);
    var acc = new org.apache.flink.api.common.accumulators.ListAccumulator<String>();
    acc.add(protocol.version() + ":" + protocol.tensors().checksum());
    getRuntimeContext().addAccumulator(FINAL_MODEL_ACCUMULATOR, acc);
  }

  private void publishFull(Collector<KafkaOut> out, boolean last) {
    send(out, protocol.full(last));
    publishTimerAt = Long.MIN_VALUE; // the whole model carries whatever was still unpublished
  }

  private void send(Collector<KafkaOut> out, SyncMessage m) {
    List<Long> seqs = new ArrayList<>(m.mergedSeq.length);
    for (long s : m.mergedSeq) {
      seqs.add(s);
    }
    ModelSync avro = ModelSync.newBuilder()
        .setEpoch(m.epoch).setVersion(m.version).setKind(m.full ? SyncKind.FULL : SyncKind.DELTA)
        .setBaseVersion(m.full ? null : m.baseVersion)
        .setPayload(ByteBuffer.wrap(m.payload)).setEventsTrained(m.eventsTrained)
        .setMergedSeq(seqs).setLast(m.last).build();
    out.collect(new KafkaOut(config.syncTopic, null, syncCodec.encode(avro)));
  }

  private void publishSnapshot(Context ctx) {
    long t0 = System.nanoTime();
    byte[] codec = SnapshotCodec.encode(protocol.model(), config.snapshotOptimizerState);
    CRC32 crc = new CRC32();
    crc.update(codec);
    MetricsSnapshot all = metrics.overall();
    MetricsSnapshot win = metrics.windowed();
    overall = all;
    windowed = win;
    long now = System.currentTimeMillis();
    ModelSnapshot s = ModelSnapshot.newBuilder()
        .setModelName(config.modelName).setVersion(protocol.version()).setEpoch(protocol.epoch()).setCreatedAt(now)
        // The latest event time trained, never Flink's watermark: that one can run ahead of every
        // event (to its maximum at the end of a bounded input).
        .setEventTimeWatermark(protocol.maxEventTime())
        .setEventsTrained(protocol.eventsTrained()).setConfig(new java.util.HashMap<>(config.modelConfigMap()))
        .setCodec(ByteBuffer.wrap(codec)).setChecksum(crc.getValue())
        .setMetrics(toAvro(all)).setWindowMetrics(toAvro(win)).setMetricsWindow(config.metricsWindow).build();
    byte[] value = snapshotCodec.encode(s);
    ctx.output(SNAPSHOTS, new KafkaOut(config.modelsTopic, KafkaOut.utf8(config.modelName), value));
    lastSnapshotMs = now;
    lastSnapshotVersion = protocol.version();
    lastSnapshotBytes = value.length;
    lastSnapshotPublishMs = (System.nanoTime() - t0) / 1_000_000;
    snapshotsPublished.inc();
  }

  private static ModelMetrics toAvro(MetricsSnapshot m) {
    return ModelMetrics.newBuilder().setCount(m.count()).setAuc(m.auc()).setLogloss(m.logloss()).setNe(m.ne())
        .setCalibration(m.calibration()).build();
  }

  @Override
  public void snapshotState(FunctionSnapshotContext ctx) throws Exception {
    checkpointed.clear();
    ByteArrayOutputStream bytes = StateBytes.bufferFor(lastStateBytes);
    DataOutputStream o = new DataOutputStream(bytes);
    o.writeInt(STATE_MAGIC);
    o.writeInt(STATE_VERSION);
    o.writeLong(protocol.version());
    long[] mergedSeq = protocol.mergedSeq();
    o.writeInt(mergedSeq.length);
    for (long s : mergedSeq) {
      o.writeLong(s);
    }
    o.writeLong(protocol.eventsTrained());
    o.writeLong(protocol.skippedUpdates());
    o.writeLong(protocol.maxEventTime());
    o.writeLong(lastSnapshotVersion);
    byte[] m = SnapshotCodec.encode(protocol.model(), true);
    o.writeInt(m.length);
    o.write(m);
    byte[] pm = metrics.encode();
    o.writeInt(pm.length);
    o.write(pm);
    o.flush();
    lastStateBytes = bytes.size();
    checkpointed.add(bytes.toByteArray());
    LOG.debug("merger: checkpoint {}: {} state bytes", ctx.getCheckpointId(), lastStateBytes);
  }

  /**
   * Reads version 1 of the merger state: version, per-learner merged sequence numbers (not needed
   * after a restore: learners number their updates afresh in each epoch), counters, the model and
   * the progressive metrics.
   */
  private void readState(byte[] state, long epoch) throws IOException {
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(state));
    int magic = in.readInt();
    int stateVersion = in.readInt();
    if (magic != STATE_MAGIC || stateVersion != STATE_VERSION) {
      throw new org.apache.flink.runtime.execution.SuppressRestartsException(new IllegalStateException(
          "merger state of an unknown format (magic " + Integer.toHexString(magic) + ", version " + stateVersion
              + "; this release reads version " + STATE_VERSION + "): the checkpoint was written by another "
              + "tinyrec release. Restore it with that release, or start without --restore-from"));
    }
    long version = in.readLong();
    int writtenBy = in.readInt();
    for (int i = 0; i < writtenBy; i++) {
      in.readLong();
    }
    if (writtenBy != config.learners) {
      LOG.info("rescaled from {} to {} learners", writtenBy, config.learners);
    }
    long eventsTrained = in.readLong();
    long skippedUpdates = in.readLong();
    long maxEventTime = in.readLong();
    lastSnapshotVersion = in.readLong();
    byte[] m = new byte[in.readInt()];
    in.readFully(m);
    Dlrm model = SnapshotCodec.decode(m);
    protocol = new SyncMerger(model, version, eventsTrained, skippedUpdates, maxEventTime, config.learners, epoch,
        config.syncPublishEvery(), config.fullSyncEvery);
    byte[] pm = new byte[in.readInt()];
    in.readFully(pm);
    metrics = ProgressiveMetrics.decode(pm);
  }
}
