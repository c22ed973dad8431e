package io.tinyrec.jobs.learner;

import io.tinyrec.jobs.StateBytes;
import io.tinyrec.jobs.TrainJobConfig;
import io.tinyrec.jobs.events.TrainingEvent;
import io.tinyrec.jobs.kafka.KafkaOut;
import io.tinyrec.model.Batch;
import io.tinyrec.model.ModelConfig;
import io.tinyrec.model.sync.LearnerUpdate;
import io.tinyrec.model.sync.SyncLearner;
import io.tinyrec.model.sync.SyncMessage;
import io.tinyrec.model.sync.UnsentWork;
import io.tinyrec.schemas.ScoredEvent;
import io.tinyrec.schemas.SingleObjectCodec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.apache.flink.api.common.accumulators.ListAccumulator;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.accumulators.LongMaximum;
import org.apache.flink.api.common.accumulators.LongMinimum;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.Meter;
import org.apache.flink.metrics.MeterView;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.TimerService;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * One data-parallel learner: the Flink side of {@link SyncLearner}, which holds the replica and
 * the sync protocol. This operator batches the events, scores and trains each micro-batch
 * (progressive validation: before any update the batch causes), emits the scores, sends the
 * protocol's updates to the merger and hands it the merger's sync messages from the broadcast side.
 * It owns what needs Flink: timers, staleness holds, checkpoints, metrics and accumulators.
 *
 * <p>Batches: a full batch trains at once, a partial one after {@code maxWaitMs}. An update goes
 * out every {@code syncEvery} events or {@code syncIntervalMs}; when the stream pauses a timer
 * still sends what was learned. Bounded staleness ({@link TrainJobConfig#maxStaleness}): a learner
 * whose oldest unmerged update left that many events ago buffers its events until the update
 * comes back merged, so a slow round trip costs throughput rather than accuracy.
 *
 * <p>State: the global model is not checkpointed here, since the merger's checkpoint holds the
 * same model and the merger sends it in full at the start of every epoch. A learner checkpoints
 * only what the merger has not seen ({@link UnsentWork}) and its buffered events. Every update
 * sent before a checkpoint barrier reaches the merger before that barrier, so it is in the
 * merger's state (or, with unaligned checkpoints, in the channel state that Flink replays). The
 * states are independent of the subtask that wrote them, so a job restores with any number of
 * learners: Flink hands each learner some of them.
 */
public final class Learner extends KeyedBroadcastProcessFunction<String, TrainingEvent, SyncMessage, LearnerUpdate>
    implements CheckpointedFunction, CheckpointListener {
  private static final long serialVersionUID = 1L;
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Learner.class);

  /**
   * The broadcast side's state descriptor. Sync messages are not kept in it: the merger's
   * checkpoint holds the model, and after a restore it sends the whole model again.
   */
  public static final org.apache.flink.api.common.state.MapStateDescriptor<String, SyncMessage> GLOBAL_MODEL =
      new org.apache.flink.api.common.state.MapStateDescriptor<>("global-model",
          org.apache.flink.api.common.typeinfo.BasicTypeInfo.STRING_TYPE_INFO,
          org.apache.flink.api.common.typeinfo.TypeInformation.of(SyncMessage.class));
  /** Scored events, ready for the scores topic. */
  public static final OutputTag<KafkaOut> SCORES = new OutputTag<>("scores") {};
  /**
   * Accumulator: at the end of a bounded run each learner adds "subtask:version:checksum" of the
   * global model it holds, so a caller can check that every replica ended identical.
   */
  public static final String FINAL_MODELS_ACCUMULATOR = "learner-final-models";
  /** Accumulators: wall-clock ms of the first event any learner saw, and of the latest end of input. */
  public static final String FIRST_EVENT_ACCUMULATOR = "first-event-ms";
  public static final String INPUT_END_ACCUMULATOR = "input-end-ms";
  /**
   * Accumulators, summed over learners: how often bounded staleness held a learner back, and the
   * milliseconds learners spent held back (each hold from its start until training resumed).
   */
  public static final String STALENESS_HOLDS_ACCUMULATOR = "staleness-holds";
  public static final String HELD_MS_ACCUMULATOR = "staleness-held-ms";

  /** First int of a learner state; the version that follows it says how the rest is laid out. */
  static final int STATE_MAGIC = 0x544C524E; // "TLRN"
  static final int STATE_VERSION = 1;

  private final TrainJobConfig config;

  private transient ListState<byte[]> checkpointed;
  private transient SyncLearner protocol;
  /** A bounded input ended before the model was ready (after a restore): finish once it is. */
  private transient boolean inputEnded;
  /** When this learner's state was restored (wall-clock ms), until its first batch after it; 0 otherwise. */
  private transient long restoredAtMs;
  /** Bytes of the last checkpointed state, to size the next one's buffer. */
  private transient int lastStateBytes;
  private transient int subtask;
  private transient int attempt;

  // The micro-batch being filled, and the timers that drain it.
  private transient List<TrainingEvent> buffer;
  private transient long bufferStartMs;
  /** When the pending max-wait timer fires; Long.MIN_VALUE when none is pending. */
  private transient long waitTimerAt;
  /** When the pending idle-sync timer fires; Long.MIN_VALUE when none is pending. */
  private transient long syncTimerAt;
  private transient boolean endTimerRegistered;
  /** Whether the last check found the learner held back by {@link TrainJobConfig#maxStaleness}. */
  private transient boolean holding;
  /** When the current hold began (wall-clock ms), valid while holding. */
  private transient long holdStartMs;

  private transient Batch trainBatch;
  private transient Batch scoreBatch;
  private transient float[] scoresOut;
  private transient SingleObjectCodec<ScoredEvent> scoreCodec;
  private transient long checkpointsCompleted;
  private transient long eventsSeen;

  private transient Meter eventsPerSecond;
  private transient Counter droppedSyncs;
  private transient Counter stalenessHolds;
  private transient Counter stalenessOverruns;
  private transient Histogram scoreLatencyMs;
  private transient ListAccumulator<String> finalModels;
  private transient LongMinimum firstEventMs;
  private transient LongMaximum inputEndMs;
  private transient LongCounter holdsTotal;
  private transient LongCounter heldMsTotal;

  public Learner(TrainJobConfig config) {
    this.config = config;
  }

  @Override
  public void initializeState(FunctionInitializationContext ctx) throws Exception {
    checkpointed = ctx.getOperatorStateStore().getListState(
        new ListStateDescriptor<>("learner", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
    subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
    attempt = getRuntimeContext().getTaskInfo().getAttemptNumber();
    // The merger's epoch after this restore; every sync message from before it is stale.
    long epoch = ctx.getRestoredCheckpointId().orElse(0L);
    buffer = new ArrayList<>();
    waitTimerAt = Long.MIN_VALUE;
    syncTimerAt = Long.MIN_VALUE;
    if (ctx.isRestored()) {
      // Whatever the number of learners that wrote them, each state is work of its own.
      List<UnsentWork> work = new ArrayList<>();
      for (byte[] s : checkpointed.get()) {
        work.add(readState(s));
      }
      protocol = SyncLearner.restored(config.model, subtask, epoch, work);
      bufferStartMs = System.currentTimeMillis();
      restoredAtMs = bufferStartMs;
      LOG.info("learner {}: restored {} state(s) with {} buffered events; waiting for the epoch {} model", subtask,
          work.size(), buffer.size(), epoch);
    } else {
      protocol = new SyncLearner(config.model, subtask, epoch);
    }
  }

  @Override
  public void open(org.apache.flink.api.common.functions.OpenContext ctx) {
    var metrics = getRuntimeContext().getMetricGroup();
    eventsPerSecond = metrics.meter("eventsPerSecond", new MeterView(10));
    droppedSyncs = metrics.counter("droppedSyncMessages");
    stalenessHolds = metrics.counter("stalenessHolds");
    stalenessOverruns = metrics.counter("stalenessOverruns");
    metrics.gauge("bufferedEvents", () -> buffer == null ? 0 : buffer.size());
    scoreLatencyMs = metrics.histogram("scoreLatencyMs", new DescriptiveStatisticsHistogram(10_000));
    metrics.gauge("modelVersion", () -> protocol.baseVersion());
    metrics.gauge("syncLagMs", () -> protocol.syncLagMs());
    metrics.gauge("syncBytesIn", () -> protocol.stats().bytesIn);
    metrics.gauge("syncBytesOut", () -> protocol.stats().bytesOut);
    metrics.gauge("checkpointStateBytes", () -> lastStateBytes);
    finalModels = new ListAccumulator<>();
    getRuntimeContext().addAccumulator(FINAL_MODELS_ACCUMULATOR, finalModels);
    firstEventMs = new LongMinimum();
    inputEndMs = new LongMaximum();
    getRuntimeContext().addAccumulator(FIRST_EVENT_ACCUMULATOR, firstEventMs);
    getRuntimeContext().addAccumulator(INPUT_END_ACCUMULATOR, inputEndMs);
    holdsTotal = new LongCounter();
    heldMsTotal = new LongCounter();
    getRuntimeContext().addAccumulator(STALENESS_HOLDS_ACCUMULATOR, holdsTotal);
    getRuntimeContext().addAccumulator(HELD_MS_ACCUMULATOR, heldMsTotal);
    int slots = 1;
    if (getRuntimeContext() instanceof org.apache.flink.streaming.api.operators.StreamingRuntimeContext r) {
      slots = r.getTaskManagerRuntimeInfo().getConfiguration()
          .get(org.apache.flink.configuration.TaskManagerOptions.NUM_TASK_SLOTS);
    }
    LOG.info("learner {}: {}", subtask, TaskManagerHeap.check(config, slots, Runtime.getRuntime().maxMemory()));
    trainBatch = new Batch(config.batch);
    scoreBatch = new Batch(config.batch);
    scoresOut = new float[config.batch];
    scoreCodec = SingleObjectCodec.of(ScoredEvent.class);
    if (config.jitWarmup) {
      // As learn does: compile the model's kernels on a throwaway model, so the first events are
      // not trained by the interpreter (which, measured, cost the job about 2 s of a 15 s run).
      var w = io.tinyrec.model.train.JitWarmup.run(config.model, config.batch);
      LOG.info("learner {}: JIT warm-up {} batches in {} s", subtask, w.batches(), String.format("%.2f", w.seconds()));
    }
  }


  // ---------------------------------------------------------------- events

  @Override
  public void processElement(TrainingEvent event, ReadOnlyContext ctx, Collector<LearnerUpdate> out) throws Exception {
    protocol.startIfFresh(System.currentTimeMillis());
    if (config.bounded && !endTimerRegistered) {
      // Fires when the bounded input ends: the watermark reaches its maximum only then. An
      // unbounded job never infers the end of its input, whatever its watermark does in a lull.
      ctx.timerService().registerEventTimeTimer(Long.MAX_VALUE);
      endTimerRegistered = true;
    }
    eventsPerSecond.markEvent();
    if (eventsSeen++ == 0) {
      firstEventMs.add(System.currentTimeMillis());
    }
    if (config.failAfterEvents >= 0 && attempt == 0 && subtask == 0 && checkpointsCompleted > 0
        && eventsSeen >= config.failAfterEvents) {
      throw new IllegalStateException("injected failure (test hook) after " + eventsSeen + " events");
    }
    if (buffer.isEmpty()) {
      bufferStartMs = System.currentTimeMillis();
    }
    buffer.add(event);
    if (config.maxWaitMs > 0 && waitTimerAt == Long.MIN_VALUE) {
      waitTimerAt = bufferStartMs + config.maxWaitMs;
      ctx.timerService().registerProcessingTimeTimer(waitTimerAt);
    }
    if (protocol.awaitingModel()) {
      requestModel(out); // buffered until the new epoch's model arrives; nothing is trained on a stale one
      return;
    }
    trainReady(k -> ctx.output(SCORES, k), out, false);
    ensureSyncTimer(ctx.timerService());
  }

  /** Asks the merger, once, for the new epoch's full model (it may have sent it already). */
  private void requestModel(Collector<LearnerUpdate> out) {
    LearnerUpdate u = protocol.requestFull();
    if (u != null) {
      out.collect(u);
    }
  }

  /** When the stream pauses, what was learned since the last update still reaches the merger. */
  private void ensureSyncTimer(TimerService timers) {
    if (!protocol.finished() && protocol.unsentEvents() > 0 && syncTimerAt == Long.MIN_VALUE) {
      syncTimerAt = Math.max(System.currentTimeMillis() + 1, protocol.lastSendMs() + config.syncIntervalMs);
      timers.registerProcessingTimeTimer(syncTimerAt);
    }
  }

  @Override
  public void onTimer(long timestamp, OnTimerContext ctx, Collector<LearnerUpdate> out) throws Exception {
    if (timestamp == Long.MAX_VALUE) {
      if (!config.bounded) {
        return; // a timer of a bounded run this unbounded one was restored from: the input has no end
      }
      inputEnded = true;
      if (protocol.awaitingModel()) {
        requestModel(out); // finishes once the model is there
      } else {
        finishInput(k -> ctx.output(SCORES, k), out);
      }
      return;
    }
    if (!protocol.ready()) {
      if (timestamp == waitTimerAt) {
        // The model is still on its way: look again later, so that the buffered events have a timer
        // when it has come (timers cannot be set from the broadcast side, where it arrives).
        waitTimerAt = System.currentTimeMillis() + config.maxWaitMs;
        ctx.timerService().registerProcessingTimeTimer(waitTimerAt);
      }
      return;
    }
    // Timers from before a restore match neither and are ignored; two of ours at the same
    // millisecond fire once, so both are checked.
    if (timestamp == waitTimerAt) {
      waitTimerAt = Long.MIN_VALUE;
      trainReady(k -> ctx.output(SCORES, k), out, false);
      if (!buffer.isEmpty()) {
        // Held back, or a partial batch not yet due: look again later.
        long now = System.currentTimeMillis();
        waitTimerAt = Math.max(now + 1, holding ? now + config.maxWaitMs : bufferStartMs + config.maxWaitMs);
        ctx.timerService().registerProcessingTimeTimer(waitTimerAt);
      }
      ensureSyncTimer(ctx.timerService()); // the partial batch just trained must reach the merger in a lull too
    }
    if (timestamp == syncTimerAt) {
      syncTimerAt = Long.MIN_VALUE;
      long now = System.currentTimeMillis();
      if (!protocol.finished() && protocol.sendDue(now, Integer.MAX_VALUE, config.syncIntervalMs)) {
        out.collect(protocol.send(false, now));
      }
      if (!protocol.finished() && protocol.unsentEvents() > 0) {
        syncTimerAt = Math.max(now + 1, protocol.lastSendMs() + config.syncIntervalMs);
        ctx.timerService().registerProcessingTimeTimer(syncTimerAt);
      }
    }
  }

  /** End of a bounded input: train what is left and send everything, in flight or not. */
  private void finishInput(Consumer<KafkaOut> scored, Collector<LearnerUpdate> out) {
    if (protocol.finished()) {
      return;
    }
    LOG.info("learner {}: input ended after {} events; sending its final update", subtask, eventsSeen);
    trainReady(scored, out, true);
    out.collect(protocol.send(true, System.currentTimeMillis()));
    inputEndMs.add(System.currentTimeMillis());
  }

  /** Most events a learner buffers while held back before it trains anyway (so it never stalls). */
  private int maxBuffered() {
    return Math.max(8 * config.batch, 4 * config.maxStaleness);
  }

  /**
   * Trains the buffered events batch by batch, oldest first: full batches, and a partial one once
   * its oldest event waited {@code maxWaitMs} (or {@code all}, at the end of the input). Stops while
   * bounded staleness holds the learner back, unless the buffer outgrew {@link #maxBuffered()}.
   */
  private void trainReady(Consumer<KafkaOut> scored, Collector<LearnerUpdate> out, boolean all) {
    trainReady(scored, out, all, false);
  }

  /**
   * As above; {@code fromBroadcast}: called where no timer can be set, so a partial batch with no
   * wait timer pending is due now (it would otherwise wait for the next event, in a lull forever).
   */
  private void trainReady(Consumer<KafkaOut> scored, Collector<LearnerUpdate> out, boolean all,
      boolean fromBroadcast) {
    while (!buffer.isEmpty()) {
      boolean held = !all && protocol.heldBack(config.maxStaleness);
      if (held && buffer.size() <= maxBuffered()) {
        if (!holding) {
          stalenessHolds.inc();
          holdsTotal.add(1L);
          holdStartMs = System.currentTimeMillis();
          holding = true;
        }
        return;
      }
      if (holding) {
        heldMsTotal.add(System.currentTimeMillis() - holdStartMs);
        holding = false;
      }
      if (held) {
        stalenessOverruns.inc();
      }
      boolean due = all || (config.maxWaitMs > 0 && (System.currentTimeMillis() - bufferStartMs >= config.maxWaitMs
          || fromBroadcast && waitTimerAt == Long.MIN_VALUE));
      if (buffer.size() < config.batch && !due) {
        return;
      }
      trainFront(scored, out, Math.min(config.batch, buffer.size()));
    }
  }

  /** Scores, emits and trains the first n buffered events, then sends an update if one is due. */
  private void trainFront(Consumer<KafkaOut> scored, Collector<LearnerUpdate> out, int n) {
    List<TrainingEvent> events = buffer.subList(0, n);
    trainBatch.clear();
    scoreBatch.clear();
    long latest = Long.MIN_VALUE;
    for (TrainingEvent e : events) {
      (e.hasLabel() ? trainBatch : scoreBatch).add(e.dense, e.cats, e.hasLabel() ? e.label : 0f);
      latest = Math.max(latest, e.eventTime);
    }
    long now = System.currentTimeMillis();
    if (trainBatch.size() > 0) {
      protocol.train(trainBatch, scoresOut);
      emitScores(scored, events, true, scoresOut, now);
    }
    if (scoreBatch.size() > 0) {
      protocol.score(scoreBatch, scoresOut);
      emitScores(scored, events, false, scoresOut, now);
    }
    if (restoredAtMs != 0) {
      LOG.info("learner {}: first batch since the restore trained, {} ms after the state was read", subtask,
          now - restoredAtMs);
      restoredAtMs = 0;
    }
    protocol.handled(n, latest);
    events.clear();
    if (!buffer.isEmpty()) {
      bufferStartMs = now; // the rest arrived later than the trained ones, so this is conservative
    }
    if (protocol.sendDue(now, config.syncEvery, config.syncIntervalMs)) {
      out.collect(protocol.send(false, now));
    }
  }

  private void emitScores(Consumer<KafkaOut> scored, List<TrainingEvent> events, boolean labelled, float[] scores,
      long now) {
    int i = 0;
    long version = protocol.baseVersion();
    for (TrainingEvent e : events) {
      if (e.hasLabel() != labelled) {
        continue;
      }
      float s = scores[i++];
      // The all-fields constructor: the builder validates and copies every field, per event.
      ScoredEvent se = new ScoredEvent(e.eventId, e.key, s, labelled ? e.label : null, version, e.eventTime, now);
      scored.accept(new KafkaOut(config.scoresTopic, KafkaOut.utf8(e.key), scoreCodec.encode(se)));
      scoreLatencyMs.update(Math.max(0, now - e.ingestTime));
    }
  }

  // ---------------------------------------------------------------- sync

  @Override
  public void processBroadcastElement(SyncMessage sync, Context ctx, Collector<LearnerUpdate> out) throws Exception {
    SyncLearner.Outcome outcome;
    try {
      outcome = protocol.onSync(sync, System.currentTimeMillis());
    } catch (IllegalStateException e) {
      // A model of another config: no restart can fix this, so fail the job at once, with the reason.
      throw new SuppressRestartsException(new IllegalStateException(e.getMessage() + ". Is another job using sync "
          + "topic '" + config.syncTopic + "'? Give each job its own topics", e));
    }
    switch (outcome) {
      case DROPPED -> {
        droppedSyncs.inc();
        return;
      }
      case RESUMED -> {
        List<LearnerUpdate> restored = protocol.takeResumed();
        restored.forEach(out::collect);
        LOG.info("learner {}: resumed at epoch {} version {}; {} restored update(s) sent, {} events buffered",
            subtask, sync.epoch, protocol.globalVersion(), restored.size(), buffer.size());
        afterSync(sync, ctx, out);
        if (!buffer.isEmpty() && !protocol.finished()) {
          trainReady(k -> ctx.output(SCORES, k), out, false, true);
        }
        return;
      }
      case ACKNOWLEDGED -> {
        if (!protocol.finished() && !buffer.isEmpty()) {
          // An acknowledgement may release a learner held back by staleness.
          trainReady(k -> ctx.output(SCORES, k), out, false, true);
        }
      }
      case APPLIED -> { }
    }
    afterSync(sync, ctx, out);
  }

  /**
   * After any sync message: report the final model of a bounded run, and finish a bounded input
   * that ended while this learner had no event to hear it with (its watermark says so; the merger
   * sends a full model when the input ends, so every learner gets here).
   */
  private void afterSync(SyncMessage sync, Context ctx, Collector<LearnerUpdate> out) {
    if (config.bounded && !protocol.finished() && (inputEnded || ctx.currentWatermark() == Long.MAX_VALUE)) {
      finishInput(k -> ctx.output(SCORES, k), out);
    }
    if (sync.last) {
      finalModels.add(subtask + ":" + protocol.globalVersion() + ":" + protocol.globalChecksum());
    }
  }

  // ---------------------------------------------------------------- checkpoints

  @Override
  public void notifyCheckpointComplete(long checkpointId) {
    checkpointsCompleted++;
  }

  @Override
  public void snapshotState(FunctionSnapshotContext ctx) throws Exception {
    checkpointed.clear();
    if (protocol.awaitingModel()) {
      // Restored and the model not here yet: keep each restored change as it was, and the events.
      for (UnsentWork w : protocol.restoredWork()) {
        checkpointed.add(writeState(w, List.of()));
      }
      if (!buffer.isEmpty()) {
        checkpointed.add(writeState(null, buffer));
      }
      return;
    }
    if (!protocol.ready()) {
      return; // nothing seen yet
    }
    checkpointed.add(writeState(protocol.unsentWork(), buffer));
    LOG.debug("learner {}: checkpoint {}: {} state bytes ({} buffered events)", subtask, ctx.getCheckpointId(),
        lastStateBytes, buffer.size());
  }

  /**
   * Version 1 of the learner state: magic, version; whether unsent work follows, and then the
   * {@link UnsentWork}; then the buffered events.
   */
  private byte[] writeState(UnsentWork w, List<TrainingEvent> events) throws IOException {
    ByteArrayOutputStream bytes = StateBytes.bufferFor(lastStateBytes);
    DataOutputStream o = new DataOutputStream(bytes);
    o.writeInt(STATE_MAGIC);
    o.writeInt(STATE_VERSION);
    o.writeBoolean(w != null);
    if (w != null) {
      w.writeTo(o);
    }
    o.writeInt(events.size());
    for (TrainingEvent e : events) {
      o.writeUTF(e.eventId);
      o.writeUTF(e.key);
      o.writeLong(e.eventTime);
      o.writeLong(e.ingestTime);
      o.writeInt(e.label);
      for (float x : e.dense) {
        o.writeFloat(x);
      }
      for (long c : e.cats) {
        o.writeLong(c);
      }
    }
    o.flush();
    lastStateBytes = bytes.size();
    return bytes.toByteArray();
  }

  /** Reads one state: appends its events to the buffer and returns its unsent work (empty if none). */
  private UnsentWork readState(byte[] state) throws IOException {
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(state));
    int magic = in.readInt();
    int version = in.readInt();
    if (magic != STATE_MAGIC || version != STATE_VERSION) {
      throw new SuppressRestartsException(new IllegalStateException(
          "learner state of an unknown format (magic " + Integer.toHexString(magic) + ", version " + version
              + "; this release reads version " + STATE_VERSION + "): the checkpoint was written by another "
              + "tinyrec release. Restore it with that release, or start without --restore-from"));
    }
    UnsentWork w = in.readBoolean() ? UnsentWork.readFrom(in, state.length) : UnsentWork.none();
    int n = in.readInt();
    for (int i = 0; i < n; i++) {
      TrainingEvent e = new TrainingEvent();
      e.eventId = in.readUTF();
      e.key = in.readUTF();
      e.eventTime = in.readLong();
      e.ingestTime = in.readLong();
      e.label = in.readInt();
      e.dense = new float[ModelConfig.NUM_DENSE];
      for (int j = 0; j < e.dense.length; j++) {
        e.dense[j] = in.readFloat();
      }
      e.cats = new long[ModelConfig.NUM_SPARSE];
      for (int j = 0; j < e.cats.length; j++) {
        e.cats[j] = in.readLong();
      }
      buffer.add(e);
    }
    return w;
  }
}
