package io.tinyrec.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tinyrec.jobs.LocalTrainRunner;
import io.tinyrec.jobs.TrainJob;
import io.tinyrec.jobs.TrainJobConfig;
import io.tinyrec.jobs.kafka.TopicReader;
import io.tinyrec.jobs.learner.Learner;
import io.tinyrec.model.Dlrm;
import io.tinyrec.model.ModelConfig;
import io.tinyrec.model.codec.SnapshotCodec;
import io.tinyrec.model.data.CriteoReader;
import io.tinyrec.model.synthetic.SyntheticCriteo;
import io.tinyrec.model.train.ProgressiveValidation;
import io.tinyrec.replay.LocalKafkaBroker;
import io.tinyrec.replay.ReplayConfig;
import io.tinyrec.replay.ReplaySummary;
import io.tinyrec.replay.Replayer;
import io.tinyrec.schemas.ModelSnapshot;
import io.tinyrec.schemas.ScoredEvent;
import io.tinyrec.schemas.SingleObjectCodec;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.core.execution.JobClient;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "bench-train", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Measures the streaming job end to end on an embedded Kafka broker and a local Flink cluster, "
        + "and prints one JSON line per measurement:",
        "1. throughput: --events generated events already in Kafka, trained with `train --bounded --max-wait-ms 0` "
            + "at each --learners value, beside the same rows through learn's loop in this JVM, --rounds times;",
        "2. latency and checkpoints: events produced at --rate for --latency-seconds into a running job; score "
            + "latency p50/p99 from the event's Kafka timestamp to the score's processing time, and the job's "
            + "checkpoint durations and sizes from the Flink REST API."})
public final class BenchTrainCommand implements Callable<Integer> {
  @Option(names = "--events", defaultValue = "200000", description = "Events for the throughput runs (default ${DEFAULT-VALUE}).")
  int events;
  @Option(names = "--learners", defaultValue = "1,2", split = ",", description = "Learner counts (default ${DEFAULT-VALUE}).")
  List<Integer> learners;
  @Option(names = "--rate", defaultValue = "2000", description = "Events/s for the latency run (default ${DEFAULT-VALUE}).")
  int rate;
  @Option(names = "--latency-seconds", defaultValue = "30", description = "Length of the latency run; 0 skips it (default ${DEFAULT-VALUE}).")
  int latencySeconds;
  @Option(names = "--checkpoint-interval", defaultValue = "5s", converter = Sizes.Span.class,
      description = "Checkpoint interval of every run (default ${DEFAULT-VALUE}).")
  Duration checkpointInterval;
  @Option(names = "--sync-every", paramLabel = "EVENTS",
      description = "Passed to every run's job, as train's --sync-every (default: the job's).")
  Integer syncEvery;
  @Option(names = "--max-staleness", paramLabel = "EVENTS",
      description = "Passed to every run's job, as train's --max-staleness (default: the job's).")
  Integer maxStaleness;
  @Option(names = "--rounds", defaultValue = "1",
      description = "Throughput rounds, each the job at every --learners value then learn's loop, alternating so "
          + "that a drift of the machine's speed shows in the spread; with 2 or more, the median one-learner "
          + "ratio is printed (default ${DEFAULT-VALUE}).")
  int rounds;
  @Mixin
  ModelOptions model;

  private final ObjectMapper json = new ObjectMapper();

  @Override
  public Integer call() throws Exception {
    if (rounds < 1) {
      throw new IllegalArgumentException("--rounds must be >= 1, got " + rounds);
    }
    if (events < 1) {
      throw new IllegalArgumentException("--events must be >= 1, got " + events);
    }
    ModelConfig config = model.toConfig();
    Path dir = Files.createTempDirectory("tinyrec-bench-train-");
    try (LocalKafkaBroker broker = LocalKafkaBroker.start(0, dir.resolve("kafka"), Map.of())) {
      String bootstrap = broker.bootstrapServers();
      Path rows = writeRows(dir);
      List<Double> ratios = new ArrayList<>();
      for (int round = 1; round <= rounds; round++) {
        double oneLearner = Double.NaN;
        for (int n : learners) {
          double steady = throughput(bootstrap, config, dir, n, round);
          if (n == 1) {
            oneLearner = steady;
          }
        }
        double learnRate = learnSameRows(config, rows, round);
        if (!Double.isNaN(oneLearner)) {
          ratios.add(oneLearner / learnRate);
          System.out.printf(Locale.ROOT, "{\"measure\":\"ratio\",\"round\":%d,\"learners\":1,"
              + "\"steady_over_learn\":%.3f}%n", round, oneLearner / learnRate);
        }
      }
      if (ratios.size() > 1) {
        double[] r = ratios.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double median = r.length % 2 == 1 ? r[r.length / 2] : (r[r.length / 2 - 1] + r[r.length / 2]) / 2;
        System.out.printf(Locale.ROOT, "{\"measure\":\"ratio_summary\",\"learners\":1,\"rounds\":%d,"
            + "\"median\":%.3f,\"min\":%.3f,\"max\":%.3f}%n", r.length, median, r[0], r[r.length - 1]);
      }
      if (latencySeconds > 0) {
        latency(bootstrap, config, dir);
      }
    }
    return 0;
  }

