package io.tinyrec.cli;

import io.tinyrec.jobs.LocalTrainRunner;
import io.tinyrec.jobs.TrainJobConfig;
import io.tinyrec.model.Dlrm;
import io.tinyrec.model.ModelConfig;
import io.tinyrec.model.codec.SnapshotCodec;
import io.tinyrec.replay.Topics;
import io.tinyrec.schemas.ModelSnapshot;
import io.tinyrec.schemas.SingleObjectCodec;
import io.tinyrec.schemas.TopicDefaults;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.core.execution.JobClient;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Runs the streaming learner, a Flink job on a local MiniCluster (with the Flink web UI): it reads "
        + "ClickEvents from the events topic, scores each micro-batch, trains on it, merges the learners' updates, "
        + "and publishes versioned snapshots to the models topic exactly once.",
        "Missing topics are created as `tinyrec topics create` would. Checkpoints are kept in --checkpoint-dir; "
            + "--restore-from starts from one of them."},
    footer = {"", "Examples:",
        "  ./tinyrec train --bootstrap-servers localhost:9092",
        "  ./tinyrec train --bootstrap-servers localhost:9092 --learners 2 --bounded --json",
        "  ./tinyrec train --bootstrap-servers localhost:9092 --restore-from runs/checkpoints/<job>/chk-42"})
public final class TrainCommand implements Callable<Integer> {
  @Option(names = "--bootstrap-servers", required = true, paramLabel = "HOST:PORT[,...]",
      description = "Kafka bootstrap servers.")
  String bootstrapServers;

  @Option(names = "--kafka-config", paramLabel = "FILE",
      description = "Kafka client settings (security and the like) for every client of the job, as a properties file.")
  Path kafkaConfig;

  @Option(names = "--events-topic", defaultValue = "events", description = "Default ${DEFAULT-VALUE}.")
  String eventsTopic;
  @Option(names = "--scores-topic", defaultValue = "scores", description = "Default ${DEFAULT-VALUE}.")
  String scoresTopic;
  @Option(names = "--sync-topic", defaultValue = "sync", description = "Default ${DEFAULT-VALUE}.")
  String syncTopic;
  @Option(names = "--models-topic", defaultValue = "models", description = "Default ${DEFAULT-VALUE}.")
  String modelsTopic;
  @Option(names = "--dlq-topic", defaultValue = "dlq", description = "Default ${DEFAULT-VALUE}.")
  String dlqTopic;

  @Option(names = "--model-name", defaultValue = TopicDefaults.MODEL_NAME,
      description = "Key of the snapshots on the models topic (default ${DEFAULT-VALUE}).")
  String modelName;

  @Mixin
  ModelOptions model;

