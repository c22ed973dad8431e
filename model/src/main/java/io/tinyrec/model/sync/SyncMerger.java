package io.tinyrec.model.sync;

import io.tinyrec.model.Dlrm;
import io.tinyrec.model.ModelConfig;
import io.tinyrec.model.codec.SnapshotCodec;
import java.util.Arrays;

/**
 * The merger's half of the sync protocol, without Flink or Kafka: the authoritative model, merged
 * three-way from each learner's update ({@link ChunkDelta#merge}), and the sync messages that
 * carry it back to the learners.
 *
 * <p>Messages are coalesced: everything merged since the last message goes out in one delta, with
 * the values the touched chunks have by then. {@link #publishDue()} says a message is due once
 * {@code publishEvery} updates have been merged since the last one (the job uses its number of
 * learners, so each learner reads one message per sync period whatever N is; the job also sends a
 * due message after a short time). With {@code publishEvery} 1 each update is answered by a delta
 * of exactly its chunks, so one learner trains as it did before coalescing, bit for bit. Every
 * {@code fullEvery} messages, and at the start of each epoch, the message is the whole model.
 *
 * <p>Each message says, per learner, the sequence number of its newest update merged into the
 * version it carries (-1 if none in this epoch): the acknowledgement a learner rebases on.
 */
public final class SyncMerger {
  private final int learners;
  private final long epoch;
  private final int publishEvery;
  private final int fullEvery;
  private final Dlrm model;
  private final ModelTensors tensors;
  private final long[] mergedSeq;
  private final ChunkUnion unpublished;
  /** With several learners: what the round's changes were, to average shared weights; null with one. */
  private final MergeRound round;
  private long version;
  /** The version of the last message sent in this epoch; -1 before the epoch's first (full) one. */
  private long publishedVersion = -1;
  private int mergedSincePublish;
  private int publishesSinceFull;
  private long eventsTrained;
  private long skippedUpdates;
  private long maxEventTime = Long.MIN_VALUE;
  private final SyncStats stats = new SyncStats();

  /**
   * How the changes of a weight that several learners changed in one round combine: k changes
   * with sum S move it by S / k^0.5 ({@link MergeRound}). Chosen by measurement (bench-sync, kaggle
   * preset, Adagrad lr 0.01, 1M generated rows): at 8 learners the sum (exponent 0) reached AUC
   * 0.708, this 0.761, against 0.791 for one learner; on 200k rows the mean (exponent 1) reached
   * 0.653 at 8 learners and this 0.692, and at 2 learners the sum 0.748 and this 0.744.
   */
  public static final double SHARED_EXPONENT = 0.5;

  /** A fresh model (the config's initial weights) at version 0. */
  public SyncMerger(ModelConfig config, int learners, long epoch, int publishEvery, int fullEvery) {
    this(new Dlrm(config), 0, 0, 0, Long.MIN_VALUE, learners, epoch, publishEvery, fullEvery, SHARED_EXPONENT);
  }

  /** A restored model and counters; {@code epoch} is the new epoch (the checkpoint's id). */
  public SyncMerger(Dlrm model, long version, long eventsTrained, long skippedUpdates, long maxEventTime,
      int learners, long epoch, int publishEvery, int fullEvery) {
    this(model, version, eventsTrained, skippedUpdates, maxEventTime, learners, epoch, publishEvery, fullEvery,
        SHARED_EXPONENT);
  }

  /**
   * As above, with the exponent of the shared-weight rule (0: the plain three-way sum, as with one
   * learner; 1: the mean), for measurements.
   */
  public SyncMerger(Dlrm model, long version, long eventsTrained, long skippedUpdates, long maxEventTime,
      int learners, long epoch, int publishEvery, int fullEvery, double sharedExponent) {
    if (learners < 1 || publishEvery < 1 || fullEvery < 1) {
      throw new IllegalArgumentException("learners, publishEvery and fullEvery must be >= 1, got " + learners + ", "
          + publishEvery + ", " + fullEvery);
    }
    this.model = model;
    this.tensors = ModelTensors.of(model);
    this.version = version;
    this.eventsTrained = eventsTrained;
    this.skippedUpdates = skippedUpdates;
    this.maxEventTime = maxEventTime;
    this.learners = learners;
    this.epoch = epoch;
    this.publishEvery = publishEvery;
    this.fullEvery = fullEvery;
    this.mergedSeq = new long[learners];
    Arrays.fill(mergedSeq, -1);
    this.unpublished = new ChunkUnion(tensors);
    this.round = learners > 1 && sharedExponent > 0 ? new MergeRound(tensors, sharedExponent) : null;
  }