  /**
   * Events/s once the job is warm: scores per second of processing time over the last 80% of the
   * events (the first 20% include the JIT compiling Flink's, Kafka's and Avro's code paths, which
   * learn never runs). Learn's rows/s likewise leaves out its JIT warm-up.
   */
  private static double steadyRate(String bootstrap, String scoresTopic) {
    SingleObjectCodec<ScoredEvent> codec = SingleObjectCodec.of(ScoredEvent.class);
    List<ConsumerRecord<byte[], byte[]>> all = readAll(bootstrap, scoresTopic, false);
    long[] t = new long[all.size()];
    for (int i = 0; i < t.length; i++) {
      t[i] = codec.decode(all.get(i).value()).getProcessingTime();
    }
    Arrays.sort(t);
    int from = t.length / 5;
    return t.length < 10 || t[t.length - 1] == t[from] ? Double.NaN
        : (t.length - 1 - from) * 1000.0 / (t[t.length - 1] - t[from]);
  }

  /**
   * One bounded run of the job with n learners over the events topic tp{n}.events (produced on the
   * first round, read from the start by every round); returns its steady events/s.
   */
  private double throughput(String bootstrap, ModelConfig config, Path dir, int n, int round) throws Exception {
    // One events partition per learner; with one learner the events arrive in file order, the
    // order learn reads them in.
    String eventsTopic = "tp" + n + ".events";
    if (round == 1) {
      createTopics(bootstrap, "tp" + n, n, "events");
      produce(bootstrap, eventsTopic, events, 0);
    }
    String name = "tp" + n + "r" + round;
    createTopics(bootstrap, name, n, "scores", "sync", "models", "dlq");
    TrainJobConfig.Builder b = TrainJobConfig.builder(bootstrap, config)
        .topics(eventsTopic, name + ".scores", name + ".sync", name + ".models", name + ".dlq").modelName(name)
        .learners(n).maxWaitMs(0).bounded(true)
        .checkpointInterval(checkpointInterval);
    if (syncEvery != null) {
      b.syncEvery(syncEvery);
    }
    if (maxStaleness != null) {
      b.maxStaleness(maxStaleness);
    }
    TrainJobConfig c = b.build();
    JobClient client = LocalTrainRunner.start(c, new LocalTrainRunner.Options(dir.resolve("ckpt-" + name), null, -1, 0));
    JobExecutionResult r = client.getJobExecutionResult().get(30, TimeUnit.MINUTES);
    long first = r.<Long>getAccumulatorResult(Learner.FIRST_EVENT_ACCUMULATOR);
    long end = r.<Long>getAccumulatorResult(Learner.INPUT_END_ACCUMULATOR);
    ModelSnapshot s = lastSnapshot(bootstrap, name + ".models");
    long holds = r.<Long>getAccumulatorResult(Learner.STALENESS_HOLDS_ACCUMULATOR);
    long heldMs = r.<Long>getAccumulatorResult(Learner.HELD_MS_ACCUMULATOR);
    double steady = steadyRate(bootstrap, name + ".scores");
    System.out.printf(Locale.ROOT, "{\"measure\":\"throughput\",\"round\":%d,\"learners\":%d,\"events\":%d,"
        + "\"events_per_s\":%.1f,\"steady_events_per_s\":%.1f,\"auc\":%.6f,\"snapshot_bytes\":%d,"
        + "\"sync_every\":%d,\"max_staleness\":%d,\"staleness_holds\":%d,\"held_fraction\":%.3f}%n", round, n,
        s.getEventsTrained(), s.getEventsTrained() * 1000.0 / (end - first), steady, s.getMetrics().getAuc(),
        s.getCodec().remaining(), c.syncEvery, c.maxStaleness, holds,
        heldMs / (double) (n * Math.max(1, end - first)));
    return steady;
  }

