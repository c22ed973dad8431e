package io.tinyrec.jobs;

import io.tinyrec.model.ModelConfig;
import io.tinyrec.schemas.TopicDefaults;
import java.io.Serializable;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.TreeMap;

/**
 * Everything the training job needs to know, fixed when the job graph is built. Immutable and
 * serializable (it travels to every operator). Built with {@link #builder}; every default is the
 * one documented for {@code tinyrec train}.
 */
public final class TrainJobConfig implements Serializable {
  private static final long serialVersionUID = 1L;

  public final String bootstrapServers;
  public final String eventsTopic;
  public final String scoresTopic;
  public final String syncTopic;
  public final String modelsTopic;
  public final String dlqTopic;
  /** Key of the snapshots on the models topic; also names the consumer group and transactional ids. */
  public final String modelName;
  public final ModelConfig model;
  /** Parallelism of the learner. */
  public final int learners;
  /** Micro-batch size of each learner. */
  public final int batch;
  /** A learner trains a partial batch once its oldest event waited this long; 0 = count-only batching. */
  public final long maxWaitMs;
  /** A learner sends its update to the merger after this many events (when none is in flight). */
  public final int syncEvery;
  /** ... or after this many milliseconds, whichever comes first. */
  public final long syncIntervalMs;
  /**
   * Bounded staleness: a learner stops training (and buffers its events) once it has trained this
   * many events since its oldest update not yet merged left, until that update comes back merged.
   * It bounds, in events rather than time, how far the replicas can drift apart, so a slow sync
   * round trip (a loaded machine, a busy broker) costs throughput instead of accuracy. 0 = unbounded.
   */
  public final int maxStaleness;
  /** The merger sends a full model (rather than a delta) every this many sync messages. */
  public final int fullSyncEvery;
  /**
   * The merger coalesces: one sync message carries every update merged since the last, and goes
   * out once it holds as many updates as there are learners, or this many milliseconds after the
   * first of them. So each learner reads about one message per sync period, whatever their number.
   */
  public final long syncCoalesceMs;
  /**
   * Spread the events over the learners by their key (one more network hop per event). Needed only
   * when the events topic has fewer partitions than there are learners, since otherwise each
   * learner trains the partitions its own source subtask reads; train sets it then.
   */
  public final boolean spreadEvents;
  public final Duration snapshotInterval;
  /** Whether snapshots also carry the optimizer state (to resume training elsewhere). */
  public final boolean snapshotOptimizerState;
  public final Duration checkpointInterval;
  /** Events in the sliding window of the windowed metrics. */
  public final int metricsWindow;
  /** Stop at the end offsets of the events topic present at start, after a final snapshot. */
  public final boolean bounded;
  /** Each learner warms the JIT on a throwaway model before its first event (as learn does). */
  public final boolean jitWarmup;
  /** Extra Kafka client settings (security and the like), applied to every client the job makes. */
  public final Map<String, String> kafkaProperties;
  /**
   * Test hook: learner subtask 0 throws once, on its first attempt, after this many events and at
   * least one completed checkpoint. Negative = never.
   */
  public final long failAfterEvents;

