package io.tinyrec.jobs.learner;

import io.tinyrec.jobs.StateBytes;
import io.tinyrec.jobs.TrainJobConfig;
import io.tinyrec.jobs.events.TrainingEvent;
import io.tinyrec.jobs.kafka.KafkaOut;
import io.tinyrec.jobs.kafka.SyncRecord;
import io.tinyrec.model.Batch;
import io.tinyrec.model.Dlrm;
import io.tinyrec.model.codec.SnapshotCodec;
import io.tinyrec.model.sync.ChunkDelta;
import io.tinyrec.model.sync.ModelTensors;
import io.tinyrec.schemas.ScoredEvent;
import io.tinyrec.schemas.SingleObjectCodec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.BasicTypeInfo;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.Meter;
import org.apache.flink.metrics.MeterView;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * One data-parallel learner. It holds a replica of the model, scores each micro-batch with it
 * (progressive validation: before any update the batch causes), emits the scores, then trains.
 *
 * <p>Sync: every {@code syncEvery} events (or {@code syncIntervalMs}) it sends the merger its change
 * since its last update ({@link ChunkDelta} with before-values) and keeps training; up to
 * {@link #MAX_IN_FLIGHT} updates may be on their way. When a sync message shows some of them
 * merged, it rebases: its replica becomes the new global model plus whatever it learned since the
 * newest merged update left ({@link ChunkDelta#rebase}); the replicas kept for updates still in
 * flight are moved the same way, so that their changes are never counted twice. Staleness is
 * bounded in events ({@link TrainJobConfig#maxStaleness}): a learner whose oldest unmerged update
 * left that many events ago buffers its events until the update comes back merged, so a slow round
 * trip through the merger and Kafka costs throughput rather than accuracy. With one learner
 * the merge and the rebase take every value as is, so the job trains exactly as {@code tinyrec
 * learn} does.
 *
 * <p>State: the global model arrives on the broadcast side and is identical on every learner,
 * because each applies the same messages in version order; it is not checkpointed here, since the
 * merger's checkpoint holds the same model and the merger sends it in full at the start of every
 * epoch. A learner checkpoints only what the merger has not seen: its change since its last update
 * (a {@link ChunkDelta} with before-values), the scores behind it, and its buffered events. Every
 * update sent before a checkpoint barrier reaches the merger before that barrier, so it is in the
 * merger's state (or, with unaligned checkpoints, in the channel state that Flink replays). After
 * a restore the learner waits for the new epoch's full model, adopts it, and sends each restored
 * change to the merger as an update of its own. The states are independent of the subtask that
 * wrote them, so a job restores with any number of learners: Flink hands each learner some of them.
 */
public final class Learner extends KeyedBroadcastProcessFunction<String, TrainingEvent, SyncRecord, LearnerUpdate>
    implements CheckpointedFunction, CheckpointListener {
  private static final long serialVersionUID = 1L;
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Learner.class);

  /**
   * The broadcast side's state descriptor. Sync messages are not kept in it: the merger's
   * checkpoint holds the model, and after a restore it sends the whole model again.
   */
  public static final MapStateDescriptor<String, SyncRecord> GLOBAL_MODEL =
      new MapStateDescriptor<>("global-model", BasicTypeInfo.STRING_TYPE_INFO, TypeInformation.of(SyncRecord.class));
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

  /** Updates a learner may have sent and not yet seen merged. */
  static final int MAX_IN_FLIGHT = 4;

  private final TrainJobConfig config;

  /** First int of a learner state; the version that follows it says how the rest is laid out. */
  static final int STATE_MAGIC = 0x544C524E; // "TLRN"
  static final int STATE_VERSION = 1;

  private transient ListState<byte[]> checkpointed;
  /**
   * Work restored from checkpoints and not yet handed to the merger: one entry per restored state.
   * Non-null from a restore until the new epoch's full model arrives.
   */
  private transient List<RestoredWork> restoredWork;
  /** Whether this learner asked the merger for the new epoch's full model. */
  private transient boolean fullRequested;
  /** A bounded input ended before the model was ready (after a restore): finish once it is. */
  private transient boolean inputEnded;
  /** When this learner's state was restored (wall-clock ms), until its first batch after it; 0 otherwise. */
  private transient long restoredAtMs;
  /** Bytes of the last checkpointed state, to size the next one's buffer. */
  private transient int lastStateBytes;
  private transient int subtask;
  private transient int attempt;
  private transient long minEpoch;

  // The model: the local replica, the global model, and the base the replica was built on.
  private transient Dlrm local;
  private transient ModelTensors localTensors;
  private transient Dlrm global;
  private transient ModelTensors globalTensors;
  private transient long globalVersion;
  private transient long globalEpoch;
  private transient ModelTensors base;
  private transient long baseVersion;
  // Updates in flight, oldest first: each with the replica as it was when it left. Sending does
  // not wait for the merger; at most MAX_IN_FLIGHT are outstanding.
  private transient long seq;
  private transient java.util.ArrayDeque<InFlight> inFlight;
  // Micro-batch and what the next update reports.
  private transient List<TrainingEvent> buffer;
  private transient long bufferStartMs;
  /** When the pending max-wait timer fires; Long.MIN_VALUE when none is pending. */
  private transient long waitTimerAt;
  /** When the pending idle-sync timer fires; Long.MIN_VALUE when none is pending. */
  private transient long syncTimerAt;
  private transient boolean endTimerRegistered;
  /** Events this learner trained (or scored) in all; in-flight updates record it when they leave. */
  private transient long eventsTrainedTotal;
  /** Whether the last check found the learner held back by {@link TrainJobConfig#maxStaleness}. */
  private transient boolean holding;
  /** When the current hold began (wall-clock ms), valid while holding. */
  private transient long holdStartMs;
  private transient FloatList pendingScores;
  private transient long pendingTrained;
  private transient long pendingSkipped;
  private transient long eventsSinceSend;
  private transient long lastSendMs;
  private transient long maxEventTime;
  private transient boolean finished;

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
  private transient volatile long syncLagMs;
  private transient org.apache.flink.api.common.accumulators.ListAccumulator<String> finalModels;
  private transient org.apache.flink.api.common.accumulators.LongMinimum firstEventMs;
  private transient org.apache.flink.api.common.accumulators.LongMaximum inputEndMs;
  private transient org.apache.flink.api.common.accumulators.LongCounter holdsTotal;
  private transient org.apache.flink.api.common.accumulators.LongCounter heldMsTotal;

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
    minEpoch = ctx.getRestoredCheckpointId().orElse(0L);
    buffer = new ArrayList<>();
    pendingScores = new FloatList();
    waitTimerAt = Long.MIN_VALUE;
    syncTimerAt = Long.MIN_VALUE;
    maxEventTime = Long.MIN_VALUE;
    restoredWork = null;
    if (ctx.isRestored()) {
      // Whatever the number of learners that wrote them, each state is work of its own.
      restoredWork = new ArrayList<>();
      for (byte[] s : checkpointed.get()) {
        restoredWork.add(readState(s));
      }
      bufferStartMs = System.currentTimeMillis();
      restoredAtMs = bufferStartMs;
      LOG.info("learner {}: restored {} state(s) with {} buffered events; waiting for the epoch {} model", subtask,
          restoredWork.size(), buffer.size(), minEpoch);
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
    metrics.gauge("modelVersion", () -> baseVersion);
    metrics.gauge("syncLagMs", () -> syncLagMs);
    metrics.gauge("checkpointStateBytes", () -> lastStateBytes);
    finalModels = new org.apache.flink.api.common.accumulators.ListAccumulator<>();
    getRuntimeContext().addAccumulator(FINAL_MODELS_ACCUMULATOR, finalModels);
    firstEventMs = new org.apache.flink.api.common.accumulators.LongMinimum();
    inputEndMs = new org.apache.flink.api.common.accumulators.LongMaximum();
    getRuntimeContext().addAccumulator(FIRST_EVENT_ACCUMULATOR, firstEventMs);
    getRuntimeContext().addAccumulator(INPUT_END_ACCUMULATOR, inputEndMs);
    holdsTotal = new org.apache.flink.api.common.accumulators.LongCounter();
    heldMsTotal = new org.apache.flink.api.common.accumulators.LongCounter();
    getRuntimeContext().addAccumulator(STALENESS_HOLDS_ACCUMULATOR, holdsTotal);
    getRuntimeContext().addAccumulator(HELD_MS_ACCUMULATOR, heldMsTotal);
    checkHeap();
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

  /** Copies of the model a learner holds at most: replica, global, base, in flight, checkpoint buffers. */
  static final int MODEL_COPIES_PER_LEARNER = 10;
  /** ... and the merger: its model, full-model and snapshot encodings, checkpoint buffers. */
  static final int MODEL_COPIES_PER_MERGER = 4;

  /**
   * Fails the job at once, saying what to set, when this TaskManager's heap cannot hold a learner
   * in every slot (and the merger) with the headroom the garbage collector needs. Measured on the
   * kaggle preset (12.8 MB of weights and Adagrad state): two learners and the merger on one
   * TaskManager keep about 360 MB live; Flink's default TaskManager has a 512 MB heap and ran out of
   * it, with 896 MB (managed fraction 0.1) it ran.
   */
  private void checkHeap() {
    long model = io.tinyrec.jobs.TrainJob.fullModelBytes(config);
    int slots = 1;
    if (getRuntimeContext() instanceof org.apache.flink.streaming.api.operators.StreamingRuntimeContext s) {
      slots = s.getTaskManagerRuntimeInfo().getConfiguration()
          .get(org.apache.flink.configuration.TaskManagerOptions.NUM_TASK_SLOTS);
    }
    int learnersHere = Math.min(slots, config.learners);
    long need = (long) learnersHere * MODEL_COPIES_PER_LEARNER * model + MODEL_COPIES_PER_MERGER * model
        + (96L << 20);
    long heap = Runtime.getRuntime().maxMemory();
    long wanted = need * 10 / 7; // G1 needs headroom: about 70% of the heap live at most
    LOG.info("learner {}: model {} MB; this TaskManager has {} MB of heap for {} slot(s); about {} MB needed",
        subtask, model >> 20, heap >> 20, slots, wanted >> 20);
    if (wanted > heap) {
      throw new org.apache.flink.runtime.execution.SuppressRestartsException(new IllegalStateException(String.format(
          "this TaskManager's heap (%d MB for %d slot(s)) is too small for %d learner(s) of this model: each holds "
              + "about %d copies of its %d MB of weights and optimizer state, and the merger %d. Give each "
              + "TaskManager at least %d MB of heap: set taskmanager.memory.task.heap.size: %dm, or "
              + "taskmanager.memory.managed.fraction: 0.1 (the hashmap state backend keeps state on the heap and "
              + "uses no managed memory), or give TaskManagers fewer slots", heap >> 20, slots, learnersHere,
          MODEL_COPIES_PER_LEARNER, model >> 20, MODEL_COPIES_PER_MERGER, wanted >> 20, (wanted >> 20) + 64)));
    }
  }

  // ---------------------------------------------------------------- model lifecycle

  /** Whether this learner was restored and still waits for the new epoch's full model. */
  private boolean awaitingModel() {
    return restoredWork != null;
  }

  /** A fresh start: the replica, the global model and the base are the config's initial model. */
  private void startFresh() {
    global = new Dlrm(config.model);
    globalTensors = ModelTensors.of(global);
    globalVersion = 0;
    globalEpoch = 0;
    local = new Dlrm(config.model);
    localTensors = ModelTensors.of(local);
    base = globalTensors.copy();
    baseVersion = globalVersion;
    seq = -1;
    inFlight = new java.util.ArrayDeque<>();
    lastSendMs = System.currentTimeMillis();
  }

  /**
   * After a restore, with the new epoch's full model installed as the global model: the replica
   * becomes that model with every restored change merged in, and each restored change goes to the
   * merger as an update (with the scores and counts behind it), in flight like any other.
   */
  private void resumeFromRestore(Collector<LearnerUpdate> out) {
    local = new Dlrm(config.model);
    localTensors = ModelTensors.of(local);
    localTensors.setFrom(globalTensors);
    base = globalTensors.copy();
    baseVersion = globalVersion;
    seq = -1;
    inFlight = new java.util.ArrayDeque<>();
    lastSendMs = System.currentTimeMillis();
    for (RestoredWork w : restoredWork) {
      ChunkDelta change = ChunkDelta.decode(w.delta(), localTensors);
      if (change.isEmpty() && w.scores().length == 0 && w.trained() == 0 && w.skipped() == 0) {
        continue;
      }
      // Three-way, as the merger does: with one learner the global model equals the change's
      // before-values, so the replica takes its after-values exactly.
      change.mergeInto(localTensors);
      local.weightsChangedInPlace();
      LearnerUpdate u = newUpdate();
      u.seq = ++seq;
      u.delta = w.delta();
      u.scores = w.scores();
      u.labels = w.labels();
      u.eventsTrained = w.trained();
      u.skippedUpdates = w.skipped();
      u.maxEventTime = w.maxEventTime();
      maxEventTime = Math.max(maxEventTime, w.maxEventTime());
      out.collect(u);
      inFlight.addLast(new InFlight(u.seq, localTensors.copy(), lastSendMs, eventsTrainedTotal));
    }
    LOG.info("learner {}: resumed at epoch {} version {}; {} restored update(s) sent, {} events buffered", subtask,
        globalEpoch, globalVersion, inFlight.size(), buffer.size());
    restoredWork = null;
  }

  private LearnerUpdate newUpdate() {
    LearnerUpdate u = new LearnerUpdate();
    u.learner = subtask;
    u.epoch = minEpoch;
    u.delta = EMPTY;
    u.scores = new float[0];
    u.labels = new byte[0];
    u.maxEventTime = Long.MIN_VALUE;
    return u;
  }

  private static final byte[] EMPTY = new byte[0];

  /** Asks the merger, once, for the new epoch's full model (it may have sent it already). */
  private void requestModel(Collector<LearnerUpdate> out) {
    if (!fullRequested) {
      LearnerUpdate u = newUpdate();
      u.seq = -1;
      u.requestsFull = true;
      out.collect(u);
      fullRequested = true;
    }
  }

  private void installFull(SyncRecord full) {
    global = SnapshotCodec.decode(full.payload);
    if (!global.config().equals(config.model)) {
      // No restart can fix this: fail the job at once, with the reason.
      throw new org.apache.flink.runtime.execution.SuppressRestartsException(new IllegalStateException(
          "the sync topic carries a model of another config: " + global.config() + " (this job: " + config.model
              + "). Is another job using sync topic '" + config.syncTopic + "'? Give each job its own topics"));
    }
    globalTensors = ModelTensors.of(global);
    globalVersion = full.version;
    globalEpoch = full.epoch;
  }

  // ---------------------------------------------------------------- events

  @Override
  public void processElement(TrainingEvent event, ReadOnlyContext ctx, Collector<LearnerUpdate> out) throws Exception {
    if (local == null && !awaitingModel()) {
      startFresh();
    }
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
    if (awaitingModel()) {
      requestModel(out); // buffered until the new epoch's model arrives; nothing is trained on a stale one
      return;
    }
    trainReady(k -> ctx.output(SCORES, k), out, false);
    ensureSyncTimer(ctx.timerService());
  }

  /** When the stream pauses, what was learned since the last update still reaches the merger. */
  private void ensureSyncTimer(org.apache.flink.streaming.api.TimerService timers) {
    if (!finished && eventsSinceSend > 0 && syncTimerAt == Long.MIN_VALUE) {
      syncTimerAt = Math.max(System.currentTimeMillis() + 1, lastSendMs + config.syncIntervalMs);
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
      if (awaitingModel()) {
        requestModel(out); // finishes once the model is there
      } else {
        finishInput(k -> ctx.output(SCORES, k), out);
      }
      return;
    }
    if (local == null) {
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
      if (!finished && eventsSinceSend > 0 && now - lastSendMs >= config.syncIntervalMs
          && inFlight.size() < MAX_IN_FLIGHT) {
        send(out, false);
      }
      if (!finished && eventsSinceSend > 0) {
        syncTimerAt = Math.max(now + 1, lastSendMs + config.syncIntervalMs);
        ctx.timerService().registerProcessingTimeTimer(syncTimerAt);
      }
    }
  }

  /** End of a bounded input: train what is left and send everything, in flight or not. */
  private void finishInput(java.util.function.Consumer<KafkaOut> scored, Collector<LearnerUpdate> out) {
    if (finished) {
      return;
    }
    LOG.info("learner {}: input ended after {} events; sending its final update", subtask, eventsSeen);
    trainReady(scored, out, true);
    send(out, true);
    finished = true;
    inputEndMs.add(System.currentTimeMillis());
  }

  /**
   * Whether bounded staleness holds this learner back: its oldest update not yet merged left
   * {@code maxStaleness} or more events ago.
   */
  private boolean heldBack() {
    return config.maxStaleness > 0 && !inFlight.isEmpty()
        && eventsTrainedTotal - inFlight.peekFirst().eventsAtSend() >= config.maxStaleness;
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
  private void trainReady(java.util.function.Consumer<KafkaOut> scored, Collector<LearnerUpdate> out, boolean all) {
    trainReady(scored, out, all, false);
  }

  /**
   * As above; {@code fromBroadcast}: called where no timer can be set, so a partial batch with no
   * wait timer pending is due now (it would otherwise wait for the next event, in a lull forever).
   */
  private void trainReady(java.util.function.Consumer<KafkaOut> scored, Collector<LearnerUpdate> out, boolean all,
      boolean fromBroadcast) {
    while (!buffer.isEmpty()) {
      boolean held = !all && heldBack();
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
  private void trainFront(java.util.function.Consumer<KafkaOut> scored, Collector<LearnerUpdate> out, int n) {
    List<TrainingEvent> events = buffer.subList(0, n);
    trainBatch.clear();
    scoreBatch.clear();
    for (TrainingEvent e : events) {
      (e.hasLabel() ? trainBatch : scoreBatch).add(e.dense, e.cats, e.hasLabel() ? e.label : 0f);
    }
    long now = System.currentTimeMillis();
    if (trainBatch.size() > 0) {
      boolean applied = local.trainStepInPlace(trainBatch, scoresOut);
      if (applied) {
        pendingTrained += trainBatch.size();
      } else {
        pendingSkipped++;
      }
      emitScores(scored, events, true, scoresOut, now);
    }
    if (scoreBatch.size() > 0) {
      local.score(scoreBatch, scoresOut);
      emitScores(scored, events, false, scoresOut, now);
    }
    if (restoredAtMs != 0) {
      LOG.info("learner {}: first batch since the restore trained, {} ms after the state was read", subtask,
          now - restoredAtMs);
      restoredAtMs = 0;
    }
    eventsSinceSend += n;
    eventsTrainedTotal += n;
    events.clear();
    if (!buffer.isEmpty()) {
      bufferStartMs = now; // the rest arrived later than the trained ones, so this is conservative
    }
    if (inFlight.size() < MAX_IN_FLIGHT
        && (eventsSinceSend >= config.syncEvery || now - lastSendMs >= config.syncIntervalMs)) {
      send(out, false);
    }
  }

  private void emitScores(java.util.function.Consumer<KafkaOut> scored, List<TrainingEvent> events, boolean labelled,
      float[] scores, long now) {
    int i = 0;
    for (TrainingEvent e : events) {
      if (e.hasLabel() != labelled) {
        continue;
      }
      float s = scores[i++];
      if (labelled) {
        pendingScores.add(s, e.label);
      }
      maxEventTime = Math.max(maxEventTime, e.eventTime);
      // The all-fields constructor: the builder validates and copies every field, per event.
      ScoredEvent se = new ScoredEvent(e.eventId, e.key, s, labelled ? e.label : null, baseVersion, e.eventTime, now);
      scored.accept(new KafkaOut(config.scoresTopic, KafkaOut.utf8(e.key), scoreCodec.encode(se)));
      scoreLatencyMs.update(Math.max(0, now - e.ingestTime));
    }
  }

  /** Sends the change since the last update left (or since the base, with none in flight). */
  private void send(Collector<LearnerUpdate> out, boolean last) {
    ModelTensors from = inFlight.isEmpty() ? base : inFlight.peekLast().sentPoint;
    ChunkDelta delta = ChunkDelta.between(from, localTensors, true);
    if (localTensors.lines() != null) {
      localTensors.lines().clearDirty(); // a quantized replica's changes so far are in this update
    }
    LearnerUpdate u = newUpdate();
    u.seq = ++seq;
    u.delta = delta.encode();
    u.scores = pendingScores.scores();
    u.labels = pendingScores.labels();
    u.eventsTrained = pendingTrained;
    u.skippedUpdates = pendingSkipped;
    u.maxEventTime = maxEventTime;
    u.last = last;
    out.collect(u);
    pendingScores.clear();
    pendingTrained = 0;
    pendingSkipped = 0;
    eventsSinceSend = 0;
    lastSendMs = System.currentTimeMillis();
    inFlight.addLast(new InFlight(u.seq, localTensors.copy(), lastSendMs, eventsTrainedTotal));
  }

  /**
   * An update on its way to the merger: its number, the replica when it left, when, and how many
   * events this learner had trained by then.
   */
  private record InFlight(long seq, ModelTensors sentPoint, long sentAtMs, long eventsAtSend) {}

  // ---------------------------------------------------------------- sync

  @Override
  public void processBroadcastElement(SyncRecord sync, Context ctx, Collector<LearnerUpdate> out) throws Exception {
    if (sync.epoch < Math.max(globalEpoch, minEpoch)) {
      droppedSyncs.inc(); // from before the merger's last restore
      return;
    }
    if (local == null) {
      if (!awaitingModel()) {
        startFresh();
      } else if (!sync.full) {
        droppedSyncs.inc(); // restored: only the new epoch's full model can be the base
        return;
      } else {
        installFull(sync);
        resumeFromRestore(out);
        afterSync(sync, ctx, out);
        if (!buffer.isEmpty() && !finished) {
          trainReady(k -> ctx.output(SCORES, k), out, false, true);
        }
        return;
      }
    }
    ModelTensors previousGlobal = null;
    ChunkDelta change = null;
    ChunkDelta previousValues = null;
    if (sync.full) {
      previousGlobal = globalTensors;
      installFull(sync);
    } else if (sync.epoch == globalEpoch && sync.baseVersion == globalVersion) {
      change = ChunkDelta.decode(sync.payload, globalTensors);
      previousValues = change.valuesIn(globalTensors);
      change.overwrite(globalTensors);
      global.weightsChangedInPlace();
      globalVersion = sync.version;
    } else {
      droppedSyncs.inc(); // a delta that does not follow our version: wait for the next full model
      return;
    }
    if (finished) {
      afterSync(sync, ctx, out);
      return;
    }
    long merged = sync.mergedSeqOf(subtask);
    InFlight newest = null;
    while (!inFlight.isEmpty() && inFlight.peekFirst().seq() <= merged) {
      newest = inFlight.pollFirst();
    }
    if (newest != null) {
      ChunkDelta.rebase(localTensors, newest.sentPoint(), globalTensors);
      for (InFlight f : inFlight) {
        ChunkDelta.rebase(f.sentPoint(), newest.sentPoint(), globalTensors);
      }
      syncLagMs = System.currentTimeMillis() - newest.sentAtMs();
    } else if (inFlight.isEmpty()) {
      ChunkDelta.rebase(localTensors, base, globalTensors);
    } else {
      // None of our updates is in this version: it brings other learners' changes only. Take them
      // now rather than at the next acknowledgement, into the replica and every replica kept for
      // an update in flight alike, so a later rebase still tells our changes from theirs.
      if (change != null) {
        change.rebaseChunks(localTensors, previousValues);
        for (InFlight f : inFlight) {
          change.rebaseChunks(f.sentPoint(), previousValues);
        }
      } else {
        ChunkDelta.rebase(localTensors, previousGlobal, globalTensors);
        for (InFlight f : inFlight) {
          ChunkDelta.rebase(f.sentPoint(), previousGlobal, globalTensors);
        }
      }
      local.weightsChangedInPlace();
      afterSync(sync, ctx, out);
      return;
    }
    local.weightsChangedInPlace();
    base.setFrom(globalTensors);
    baseVersion = globalVersion;
    if (newest != null && !buffer.isEmpty()) {
      // An acknowledgement may release a learner held back by staleness.
      trainReady(k -> ctx.output(SCORES, k), out, false, true);
    }
    afterSync(sync, ctx, out);
  }

  /**
   * After any sync message: report the final model of a bounded run, and finish a bounded input
   * that ended while this learner had no event to hear it with (its watermark says so; the merger
   * sends a full model when the input ends, so every learner gets here).
   */
  private void afterSync(SyncRecord sync, Context ctx, Collector<LearnerUpdate> out) {
    if (config.bounded && !finished && (inputEnded || ctx.currentWatermark() == Long.MAX_VALUE)) {
      finishInput(k -> ctx.output(SCORES, k), out);
    }
    if (sync.last) {
      finalModels.add(subtask + ":" + globalVersion + ":" + globalTensors.checksum());
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
    if (awaitingModel()) {
      // Restored and the model not here yet: keep each restored change as it was, and the events.
      for (RestoredWork w : restoredWork) {
        checkpointed.add(writeState(w, List.of()));
      }
      if (!buffer.isEmpty()) {
        checkpointed.add(writeState(null, buffer));
      }
      return;
    }
    if (local == null) {
      return; // nothing seen yet
    }
    // What the merger has not seen: the change since the last update left (or since the base).
    ModelTensors from = inFlight.isEmpty() ? base : inFlight.peekLast().sentPoint();
    RestoredWork unsent = new RestoredWork(ChunkDelta.between(from, localTensors, true).encode(),
        pendingScores.scores(), pendingScores.labels(), pendingTrained, pendingSkipped, maxEventTime);
    checkpointed.add(writeState(unsent, buffer));
    LOG.debug("learner {}: checkpoint {}: {} state bytes ({} buffered events)", subtask, ctx.getCheckpointId(),
        lastStateBytes, buffer.size());
  }

  /**
   * Version 1 of the learner state: magic, version; whether a change follows, and then the encoded
   * ChunkDelta, the scores and labels behind it, events trained, updates skipped and the latest
   * event time; then the buffered events.
   */
  private byte[] writeState(RestoredWork w, List<TrainingEvent> events) throws IOException {
    ByteArrayOutputStream bytes = StateBytes.bufferFor(lastStateBytes);
    DataOutputStream o = new DataOutputStream(bytes);
    o.writeInt(STATE_MAGIC);
    o.writeInt(STATE_VERSION);
    o.writeBoolean(w != null);
    if (w != null) {
      writeBytes(o, w.delta());
      o.writeInt(w.scores().length);
      for (int i = 0; i < w.scores().length; i++) {
        o.writeFloat(w.scores()[i]);
        o.writeByte(w.labels()[i]);
      }
      o.writeLong(w.trained());
      o.writeLong(w.skipped());
      o.writeLong(w.maxEventTime());
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

  /** Reads one state: appends its events to the buffer and returns its change (empty if none). */
  private RestoredWork readState(byte[] state) throws IOException {
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(state));
    int magic = in.readInt();
    int version = in.readInt();
    if (magic != STATE_MAGIC || version != STATE_VERSION) {
      throw new org.apache.flink.runtime.execution.SuppressRestartsException(new IllegalStateException(
          "learner state of an unknown format (magic " + Integer.toHexString(magic) + ", version " + version
              + "; this release reads version " + STATE_VERSION + "): the checkpoint was written by another "
              + "tinyrec release. Restore it with that release, or start without --restore-from"));
    }
    RestoredWork w = new RestoredWork(EMPTY, new float[0], new byte[0], 0, 0, Long.MIN_VALUE);
    if (in.readBoolean()) {
      byte[] delta = readBytes(in);
      int n = in.readInt();
      float[] scores = new float[n];
      byte[] labels = new byte[n];
      for (int i = 0; i < n; i++) {
        scores[i] = in.readFloat();
        labels[i] = in.readByte();
      }
      w = new RestoredWork(delta, scores, labels, in.readLong(), in.readLong(), in.readLong());
    }
    int n = in.readInt();
    for (int i = 0; i < n; i++) {
      TrainingEvent e = new TrainingEvent();
      e.eventId = in.readUTF();
      e.key = in.readUTF();
      e.eventTime = in.readLong();
      e.ingestTime = in.readLong();
      e.label = in.readInt();
      e.dense = new float[io.tinyrec.model.ModelConfig.NUM_DENSE];
      for (int j = 0; j < e.dense.length; j++) {
        e.dense[j] = in.readFloat();
      }
      e.cats = new long[io.tinyrec.model.ModelConfig.NUM_SPARSE];
      for (int j = 0; j < e.cats.length; j++) {
        e.cats[j] = in.readLong();
      }
      buffer.add(e);
    }
    return w;
  }

  /**
   * A change the merger had not seen when the checkpoint was taken (the encoded ChunkDelta may be
   * empty of chunks), with the scores, labels and counts of the events behind it.
   */
  record RestoredWork(byte[] delta, float[] scores, byte[] labels, long trained, long skipped, long maxEventTime) {}

  private static void writeBytes(DataOutputStream o, byte[] b) throws IOException {
    o.writeInt(b.length);
    o.write(b);
  }

  private static byte[] readBytes(DataInputStream in) throws IOException {
    byte[] b = new byte[in.readInt()];
    in.readFully(b);
    return b;
  }

  /** Scores and labels of the labelled events since the last update, in a growable pair of arrays. */
  static final class FloatList {
    private float[] scores = new float[1024];
    private byte[] labels = new byte[1024];
    private int size;

    void add(float score, int label) {
      if (size == scores.length) {
        scores = Arrays.copyOf(scores, size * 2);
        labels = Arrays.copyOf(labels, size * 2);
      }
      scores[size] = score;
      labels[size] = (byte) label;
      size++;
    }

    float[] scores() {
      return Arrays.copyOf(scores, size);
    }

    byte[] labels() {
      return Arrays.copyOf(labels, size);
    }

    void clear() {
      size = 0;
    }

    void writeTo(DataOutputStream o) throws IOException {
      o.writeInt(size);
      for (int i = 0; i < size; i++) {
        o.writeFloat(scores[i]);
        o.writeByte(labels[i]);
      }
    }

    void readFrom(DataInputStream in) throws IOException {
      clear();
      int n = in.readInt();
      for (int i = 0; i < n; i++) {
        add(in.readFloat(), in.readByte());
      }
    }
  }
}