  /** The throughput runs' rows as TSV, for learn's loop. */
  private Path writeRows(Path dir) throws Exception {
    Path tsv = dir.resolve("rows.tsv");
    SyntheticCriteo gen = new SyntheticCriteo(1, -1);
    try (var w = Files.newBufferedWriter(tsv)) {
      for (int i = 0; i < events; i++) {
        w.write(gen.sample(i).row().toTsv());
        w.write('\n');
      }
    }
    return tsv;
  }

  /** The same rows through learn's loop in this JVM; returns its rows/s. */
  private double learnSameRows(ModelConfig config, Path tsv, int round) throws Exception {
    Dlrm m = new Dlrm(config);
    ProgressiveValidation.Result r = ProgressiveValidation.run(m,
        new CriteoReader(List.of(tsv), CriteoReader.OnMalformed.FAIL, e -> {}), 128, 0, 100_000, (n, x) -> {});
    System.out.printf(Locale.ROOT, "{\"measure\":\"learn\",\"round\":%d,\"rows\":%d,\"rows_per_s\":%.1f,"
        + "\"auc\":%.6f}%n", round, r.rows(), r.rowsPerSecond(), r.overall().auc());
    return r.rowsPerSecond();
  }

  private void latency(String bootstrap, ModelConfig config, Path dir) throws Exception {
    createTopics(bootstrap, "lat", 1);
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    TrainJobConfig c = TrainJobConfig.builder(bootstrap, config)
        .topics("lat.events", "lat.scores", "lat.sync", "lat.models", "lat.dlq").modelName("lat")
        .checkpointInterval(checkpointInterval).snapshotInterval(Duration.ofSeconds(10)).build();
    JobClient client = LocalTrainRunner.start(c, new LocalTrainRunner.Options(dir.resolve("ckpt-lat"), null, port, 0));
    Thread.sleep(5_000); // let the job come up before the clock starts
    SnapshotWatch watch = SnapshotWatch.start(bootstrap, "lat.models");
    int total = rate * latencySeconds;
    produce(bootstrap, "lat.events", total, rate);
    // The replay producer leaves the record timestamp to Kafka's client: the send time.
    Map<String, Long> sentAt = new java.util.HashMap<>(2 * total);
    for (ConsumerRecord<byte[], byte[]> rec : readAll(bootstrap, "lat.events", false)) {
      sentAt.put(new String(rec.key(), StandardCharsets.UTF_8), rec.timestamp());
    }
    Thread.sleep(Math.max(3_000, checkpointInterval.toMillis() * 2));
    JsonNode checkpoints = get(port, "/jobs/" + client.getJobID() + "/checkpoints");
    LocalTrainRunner.cancelAndWait(client, Duration.ofSeconds(60));
    long[] publish = watch.stop();
    long[] lat = new long[total];
    int seen = 0;
    SingleObjectCodec<ScoredEvent> codec = SingleObjectCodec.of(ScoredEvent.class);
    for (ConsumerRecord<byte[], byte[]> rec : readAll(bootstrap, "lat.scores", false)) {
      ScoredEvent e = codec.decode(rec.value());
      Long sent = sentAt.get(e.getKey());
      if (sent != null && seen < total) {
        lat[seen++] = e.getProcessingTime() - sent;
      }
    }
    long[] l = Arrays.copyOf(lat, seen);
    Arrays.sort(l);
    JsonNode summary = checkpoints.path("summary");
    System.out.printf(Locale.ROOT, "{\"measure\":\"latency\",\"rate\":%d,\"scored\":%d,\"p50_ms\":%d,\"p99_ms\":%d,"
            + "\"max_ms\":%d}%n", rate, seen, l.length == 0 ? -1 : l[l.length / 2],
        l.length == 0 ? -1 : l[(int) (l.length * 0.99)], l.length == 0 ? -1 : l[l.length - 1]);
    System.out.printf(Locale.ROOT, "{\"measure\":\"checkpoints\",\"completed\":%d,\"duration_ms\":%s,"
            + "\"state_bytes\":%s,\"checkpointed_bytes\":%s}%n", checkpoints.path("counts").path("completed").asInt(),
        summary.path("end_to_end_duration"), summary.path("state_size"), summary.path("checkpointed_size"));
    ModelSnapshot s = lastSnapshot(bootstrap, "lat.models");
    long t0 = System.nanoTime();
    int reps = 10;
    Dlrm m = SnapshotCodec.decode(s.getCodec().array());
    for (int i = 0; i < reps; i++) {
      SnapshotCodec.encode(m, false);
    }
    System.out.printf(Locale.ROOT, "{\"measure\":\"snapshot\",\"codec_bytes\":%d,\"encode_ms\":%.1f,"
            + "\"published\":%d,\"publish_ms_p50\":%d,\"publish_ms_max\":%d}%n",
        s.getCodec().remaining(), (System.nanoTime() - t0) / 1e6 / reps, publish.length,
        publish.length == 0 ? -1 : publish[publish.length / 2], publish.length == 0 ? -1 : publish[publish.length - 1]);
  }

