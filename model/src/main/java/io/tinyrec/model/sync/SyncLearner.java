package io.tinyrec.model.sync;

import io.tinyrec.model.Batch;
import io.tinyrec.model.Dlrm;
import io.tinyrec.model.ModelConfig;
import io.tinyrec.model.codec.SnapshotCodec;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One learner's half of the sync protocol, without Flink or Kafka: a replica of the model that
 * trains and scores batches, the updates it sends the merger, and what it does with each sync
 * message.
 *
 * <p>An update is the replica's change since the previous update left ({@link ChunkDelta} with
 * before-values), with the scores and labels of the events behind it. Sending does not wait for
 * the merger: up to {@link #MAX_IN_FLIGHT} updates may be on their way, each kept with the replica
 * as it was when it left. When a message shows some of them merged, the learner rebases: its
 * replica becomes the new global model plus whatever it learned since the newest merged update
 * left ({@link ChunkDelta#rebase}); the replicas kept for updates still in flight move the same
 * way, so their changes are never counted twice. A message that acknowledges none of them brings
 * other learners' changes only: the replica and every kept replica take them at once, chunk by
 * chunk ({@link ChunkDelta#rebaseChunks}). With one learner the merge and the rebase take every
 * value as is, so the job trains exactly as {@code tinyrec learn} does.
 *
 * <p>The global model is identical on every learner, since each applies the same messages in
 * version order. A fresh learner starts from the config's initial model (version 0); a restored
 * one ({@link #restored}) waits for the new epoch's whole model, adopts it, and sends each restored
 * change as an update of its own. Messages of an earlier epoch are dropped.
 */
public final class SyncLearner {
  /** Updates a learner may have sent and not yet seen merged. */
  public static final int MAX_IN_FLIGHT = 4;

  private final ModelConfig config;
  private final int learner;
  private final long epoch;

  private Dlrm local;
  private ModelTensors localTensors;
  private Dlrm global;
  private ModelTensors globalTensors;
  private long globalVersion;
  private long globalEpoch;
  private ModelTensors base;
  private long baseVersion;
  private long seq = -1;
  private final ArrayDeque<InFlight> inFlight = new ArrayDeque<>();
  /** Replicas kept for updates since acknowledged, reused for the next ones (each is a whole model). */
  private final ArrayDeque<ModelTensors> spare = new ArrayDeque<>();
  /** Restored work not yet sent; non-null from a restore until the epoch's whole model arrives. */
  private List<UnsentWork> restoredWork;
  private boolean fullRequested;
  private boolean finished;

  private final ScoreLog pendingScores = new ScoreLog();
  private long pendingTrained;
  private long pendingSkipped;
  private long eventsSinceSend;
  private long eventsTrainedTotal;
  private long maxEventTime = Long.MIN_VALUE;
  private long lastSendMs;
  private long syncLagMs;
  private long droppedMessages;
  private final SyncStats stats = new SyncStats();

  /** A learner that starts from the config's initial model when it first trains or hears from the merger. */
  public SyncLearner(ModelConfig config, int learner, long epoch) {
    this.config = config;
    this.learner = learner;
    this.epoch = epoch;
  }

  /**
   * A learner restored from checkpoints: it holds {@code work} until the epoch's whole model
   * arrives, then sends each as an update.
   */
  public static SyncLearner restored(ModelConfig config, int learner, long epoch, List<UnsentWork> work) {
    SyncLearner l = new SyncLearner(config, learner, epoch);
    l.restoredWork = new ArrayList<>(work);
    return l;
  }

  /** Whether the learner has a model to train (it started fresh, or got its epoch's model after a restore). */
  public boolean ready() {
    return local != null;
  }

  /** Restored, and the epoch's whole model not here yet. */
  public boolean awaitingModel() {
    return restoredWork != null;
  }

  /** Starts from the config's initial model, if not started and not restored. */
  public void startIfFresh(long nowMs) {
    if (local != null || awaitingModel()) {
      return;
    }
    global = new Dlrm(config);
    globalTensors = ModelTensors.of(global);
    globalVersion = 0;
    globalEpoch = 0;
    local = new Dlrm(config);
    localTensors = ModelTensors.of(local);
    base = globalTensors.copy();
    baseVersion = 0;
    lastSendMs = nowMs;
  }

  // ---------------------------------------------------------------- training

  /**
   * Trains one labelled batch and leaves its scores (made before the update: progressive
   * validation) in {@code scores}; they and the labels go with the next update.
   */
  public void train(Batch batch, float[] scores) {
    if (local.trainStepInPlace(batch, scores)) {
      pendingTrained += batch.size();
    } else {
      pendingSkipped++; // a non-finite loss or gradient: the batch's update was skipped
    }
    for (int i = 0; i < batch.size(); i++) {
      pendingScores.add(scores[i], batch.label(i) > 0.5f ? 1 : 0);
    }
  }

  /** Scores a batch without labels. */
  public void score(Batch batch, float[] scores) {
    local.score(batch, scores);
  }

  /** Counts n events (labelled or not) as handled, for the sync period and staleness; and their latest event time. */
  public void handled(int n, long latestEventTime) {
    eventsSinceSend += n;
    eventsTrainedTotal += n;
    maxEventTime = Math.max(maxEventTime, latestEventTime);
  }

  /**
   * Whether bounded staleness holds this learner back: its oldest update not yet merged left
   * {@code maxStaleness} or more events ago (0: never).
   */
  public boolean heldBack(int maxStaleness) {
    return maxStaleness > 0 && !inFlight.isEmpty()
        && eventsTrainedTotal - inFlight.peekFirst().eventsAtSend() >= maxStaleness;
  }

  // ---------------------------------------------------------------- updates

  /** An update is due: room in flight, and {@code syncEvery} events or {@code syncIntervalMs} since the last. */
  public boolean sendDue(long nowMs, int syncEvery, long syncIntervalMs) {
    return canSend() && eventsSinceSend > 0 && (eventsSinceSend >= syncEvery || nowMs - lastSendMs >= syncIntervalMs);
  }

  public boolean canSend() {
    return inFlight.size() < MAX_IN_FLIGHT;
  }

  /** Events handled since the last update left. */
  public long unsentEvents() {
    return eventsSinceSend;
  }

  public long lastSendMs() {
    return lastSendMs;
  }

  /** The change since the last update left (or since the base, with none in flight), as the next update. */
  public LearnerUpdate send(boolean last, long nowMs) {
    long t0 = SyncStats.cpuNanos();
    ModelTensors from = inFlight.isEmpty() ? base : inFlight.peekLast().sentPoint();
    byte[] delta = ChunkDelta.encodeBetween(from, localTensors, true);
    if (localTensors.lines() != null) {
      localTensors.lines().clearDirty(); // a quantized replica's changes so far are in this update
    }
    LearnerUpdate u = newUpdate();
    u.seq = ++seq;
    u.delta = delta;
    u.scores = pendingScores.scores();
    u.labels = pendingScores.labels();
    u.eventsTrained = pendingTrained;
    u.skippedUpdates = pendingSkipped;
    u.maxEventTime = maxEventTime;
    u.last = last;
    pendingScores.clear();
    pendingTrained = 0;
    pendingSkipped = 0;
    eventsSinceSend = 0;
    lastSendMs = nowMs;
    inFlight.addLast(new InFlight(u.seq, copyOfReplica(), nowMs, eventsTrainedTotal));
    if (last) {
      finished = true;
    }
    stats.messages++;
    stats.bytesOut += u.delta.length;
    stats.eventsTrained += u.eventsTrained;
    stats.mergeNanos += SyncStats.cpuNanos() - t0;
    return u;
  }

  private ModelTensors copyOfReplica() {
    ModelTensors t = spare.pollFirst();
    if (t == null) {
      return localTensors.copy();
    }
    t.setFrom(localTensors);
    return t;
  }

  /** The final update has left: later messages only move the global model. */
  public boolean finished() {
    return finished;
  }

  /** Asks the merger for the epoch's whole model, once (null if already asked). */
  public LearnerUpdate requestFull() {
    if (fullRequested) {
      return null;
    }
    fullRequested = true;
    LearnerUpdate u = newUpdate();
    u.seq = -1;
    u.requestsFull = true;
    return u;
  }

  private LearnerUpdate newUpdate() {
    LearnerUpdate u = new LearnerUpdate();
    u.learner = learner;
    u.epoch = epoch;
    u.delta = new byte[0];
    u.scores = new float[0];
    u.labels = new byte[0];
    u.maxEventTime = Long.MIN_VALUE;
    return u;
  }

  // ---------------------------------------------------------------- sync messages

  /** What a sync message did. */
  public enum Outcome {
    /** From an earlier epoch, or a delta that does not follow this learner's version: ignored. */
    DROPPED,
    /** Moved the global model (and the replica); none of this learner's updates was in it. */
    APPLIED,
    /** Acknowledged some of this learner's updates: a learner held back by staleness may go on. */
    ACKNOWLEDGED,
    /** The epoch's whole model after a restore: the learner can train; {@link #takeResumed()} holds its restored updates. */
    RESUMED
  }

  private List<LearnerUpdate> resumed = List.of();

  /** The restored updates to send after {@link Outcome#RESUMED}, once. */
  public List<LearnerUpdate> takeResumed() {
    List<LearnerUpdate> r = resumed;
    resumed = List.of();
    return r;
  }

  /**
   * Applies one sync message. {@code mergedSeq} in it acknowledges this learner's updates; the
   * global model moves to its version; the replica follows, keeping this learner's unmerged work.
   * Throws IllegalStateException if a whole model of another config arrives.
   */
  public Outcome onSync(SyncMessage m, long nowMs) {
    long t0 = SyncStats.cpuNanos();
    stats.bytesIn += m.payload.length;
    try {
      return apply(m, nowMs);
    } finally {
      stats.publishNanos += SyncStats.cpuNanos() - t0;
    }
  }

  private Outcome apply(SyncMessage m, long nowMs) {
    if (m.epoch < Math.max(globalEpoch, epoch)) {
      droppedMessages++; // from before the merger's last restore
      return Outcome.DROPPED;
    }
    if (local == null) {
      if (!awaitingModel()) {
        startIfFresh(nowMs);
      } else if (!m.full) {
        droppedMessages++; // restored: only the epoch's whole model can be the base
        return Outcome.DROPPED;
      } else {
        installFull(m);
        resumeFromRestore(nowMs);
        return Outcome.RESUMED;
      }
    }
    long merged = m.mergedSeqOf(learner);
    // The replica follows chunk by chunk only when none of its updates in flight is acknowledged.
    boolean followsChunks = !finished && !inFlight.isEmpty() && merged < inFlight.peekFirst().seq();
    ModelTensors previousGlobal = null;
    ChunkDelta change = null;
    ChunkDelta previousValues = null;
    if (m.full) {
      previousGlobal = globalTensors;
      installFull(m);
    } else if (m.epoch == globalEpoch && m.baseVersion == globalVersion) {
      change = ChunkDelta.decode(m.payload, globalTensors);
      previousValues = followsChunks ? change.valuesIn(globalTensors) : null;
      change.overwrite(globalTensors);
      global.weightsChangedInPlace();
      globalVersion = m.version;
    } else {
      droppedMessages++; // a delta that does not follow our version: wait for the next whole model
      return Outcome.DROPPED;
    }
    if (finished) {
      return Outcome.APPLIED;
    }
    InFlight newest = null;
    while (!inFlight.isEmpty() && inFlight.peekFirst().seq() <= merged) {
      if (newest != null) {
        spare.add(newest.sentPoint()); // an older acknowledged update's replica: free for reuse now
      }
      newest = inFlight.pollFirst();
    }
    if (newest != null) {
      ChunkDelta.rebase(localTensors, newest.sentPoint(), globalTensors);
      for (InFlight f : inFlight) {
        ChunkDelta.rebase(f.sentPoint(), newest.sentPoint(), globalTensors);
      }
      syncLagMs = nowMs - newest.sentAtMs();
      spare.add(newest.sentPoint());
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
      return Outcome.APPLIED;
    }
    local.weightsChangedInPlace();
    base.setFrom(globalTensors);
    baseVersion = globalVersion;
    return newest != null ? Outcome.ACKNOWLEDGED : Outcome.APPLIED;
  }

  private void installFull(SyncMessage full) {
    Dlrm g = SnapshotCodec.decode(full.payload);
    if (!g.config().equals(config)) {
      throw new IllegalStateException("the sync topic carries a model of another config: " + g.config()
          + " (this learner's: " + config + ")");
    }
    global = g;
    globalTensors = ModelTensors.of(global);
    globalVersion = full.version;
    globalEpoch = full.epoch;
  }

  /**
   * With the epoch's whole model installed as the global model: the replica becomes it with every
   * restored change merged in, and each restored change becomes an update, in flight like any other.
   */
  private void resumeFromRestore(long nowMs) {
    local = new Dlrm(config);
    localTensors = ModelTensors.of(local);
    localTensors.setFrom(globalTensors);
    base = globalTensors.copy();
    baseVersion = globalVersion;
    lastSendMs = nowMs;
    List<LearnerUpdate> out = new ArrayList<>();
    for (UnsentWork w : restoredWork) {
      if (w.isEmpty(localTensors)) {
        continue;
      }
      ChunkDelta change = ChunkDelta.decode(w.delta(), localTensors);
      // Three-way, as the merger does: with one learner the global model equals the change's
      // before-values, so the replica takes its after-values exactly.
      change.merge(localTensors);
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
      out.add(u);
      inFlight.addLast(new InFlight(u.seq, localTensors.copy(), nowMs, eventsTrainedTotal));
      stats.bytesOut += u.delta.length;
    }
    restoredWork = null;
    resumed = out;
  }

  // ---------------------------------------------------------------- checkpoints

  /** What the merger has not seen: the change since the last update left (or since the base), and the events behind it. */
  public UnsentWork unsentWork() {
    if (local == null) {
      return UnsentWork.none();
    }
    ModelTensors from = inFlight.isEmpty() ? base : inFlight.peekLast().sentPoint();
    return new UnsentWork(ChunkDelta.encodeBetween(from, localTensors, true), pendingScores.scores(),
        pendingScores.labels(), pendingTrained, pendingSkipped, maxEventTime);
  }

  /** The restored work still held (awaiting the model), to checkpoint as it was. */
  public List<UnsentWork> restoredWork() {
    return restoredWork == null ? List.of() : List.copyOf(restoredWork);
  }

  // ---------------------------------------------------------------- state for metrics

  /** The global version the replica was last based on. */
  public long baseVersion() {
    return baseVersion;
  }

  public long globalVersion() {
    return globalVersion;
  }

  /** Checksum of the global model (identical on every learner that applied the same messages). */
  public long globalChecksum() {
    return globalTensors.checksum();
  }

  /** Wall-clock ms from the newest acknowledged update's leaving to its acknowledgement. */
  public long syncLagMs() {
    return syncLagMs;
  }

  public long droppedMessages() {
    return droppedMessages;
  }

  public long eventsHandled() {
    return eventsTrainedTotal;
  }

  public int inFlight() {
    return inFlight.size();
  }

  public SyncStats stats() {
    return stats;
  }

  /** The replica (for tests and tools). */
  public Dlrm replica() {
    return local;
  }

  /** An update on its way: its number, the replica when it left, when, and how many events had been handled by then. */
  private record InFlight(long seq, ModelTensors sentPoint, long sentAtMs, long eventsAtSend) {}

  /** Scores and labels of the labelled events since the last update, in a growable pair of arrays. */
  private static final class ScoreLog {
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
  }
}