  private TrainJobConfig(Builder b) {
    this.bootstrapServers = Objects.requireNonNull(b.bootstrapServers, "bootstrap servers");
    this.eventsTopic = b.eventsTopic;
    this.scoresTopic = b.scoresTopic;
    this.syncTopic = b.syncTopic;
    this.modelsTopic = b.modelsTopic;
    this.dlqTopic = b.dlqTopic;
    this.modelName = b.modelName;
    this.model = Objects.requireNonNull(b.model, "model config");
    this.learners = b.learners;
    this.batch = b.batch;
    this.maxWaitMs = b.maxWaitMs;
    // One learner's model does not depend on how often it syncs (only snapshot freshness does), so
    // it syncs rarely; several learners sync often, since staleness costs them accuracy.
    this.syncEvery = b.syncEvery != null ? b.syncEvery : defaultSyncEvery(b.learners);
    this.syncIntervalMs = b.syncIntervalMs != null ? b.syncIntervalMs : b.learners > 1 ? 1000 : 5000;
    // One learner has nobody to drift from; several may train one sync period past an update in flight.
    this.maxStaleness = b.maxStaleness != null ? b.maxStaleness : b.learners > 1 ? syncEvery : 0;
    this.fullSyncEvery = b.fullSyncEvery;
    this.syncCoalesceMs = b.syncCoalesceMs;
    this.spreadEvents = b.spreadEvents;
    this.snapshotInterval = b.snapshotInterval;
    this.snapshotOptimizerState = b.snapshotOptimizerState;
    this.checkpointInterval = b.checkpointInterval;
    this.metricsWindow = b.metricsWindow;
    this.bounded = b.bounded;
    this.jitWarmup = b.jitWarmup;
    this.kafkaProperties = Map.copyOf(b.kafkaProperties);
    this.failAfterEvents = b.failAfterEvents;
    require(learners >= 1, "--learners must be >= 1, got " + learners);
    require(learners <= TrainJob.LEARNER_MAX_PARALLELISM, "--learners must be at most "
        + TrainJob.LEARNER_MAX_PARALLELISM + " (the learners' max parallelism), got " + learners);
    require(batch >= 1, "--batch must be >= 1, got " + batch);
    require(maxWaitMs >= 0, "--max-wait-ms must be >= 0, got " + maxWaitMs);
    require(syncEvery >= 1, "--sync-every must be >= 1 event, got " + syncEvery);
    require(syncIntervalMs >= 1, "--sync-interval-ms must be >= 1, got " + syncIntervalMs);
    require(maxStaleness >= 0, "--max-staleness must be >= 0 events (0 = unbounded), got " + maxStaleness);
    require(fullSyncEvery >= 1, "--full-sync-every must be >= 1 message, got " + fullSyncEvery);
    require(syncCoalesceMs >= 0, "--sync-coalesce-ms must be >= 0, got " + syncCoalesceMs);
    require(!snapshotInterval.isNegative() && !snapshotInterval.isZero(), "--snapshot-interval must be > 0");
    require(!checkpointInterval.isNegative() && !checkpointInterval.isZero(), "--checkpoint-interval must be > 0");
    require(metricsWindow >= 1, "--metrics-window must be >= 1, got " + metricsWindow);
    require(!modelName.isBlank(), "--model-name must not be blank");
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }

  public static Builder builder(String bootstrapServers, ModelConfig model) {
    Builder b = new Builder();
    b.bootstrapServers = bootstrapServers;
    b.model = model;
    return b;
  }

  /** The Kafka client settings as Properties, starting from the bootstrap servers. */
  public Properties kafkaClientProperties() {
    Properties p = new Properties();
    p.putAll(kafkaProperties);
    p.setProperty("bootstrap.servers", bootstrapServers);
    return p;
  }

  /**
   * The default sync period in events: 65,536 for one learner, whose model does not depend on it;
   * with N learners 8,192 / N, between 256 and 4,096, so that a round of the merger holds about 8,192
   * events whatever N is. Measured with bench-sync (kaggle, 200k generated rows): at 2 learners
   * 4,096 and 1,024 give the same AUC (0.7440, 0.7443) and the job trains 11.5k events/s against
   * 8.6k; at 4 learners 2,048 beats 1,024 (0.7307, 0.7290); at 8 learners 512 beats 1,024.
   */
  public static int defaultSyncEvery(int learners) {
    return learners <= 1 ? 65_536 : Math.max(256, Math.min(4096, 8192 / learners));
  }

  /** Updates the merger coalesces into one sync message at most: one per learner. */
  public int syncPublishEvery() {
    return learners;
  }