  /**
   * Publish time of each snapshot: from its creation in the merger to the moment a read_committed
   * consumer (what serving runs) receives it. The models sink is EXACTLY_ONCE, so this includes the
   * wait for the checkpoint that commits it.
   */
  private static final class SnapshotWatch {
    private final Thread thread;
    private final List<Long> millis = java.util.Collections.synchronizedList(new ArrayList<>());
    private volatile boolean running = true;

    private SnapshotWatch(String bootstrap, String topic) {
      thread = new Thread(() -> {
        java.util.Properties p = TopicReader.client(bootstrap);
        p.put("isolation.level", "read_committed");
        p.put("max.partition.fetch.bytes", Integer.toString(TrainJob.MAX_MESSAGE_BYTES));
        p.put("fetch.max.bytes", Integer.toString(TrainJob.MAX_MESSAGE_BYTES));
        SingleObjectCodec<ModelSnapshot> codec = SingleObjectCodec.of(ModelSnapshot.class);
        try (var c = new org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]>(p,
            new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
            new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
          var tp = new org.apache.kafka.common.TopicPartition(topic, 0);
          c.assign(List.of(tp));
          c.seekToBeginning(List.of(tp));
          while (running) {
            for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(50))) {
              millis.add(System.currentTimeMillis() - codec.decode(r.value()).getCreatedAt());
            }
          }
        }
      }, "bench-snapshot-watch");
      thread.setDaemon(true);
    }

    static SnapshotWatch start(String bootstrap, String topic) {
      SnapshotWatch w = new SnapshotWatch(bootstrap, topic);
      w.thread.start();
      return w;
    }

    long[] stop() throws InterruptedException {
      running = false;
      thread.join(10_000);
      long[] out = millis.stream().mapToLong(Long::longValue).sorted().toArray();
      return out;
    }
  }

  private JsonNode get(int port, String path) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).build(), HttpResponse.BodyHandlers.ofString());
    return json.readTree(r.body());
  }

  private static void createTopics(String bootstrap, String prefix, int partitions, String... only) throws Exception {
    List<String> names = only.length == 0 ? List.of("events", "scores", "sync", "models", "dlq") : List.of(only);
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      List<NewTopic> topics = new ArrayList<>();
      for (String n : names) {
        NewTopic t = new NewTopic(prefix + "." + n, n.equals("events") || n.equals("scores") ? partitions : 1, (short) 1);
        if (n.equals("sync") || n.equals("models")) {
          t.configs(Map.of("max.message.bytes", Integer.toString(TrainJob.MAX_MESSAGE_BYTES)));
        }
        topics.add(t);
      }
      admin.createTopics(topics).all().get();
    }
  }

  /** Replays n rows of the synthetic stream (seed 1) with tinyrec replay's own code; rate 0 = --max. */
  private static void produce(String bootstrap, String topic, int n, int rate) {
    ReplayConfig cfg = ReplayConfig.ofSynthetic(bootstrap, topic, n, 1);
    if (rate > 0) {
      cfg = cfg.withPace(ReplayConfig.Pace.RATE, rate, 0);
    }
    java.io.PrintStream quiet = new java.io.PrintStream(java.io.OutputStream.nullOutputStream());
    ReplaySummary s = new Replayer(cfg, quiet, quiet).run();
    if (s.acknowledged() != n) {
      throw new IllegalStateException("replay acknowledged " + s.acknowledged() + " of " + n + " events");
    }
  }

  private static List<ConsumerRecord<byte[], byte[]>> readAll(String bootstrap, String topic, boolean committed) {
    return TopicReader.readAll(TopicReader.client(bootstrap), topic, committed);
  }

  private static ModelSnapshot lastSnapshot(String bootstrap, String topic) {
    List<ConsumerRecord<byte[], byte[]>> all = readAll(bootstrap, topic, true);
    if (all.isEmpty()) {
      throw new IllegalStateException("no committed snapshot on " + topic);
    }
    return SingleObjectCodec.of(ModelSnapshot.class).decode(all.get(all.size() - 1).value());
  }
}