  /**
   * Merges one update. Returns false for what is not a change (a restored learner asking for the
   * epoch's model, which {@link #needsFull()} then covers). An update of an earlier epoch (replayed
   * channel state) is merged but acknowledges nothing.
   */
  public boolean merge(LearnerUpdate u) {
    if (u.requestsFull) {
      return false;
    }
    long t0 = SyncStats.cpuNanos();
    stats.bytesIn += u.delta.length;
    ChunkDelta d = ChunkDelta.decode(u.delta, tensors);
    d.merge(tensors, round);
    model.weightsChangedInPlace();
    unpublished.add(d);
    version++;
    mergedSincePublish++;
    if (u.epoch == epoch && u.learner >= 0 && u.learner < learners) {
      mergedSeq[u.learner] = u.seq;
    }
    eventsTrained += u.eventsTrained;
    skippedUpdates += u.skippedUpdates;
    model.setCounters(eventsTrained, skippedUpdates);
    maxEventTime = Math.max(maxEventTime, u.maxEventTime);
    stats.eventsTrained += u.eventsTrained;
    stats.mergeNanos += SyncStats.cpuNanos() - t0;
    return true;
  }

  /** The epoch has had no message yet: the first must be the whole model. */
  public boolean needsFull() {
    return publishedVersion < 0;
  }

  /** Merged updates since the last message reached {@code publishEvery}. */
  public boolean publishDue() {
    return mergedSincePublish >= publishEvery;
  }

  /** Something was merged since the last message. */
  public boolean hasUnpublished() {
    return mergedSincePublish > 0;
  }

  /**
   * The message for everything merged since the last one: a delta of the touched chunks at their
   * current values, or the whole model at the start of the epoch and every {@code fullEvery}
   * messages.
   */
  public SyncMessage publish() {
    if (needsFull() || publishesSinceFull + 1 >= fullEvery) {
      return full(false);
    }
    long t0 = SyncStats.cpuNanos();
    SyncMessage m = message(false, publishedVersion, unpublished.valuesIn(tensors).encode(), false);
    publishesSinceFull++;
    stats.publishNanos += SyncStats.cpuNanos() - t0;
    return m;
  }

  /** The whole model; {@code last}: the final message of a bounded run. */
  public SyncMessage full(boolean last) {
    long t0 = SyncStats.cpuNanos();
    SyncMessage m = message(true, -1, SnapshotCodec.encode(model, true), last);
    publishesSinceFull = 0;
    stats.publishNanos += SyncStats.cpuNanos() - t0;
    return m;
  }

  private SyncMessage message(boolean full, long baseVersion, byte[] payload, boolean last) {
    SyncMessage m = new SyncMessage();
    m.epoch = epoch;
    m.version = version;
    m.full = full;
    m.baseVersion = baseVersion;
    m.payload = payload;
    m.eventsTrained = eventsTrained;
    m.mergedSeq = mergedSeq.clone();
    m.last = last;
    publishedVersion = version;
    mergedSincePublish = 0;
    unpublished.clear();
    if (round != null) {
      round.clear();
    }
    stats.messages++;
    stats.bytesOut += payload.length;
    return m;
  }

  public Dlrm model() {
    return model;
  }

  public ModelTensors tensors() {
    return tensors;
  }

  public long version() {
    return version;
  }

  public long epoch() {
    return epoch;
  }

  public int learners() {
    return learners;
  }

  public long eventsTrained() {
    return eventsTrained;
  }

  public long skippedUpdates() {
    return skippedUpdates;
  }

  public long maxEventTime() {
    return maxEventTime;
  }

  /** Per learner, its newest update merged in this epoch (-1 if none). */
  public long[] mergedSeq() {
    return mergedSeq.clone();
  }

  /** What the merger did and sent, for benchmarks and metrics. */
  public SyncStats stats() {
    return stats;
  }
}