  /** The model config as flag name to value, as snapshots carry it for people and tools. */
  public Map<String, String> modelConfigMap() {
    Map<String, String> m = new TreeMap<>(model.toMap());
    m.put("batch", Integer.toString(batch));
    m.put("learners", Integer.toString(learners));
    return m;
  }

  /** Builder with the documented defaults. */
  public static final class Builder {
    private String bootstrapServers;
    private String eventsTopic = TopicDefaults.EVENTS;
    private String scoresTopic = TopicDefaults.SCORES;
    private String syncTopic = TopicDefaults.SYNC;
    private String modelsTopic = TopicDefaults.MODELS;
    private String dlqTopic = TopicDefaults.DLQ;
    private String modelName = TopicDefaults.MODEL_NAME;
    private ModelConfig model;
    private int learners = 1;
    private int batch = 128;
    private long maxWaitMs = 200;
    private Integer syncEvery;
    private Long syncIntervalMs;
    private Integer maxStaleness;
    private int fullSyncEvery = 50;
    private long syncCoalesceMs = 20;
    private boolean spreadEvents;
    private Duration snapshotInterval = Duration.ofSeconds(30);
    private boolean snapshotOptimizerState;
    private Duration checkpointInterval = Duration.ofSeconds(5);
    private int metricsWindow = 100_000;
    private boolean bounded;
    private boolean jitWarmup = true;
    private Map<String, String> kafkaProperties = Map.of();
    private long failAfterEvents = -1;

    public Builder topics(String events, String scores, String sync, String models, String dlq) {
      this.eventsTopic = events;
      this.scoresTopic = scores;
      this.syncTopic = sync;
      this.modelsTopic = models;
      this.dlqTopic = dlq;
      return this;
    }

    public Builder modelName(String v) {
      this.modelName = v;
      return this;
    }

    public Builder learners(int v) {
      this.learners = v;
      return this;
    }

    public Builder batch(int v) {
      this.batch = v;
      return this;
    }

    public Builder maxWaitMs(long v) {
      this.maxWaitMs = v;
      return this;
    }

    /** Default: {@link TrainJobConfig#defaultSyncEvery}. */
    public Builder syncEvery(int v) {
      this.syncEvery = v;
      return this;
    }

    /** Default: 1000 ms with several learners, 5000 with one. */
    public Builder syncIntervalMs(long v) {
      this.syncIntervalMs = v;
      return this;
    }

    /** Default: the sync period (--sync-every) with several learners, unbounded (0) with one. */
    public Builder maxStaleness(int v) {
      this.maxStaleness = v;
      return this;
    }

    /** Default false: each learner trains its own partitions. */
    public Builder spreadEvents(boolean v) {
      this.spreadEvents = v;
      return this;
    }

    /** Default 20 ms. */
    public Builder syncCoalesceMs(long v) {
      this.syncCoalesceMs = v;
      return this;
    }

    public Builder fullSyncEvery(int v) {
      this.fullSyncEvery = v;
      return this;
    }

    public Builder snapshotInterval(Duration v) {
      this.snapshotInterval = v;
      return this;
    }

    public Builder snapshotOptimizerState(boolean v) {
      this.snapshotOptimizerState = v;
      return this;
    }

    public Builder checkpointInterval(Duration v) {
      this.checkpointInterval = v;
      return this;
    }

    public Builder metricsWindow(int v) {
      this.metricsWindow = v;
      return this;
    }

    public Builder bounded(boolean v) {
      this.bounded = v;
      return this;
    }

    public Builder jitWarmup(boolean v) {
      this.jitWarmup = v;
      return this;
    }

    public Builder kafkaProperties(Map<String, String> v) {
      this.kafkaProperties = v;
      return this;
    }

    public Builder failAfterEvents(long v) {
      this.failAfterEvents = v;
      return this;
    }

    public TrainJobConfig build() {
      return new TrainJobConfig(this);
    }
  }
}