  @Option(names = "--learners", defaultValue = "1", description = "Learner parallelism N (default ${DEFAULT-VALUE}).")
  int learners;
  @Option(names = "--batch", defaultValue = "128", description = "Micro-batch size per learner (default ${DEFAULT-VALUE}).")
  int batch;
  @Option(names = "--max-wait-ms", defaultValue = "200",
      description = "Train a partial micro-batch once its oldest event waited this long; 0 = count-only "
          + "batching (default ${DEFAULT-VALUE}).")
  long maxWaitMs;
  @Option(names = "--sync-every",
      description = "A learner sends its update after this many events (default 65536 with one learner, whose "
          + "model does not depend on it; with N learners 8192/N, between 256 and 4096).")
  Integer syncEvery;
  @Option(names = "--sync-interval-ms",
      description = "... or after this long (default 1000 with several learners, 5000 with one).")
  Long syncIntervalMs;
  @Option(names = "--max-staleness", paramLabel = "EVENTS",
      description = "Bounded staleness: a learner waits for its oldest unmerged update once it has trained this "
          + "many events past it; 0 = unbounded (default --sync-every with several learners, 0 with one).")
  Integer maxStaleness;
  @Option(names = "--sync-coalesce-ms", paramLabel = "MS",
      description = "The merger sends one sync message for every update merged since its last: once it holds one "
          + "per learner, or this long after the first of them (default 20).")
  Long syncCoalesceMs;
  @Option(names = "--snapshot-interval", defaultValue = "30s", converter = Sizes.Span.class, paramLabel = "DURATION",
      description = "How often a snapshot is published (default ${DEFAULT-VALUE}).")
  Duration snapshotInterval;
  @Option(names = "--snapshot-with-state",
      description = "Snapshots also carry the optimizer state, to resume training from them elsewhere.")
  boolean snapshotWithState;
  @Option(names = "--checkpoint-interval", defaultValue = "5s", converter = Sizes.Span.class, paramLabel = "DURATION",
      description = "Flink checkpoint interval (default ${DEFAULT-VALUE}).")
  Duration checkpointInterval;
  @Option(names = "--checkpoint-dir", defaultValue = "runs/checkpoints",
      description = "Where checkpoints are kept; they survive a cancel (default ${DEFAULT-VALUE}).")
  Path checkpointDir;
  @Option(names = "--restore-from", paramLabel = "DIR",
      description = "A retained checkpoint (chk-N directory) or savepoint to start from.")
  Path restoreFrom;
  @Option(names = "--metrics-window", defaultValue = "100000",
      description = "Events in the sliding metrics window (default ${DEFAULT-VALUE}).")
  int metricsWindow;
  @Option(names = "--bounded",
      description = "Stop at the end offsets of the events topic present at start, after a final snapshot.")
  boolean bounded;
  @Option(names = "--web-ui-port", defaultValue = "8081",
      description = "Port of the Flink web UI; -1 for none (default ${DEFAULT-VALUE}).")
  int webUiPort;
  @Option(names = "--json", description = "At the end of a bounded run, print one JSON line with the results.")
  boolean json;

  /** The job ended by itself; the shutdown hook then has nothing to stop. */
  private final java.util.concurrent.atomic.AtomicBoolean finished = new java.util.concurrent.atomic.AtomicBoolean();
  /** The job's configuration, once built. */
  private TrainJobConfig config;

  @Override
  public Integer call() throws Exception {
    ModelConfig modelConfig = model.toConfig();
    Map<String, String> kafka = kafkaConfig == null ? Map.of() : io.tinyrec.replay.KafkaProperties.load(kafkaConfig,
        "--kafka-config");
    TrainJobConfig.Builder builder = TrainJobConfig.builder(bootstrapServers, modelConfig)
        .topics(eventsTopic, scoresTopic, syncTopic, modelsTopic, dlqTopic).modelName(modelName)
        .learners(learners).batch(batch).maxWaitMs(maxWaitMs)
        .snapshotInterval(snapshotInterval).snapshotOptimizerState(snapshotWithState)
        .checkpointInterval(checkpointInterval).metricsWindow(metricsWindow).bounded(bounded)
        .kafkaProperties(kafka);
    if (syncEvery != null) {
      builder.syncEvery(syncEvery);
    }
    if (syncIntervalMs != null) {
      builder.syncIntervalMs(syncIntervalMs);
    }
    if (maxStaleness != null) {
      builder.maxStaleness(maxStaleness);
    }
    if (syncCoalesceMs != null) {
      builder.syncCoalesceMs(syncCoalesceMs);
    }
    config = builder.build();
    if (learners > 1 && modelConfig.optimizer() == ModelConfig.OptimizerKind.ADAGRAD
        && Math.max(modelConfig.lrDense(), modelConfig.lrEmbedding()) > 0.05f) {
      System.err.printf(java.util.Locale.ROOT, "train: warning: %d learners at Adagrad lr %.3g: each learner trains "
          + "on a model one sync round trip old, and at this rate that costs accuracy (measured: kaggle preset, "
          + "lr 0.1, 2 learners lost 0.13 AUC against 1). The default, Adagrad lr 0.01, is the usual choice.%n", learners,
          Math.max(modelConfig.lrDense(), modelConfig.lrEmbedding()));
    }
    TopicsAtStart topics = prepareTopics(config, kafka);
    long eventsAtStart = topics.events();
    if (topics.eventPartitions() < learners) {
      // Each learner trains the partitions its source subtask reads; with fewer partitions than
      // learners some would have none, so the events are spread over all of them by their key.
      System.err.printf("train: the events topic '%s' has %d partition(s) for %d learners: events are spread over "
          + "the learners by key (one more hop per event). Give it at least %d partitions to avoid that.%n",
          eventsTopic, topics.eventPartitions(), learners, learners);
      config = builder.spreadEvents(true).build();
    }
    if (bounded && eventsAtStart == 0 && restoreFrom == null) {
      System.err.println("train: the events topic '" + eventsTopic + "' is empty, so a --bounded run has nothing to do");
      return 0;
    }
    Files.createDirectories(checkpointDir);
    checkDiskRoom(config);
    JobClient client = LocalTrainRunner.start(config,
        new LocalTrainRunner.Options(checkpointDir, restoreFrom, webUiPort, 10));
    System.err.printf("train: job %s running on a local Flink cluster%s; checkpoints in %s%n", client.getJobID(),
        webUiPort >= 0 ? " (web UI http://localhost:" + (webUiPort == 0 ? "<port>" : webUiPort) + ")" : "",
        checkpointDir.toAbsolutePath());
    if (!bounded) {
      java.util.concurrent.atomic.AtomicBoolean stopping = new java.util.concurrent.atomic.AtomicBoolean();
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        stopping.set(true);
        if (finished.get()) {
          return; // the job ended by itself (it failed): nothing to stop
        }
        try {
          LocalTrainRunner.cancelAndWait(client, Duration.ofSeconds(60));
          LocalTrainRunner.latestCheckpoint(checkpointDir).ifPresent(p ->
              System.err.println("train: stopped. Resume with --restore-from " + p));
        } catch (Exception e) {
          System.err.println("train: could not stop the job cleanly: " + e);
        }
      }, "tinyrec-train-stop"));
      try {
        client.getJobExecutionResult().get();
      } catch (java.util.concurrent.ExecutionException e) {
        if (stopping.get()) {
          return 0; // stopped on request (Ctrl-C or a signal): the hook says where to resume from
        }
        throw explained(e);
      }
      return 0;
    }
    long t0 = System.nanoTime();
    JobExecutionResult result;
    try {
      result = client.getJobExecutionResult().get();
    } catch (java.util.concurrent.ExecutionException e) {
      throw explained(e);
    }
    double wallSeconds = (System.nanoTime() - t0) / 1e9;
    Long first = result.getAccumulatorResult(io.tinyrec.jobs.learner.Learner.FIRST_EVENT_ACCUMULATOR);
    Long end = result.getAccumulatorResult(io.tinyrec.jobs.learner.Learner.INPUT_END_ACCUMULATOR);
    // Training time: from the first event a learner saw to the end of the input (start-up excluded).
    double seconds = first != null && end != null && end > first ? (end - first) / 1e3 : wallSeconds;
    Optional<ModelSnapshot> last = lastSnapshot(config, kafka);
    Long dlq = result.getAccumulatorResult(io.tinyrec.jobs.events.EventDecoder.DLQ_ACCUMULATOR);
    if (last.isEmpty()) {
      System.err.println("train: the run ended without a committed snapshot");
      return 1;
    }
    ModelSnapshot s = last.get();
    if (json) {
      System.out.printf(java.util.Locale.ROOT,
          "{\"events\":%d,\"events_trained\":%d,\"dlq\":%d,\"version\":%d,\"epoch\":%d,\"auc\":%.6f,\"logloss\":%.6f,"
              + "\"ne\":%.6f,\"calibration\":%.5f,\"window_auc\":%.6f,\"seconds\":%.3f,\"events_per_s\":%.1f,"
              + "\"wall_seconds\":%.3f,"
              + "\"snapshot_bytes\":%d,\"learners\":%d}%n",
          eventsAtStart, s.getEventsTrained(), dlq == null ? 0 : dlq, s.getVersion(), s.getEpoch(),
          s.getMetrics().getAuc(), s.getMetrics().getLogloss(), s.getMetrics().getNe(), s.getMetrics().getCalibration(),
          s.getWindowMetrics().getAuc(), seconds, s.getEventsTrained() / seconds, wallSeconds, s.getCodec().remaining(),
          learners);
    } else {
      System.out.printf(java.util.Locale.ROOT,
          "trained on %,d events (%,d to the dlq) in %.1f s, %,.0f events/s with %d learner%s%n"
              + "final model: version %d, epoch %d, %,d bytes; progressive AUC %.4f, log loss %.4f, NE %.4f, "
              + "calibration %.3f%n",
          s.getEventsTrained(), dlq == null ? 0 : dlq, seconds, s.getEventsTrained() / seconds, learners,
          learners == 1 ? "" : "s", s.getVersion(), s.getEpoch(), s.getCodec().remaining(), s.getMetrics().getAuc(),
          s.getMetrics().getLogloss(), s.getMetrics().getNe(), s.getMetrics().getCalibration());
    }
    return 0;
  }

  /**
   * Creates missing topics as `topics create` would, and refuses to start when an existing models or
   * sync topic cannot hold this model. Returns the number of records in the events topic.
   */
  /** The job's failure as one explained line when it is one users meet (a full disk), else as it is. */
  private Exception explained(java.util.concurrent.ExecutionException e) throws IOException {
    finished.set(true);
    long oneCheckpoint = (1 + 2L * learners) * io.tinyrec.jobs.TrainJob.fullModelBytes(config);
    boolean diskFull = Files.getFileStore(checkpointDir).getUsableSpace() < oneCheckpoint;
    Optional<String> why = io.tinyrec.jobs.JobFailures.explain(e, checkpointDir.toAbsolutePath(),
        LocalTrainRunner.latestCheckpoint(checkpointDir), diskFull);
    return why.<Exception>map(w -> new IllegalStateException(w, e)).orElse(e);
  }

  /**
   * Refuses to start when the checkpoint directory cannot hold the checkpoints Flink keeps (three,
   * and one being written): each holds the merger's model with its optimizer state and each
   * learner's unsent change, at most about twice the model apiece.
   */
  private void checkDiskRoom(TrainJobConfig c) throws IOException {
    long model = io.tinyrec.jobs.TrainJob.fullModelBytes(c);
    long needed = 4L * (1 + 2L * c.learners) * model;
    long usable = Files.getFileStore(checkpointDir).getUsableSpace();
    if (usable < needed) {
      throw new IllegalStateException(String.format(java.util.Locale.ROOT, "--checkpoint-dir %s has %d MB free, "
          + "but the checkpoints of this job (%d learner(s), a %d MB model; Flink keeps three and writes a fourth) "
          + "need up to about %d MB: free space there or choose another directory; the job did not start",
          checkpointDir.toAbsolutePath(), usable >> 20, c.learners, model >> 20, needed >> 20));
    }
  }

  /** What the topics hold at the start: events waiting, and the events topic's partitions. */
  record TopicsAtStart(long events, int eventPartitions) {}

  static TopicsAtStart prepareTopics(TrainJobConfig c, Map<String, String> kafka) throws Exception {
    try {
      return checkAndCreateTopics(c, kafka);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException
        | org.apache.kafka.common.errors.TimeoutException e) {
      Throwable cause = e instanceof java.util.concurrent.ExecutionException ? e.getCause() : e;
      if (cause instanceof org.apache.kafka.common.errors.AuthenticationException) {
        throw new IllegalStateException("Kafka at " + c.bootstrapServers + " refused to authenticate this client "
            + "(check security.protocol and the sasl.* and ssl.* settings): " + cause.getMessage(), cause);
      }
      if (cause instanceof org.apache.kafka.common.errors.TimeoutException
          || cause instanceof java.util.concurrent.TimeoutException) {
        throw new IllegalStateException("cannot reach Kafka at " + c.bootstrapServers + " (is the broker up, and are "
            + "--bootstrap-servers and the security settings right?); the job did not start", cause);
      }
      throw e;
    }
  }

  private static TopicsAtStart checkAndCreateTopics(TrainJobConfig c, Map<String, String> kafka) throws Exception {
    Dlrm fresh = new Dlrm(c.model);
    // A quantized model's training snapshot grows by its FP32 cache once trained; the merger's can
    // hold every learner's cached lines.
    long cache = fresh.embedding() instanceof io.tinyrec.model.nn.QuantizedRobeEmbedding q
        ? (long) c.learners * q.array().fullCacheSnapshotBytes() : 0;
    long snapshotBytes = SnapshotCodec.encode(fresh, c.snapshotOptimizerState).length + 4096
        + (c.snapshotOptimizerState ? cache : 0);
    long fullSyncBytes = io.tinyrec.jobs.TrainJob.fullModelBytes(c);
    Map<String, Object> p = new HashMap<>(kafka);
    p.put("bootstrap.servers", c.bootstrapServers);
    p.putIfAbsent("default.api.timeout.ms", "15000");
    p.putIfAbsent("request.timeout.ms", "15000");
    try (Admin admin = Admin.create(p)) {
      checkRoom(admin, c.modelsTopic, snapshotBytes, "a snapshot");
      checkRoom(admin, c.syncTopic, fullSyncBytes, "a full model sync message");
      int maxBytes = (int) Math.max(Topics.DEFAULT_MAX_SNAPSHOT_BYTES, fullSyncBytes * 2);
      Topics.Settings s = new Topics.Settings(c.eventsTopic, Math.max(2, c.learners), c.scoresTopic, c.syncTopic,
          Duration.ofHours(1), c.modelsTopic, maxBytes, c.dlqTopic);
      List<Topics.Spec> missing = new ArrayList<>();
      for (Topics.Spec spec : Topics.specs(s)) {
        if (Topics.describe(admin, spec.name()).isEmpty()) {
          missing.add(spec);
        }
      }
      for (String line : Topics.ensure(admin, missing)) {
        System.err.println("topics: " + line);
      }
      TopicDescription events = Topics.describe(admin, c.eventsTopic).orElseThrow();
      Properties cp = new Properties();
      cp.putAll(p);
      try (KafkaConsumer<byte[], byte[]> consumer =
          new KafkaConsumer<>(cp, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
        List<TopicPartition> parts = events.partitions().stream()
            .map(i -> new TopicPartition(c.eventsTopic, i.partition())).toList();
        Map<TopicPartition, Long> end = consumer.endOffsets(parts);
        Map<TopicPartition, Long> begin = consumer.beginningOffsets(parts);
        return new TopicsAtStart(parts.stream().mapToLong(tp -> end.get(tp) - begin.get(tp)).sum(), parts.size());
      }
    }
  }

  private static void checkRoom(Admin admin, String topic, long needed, String what) throws Exception {
    if (Topics.describe(admin, topic).isEmpty()) {
      return;
    }
    ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    var entry = admin.describeConfigs(List.of(res)).all().get(15, TimeUnit.SECONDS).get(res).get("max.message.bytes");
    long have = entry == null ? 1_048_588 : Long.parseLong(entry.value());
    if (have < needed) {
      throw new IllegalArgumentException("topic '" + topic + "' has max.message.bytes=" + have + ", but " + what
          + " of this model needs about " + needed + " bytes. Raise it (./tinyrec topics create --max-snapshot-bytes "
          + "...) or use another topic; the job did not start");
    }
  }

  private static Optional<ModelSnapshot> lastSnapshot(TrainJobConfig c, Map<String, String> kafka) {
    Properties p = new Properties();
    p.putAll(kafka);
    p.put("bootstrap.servers", c.bootstrapServers);
    SingleObjectCodec<ModelSnapshot> codec = SingleObjectCodec.of(ModelSnapshot.class);
    ModelSnapshot last = null;
    for (ConsumerRecord<byte[], byte[]> r : io.tinyrec.jobs.kafka.TopicReader.readAll(p, c.modelsTopic, true)) {
      if (r.key() != null && c.modelName.equals(new String(r.key(), java.nio.charset.StandardCharsets.UTF_8))) {
        last = codec.decode(r.value());
      }
    }
    return Optional.ofNullable(last);
  }
}
