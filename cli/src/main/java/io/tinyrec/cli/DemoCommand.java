package io.tinyrec.cli;

import io.tinyrec.jobs.LocalTrainRunner;
import io.tinyrec.jobs.TrainJobConfig;
import io.tinyrec.model.ModelConfig;
import io.tinyrec.model.metrics.ProgressiveMetrics;
import io.tinyrec.replay.LocalKafkaBroker;
import io.tinyrec.replay.ReplayConfig;
import io.tinyrec.replay.ReplaySummary;
import io.tinyrec.replay.Replayer;
import io.tinyrec.report.DriftAnalysis;
import io.tinyrec.report.KafkaRunReader;
import io.tinyrec.report.Report;
import io.tinyrec.report.ReportConfig;
import io.tinyrec.report.ReportResult;
import io.tinyrec.schemas.ScoredEvent;
import io.tinyrec.schemas.SingleObjectCodec;
import io.tinyrec.schemas.TopicDefaults;
import io.tinyrec.serving.ScoringServer;
import io.tinyrec.serving.ServingMetrics;
import io.tinyrec.serving.SnapshotSubscriber;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.BindException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.flink.core.execution.JobClient;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code tinyrec demo}: the whole product on one machine. A Kafka broker in this JVM, the training
 * job on a local Flink with its web UI, replay of a generated stream whose hidden teacher changes
 * halfway (or of real Criteo files), serving over HTTP, a live status line, and the report at the end.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Runs everything on this machine: starts a local Kafka broker and the topics, the training job on "
        + "a local Flink (web UI), replays a stream into Kafka, serves the model over HTTP, and keeps a live line "
        + "with events/s, windowed progressive AUC and NE, the model version and the snapshot age. "
        + "It stops at --events or on Ctrl-C, writes the report (HTML and PNGs) and leaves nothing running.",
        "By default the stream is generated with drift: the teacher that labels it changes at --drift-at (half of "
            + "--events), so you can watch the model's AUC fall and recover online. Unless given, the model trains "
            + "with --optimizer sgd --lr 0.1, which recovers from the drift fastest."},
    footer = {"", "Examples:",
        "  ./tinyrec demo --events 300000",
        "  ./tinyrec demo --input day_0.gz --events 1000000 --learners 2",
        "  ./tinyrec demo                      # until Ctrl-C"})
public final class DemoCommand implements Callable<Integer> {
  private static final String MODEL = "demo";

  @Option(names = "--events", defaultValue = "0", paramLabel = "N",
      description = "Stop once N events are trained and in a snapshot; 0 = run until Ctrl-C (default ${DEFAULT-VALUE}).")
  long events;
  @Option(names = "--input", arity = "1..*", paramLabel = "FILE",
      description = "Replay these Criteo TSV files (.gz too) instead of the generated stream.")
  List<Path> inputs;
  @Option(names = "--drift-at", paramLabel = "K",
      description = "Where the generated stream's teacher changes (default: half of --events, or 500000).")
  Long driftAt;
  @Option(names = "--stream-seed", defaultValue = "1",
      description = "Seed of the generated stream (default ${DEFAULT-VALUE}); --seed seeds the model.")
  long seed;
  @Option(names = "--rate", defaultValue = "0", paramLabel = "EVENTS_PER_S",
      description = "Replay pace; 0 = as fast as Kafka takes them, and the job works through the backlog "
          + "(default ${DEFAULT-VALUE}).")
  double rate;
  @Option(names = "--learners", defaultValue = "1", description = "Learner parallelism (default ${DEFAULT-VALUE}).")
  int learners;
  @Option(names = "--port", defaultValue = "8080", description = "Serving port; 0 = any free one (default ${DEFAULT-VALUE}).")
  int port;
  @Option(names = "--web-ui-port", defaultValue = "8081",
      description = "Flink web UI port; 0 = any free one (default ${DEFAULT-VALUE}).")
  int webUiPort;
  @Option(names = "--window", defaultValue = "20000",
      description = "Events in the sliding window of the live line and the report (default ${DEFAULT-VALUE}).")
  int window;
  @Option(names = "--snapshot-interval", defaultValue = "5s", converter = Sizes.Span.class, paramLabel = "DURATION",
      description = "How often the job publishes a snapshot (default ${DEFAULT-VALUE}).")
  Duration snapshotInterval;
  @Option(names = "--out", paramLabel = "DIR",
      description = "Where the broker's data, checkpoints and the report go (default runs/demo-<time>).")
  Path out;
  @Mixin
  ModelOptions model;

  private final AtomicBoolean stopRequested = new AtomicBoolean();

  @Override
  public Integer call() throws Exception {
    if (events < 0) {
      throw new IllegalArgumentException("--events must be >= 0, got " + events);
    }
    if (window < 1000) {
      throw new IllegalArgumentException("--window must be >= 1000 events, got " + window);
    }
    if (learners < 1) {
      throw new IllegalArgumentException("--learners must be >= 1, got " + learners);
    }
    if (model.optimizer == null && model.lr == null && model.lrDense == null && model.lrEmbedding == null) {
      // Measured on this stream (300k events, drift at 150k; docs/benchmarks.md): SGD at 0.1 is back
      // within 0.01 of its pre-drift AUC about 30k events after the drift, whatever order the
      // partitions interleave in. Adagrad's shrinking steps take 120k-150k events (lr 0.01-0.05),
      // and at learn's default lr 0.1 its AUC depends on the event order by up to 0.08.
      model.optimizer = "sgd";
      model.lr = 0.1f;
    }
    ModelConfig config = model.toConfig();
    boolean generated = inputs == null || inputs.isEmpty();
    long drift = !generated ? -1 : driftAt != null ? driftAt : events > 0 ? events / 2 : 500_000;
    Path dir = out != null ? out
        : Path.of("runs", "demo-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    Files.createDirectories(dir);
    PrintStream err = System.err;

    CountDownLatch cleanedUp = new CountDownLatch(1);
    Thread hook = new Thread(() -> {
      stopRequested.set(true);
      try {
        cleanedUp.await(); // let the main thread stop everything and write the report
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "tinyrec-demo-stop");
    Runtime.getRuntime().addShutdownHook(hook);

    try (LocalKafkaBroker broker = LocalKafkaBroker.start(0, dir.resolve("kafka"), Map.of())) {
      String bootstrap = broker.bootstrapServers();
      err.println("demo: Kafka broker at " + bootstrap + " (data in " + dir.resolve("kafka") + ")");
      TrainJobConfig job = TrainJobConfig.builder(bootstrap, config)
          .topics(TopicDefaults.EVENTS, TopicDefaults.SCORES, TopicDefaults.SYNC, TopicDefaults.MODELS, TopicDefaults.DLQ)
          .modelName(MODEL).learners(learners).snapshotInterval(snapshotInterval).metricsWindow(window).build();
      TrainCommand.prepareTopics(job, Map.of());
      JobClient client = LocalTrainRunner.start(job,
          new LocalTrainRunner.Options(dir.resolve("checkpoints"), null, webUiPort, 3));
      err.printf("demo: training job %s on a local Flink; web UI http://localhost:%s%n", client.getJobID(),
          webUiPort == 0 ? "<see log>" : Integer.toString(webUiPort));

      ServingMetrics servingMetrics = new ServingMetrics();
      SnapshotSubscriber subscriber = SnapshotSubscriber.start(
          SnapshotSubscriber.Settings.of(bootstrap).withTopic(TopicDefaults.MODELS).withModelName(MODEL), servingMetrics);
      ScoringServer server;
      try {
        server = ScoringServer.start(new ScoringServer.Settings("127.0.0.1", port, 2, 16 << 20), subscriber,
            servingMetrics);
      } catch (BindException e) {
        subscriber.close();
        LocalTrainRunner.cancelAndWait(client, Duration.ofSeconds(60));
        throw new IllegalArgumentException("cannot serve on port " + port + ": " + e.getMessage()
            + " (pick another with --port, or 0 for any free one)");
      }
      err.println("demo: serving on " + server.uri() + " (POST /score, GET /model, /healthz, /metrics)");

      AtomicReference<Throwable> replayFailure = new AtomicReference<>();
      AtomicReference<ReplaySummary> replayEnded = new AtomicReference<>();
      Thread replay = new Thread(() -> {
        try {
          replayEnded.set(new Replayer(replayConfig(bootstrap, generated, drift), quiet(), quiet()).run());
        } catch (Throwable t) {
          replayFailure.set(t);
        }
      }, "tinyrec-demo-replay");
      replay.setDaemon(true);
      replay.start();
      err.println(generated
          ? String.format(Locale.ROOT, "demo: replaying the generated stream (seed %d, teacher changes at event %,d)%s",
              seed, drift, events > 0 ? String.format(Locale.ROOT, ", %,d events", events) : ", until Ctrl-C")
          : "demo: replaying " + inputs);

      long trained = follow(bootstrap, subscriber, replayFailure, replayEnded, err);
      err.println();
      err.println("demo: stopping ...");
      server.close();
      subscriber.close();
      LocalTrainRunner.cancelAndWait(client, Duration.ofSeconds(60));
      replay.interrupt();

      Path reportDir = dir.resolve("report");
      ReportConfig rc = ReportConfig.of(reportDir,
              KafkaRunReader.Source.of(bootstrap, TopicDefaults.SCORES, TopicDefaults.MODELS, MODEL), List.of())
          .withTitle("tinyrec demo").withMetricsWindow(window);
      if (drift > 0 && drift < trained) {
        rc = rc.withDriftAt(drift);
      }
      ReportResult report = Report.run(rc, w -> err.println("report: " + w));
      System.out.println(report.summary());
      System.out.println("report: " + report.html().toAbsolutePath());
      for (Optional<DriftAnalysis> d : report.drifts()) {
        d.ifPresent(a -> System.out.printf(Locale.ROOT,
            "drift at %,d: window AUC %.4f before, %.4f at its lowest, %s%n", a.driftAt(), a.beforeAuc(), a.minAuc(),
            a.recovered() ? String.format(Locale.ROOT, "back within %.2f (%.4f) at event %,d", a.tolerance(),
                a.recoveredAuc(), a.recoveredAt()) : "not back within " + a.tolerance() + " by the end"));
      }
      if (replayFailure.get() != null) {
        err.println("demo: replay failed: " + replayFailure.get());
        return 1;
      }
      return 0;
    } finally {
      cleanedUp.countDown();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // Ctrl-C: the hook is already running and waits for the latch above
      }
    }
  }

  private ReplayConfig replayConfig(String bootstrap, boolean generated, long drift) {
    ReplayConfig base = generated
        ? ReplayConfig.ofSynthetic(bootstrap, TopicDefaults.EVENTS, events > 0 ? events : Long.MAX_VALUE / 2, seed)
        : ReplayConfig.ofFiles(bootstrap, TopicDefaults.EVENTS, inputs);
    ReplayConfig c = new ReplayConfig(base.bootstrapServers(), base.topic(), Math.max(2, learners), base.inputs(),
        base.synthetic(), base.seed(), drift, base.pace(), base.rate(), base.speedup(), base.daySeconds(),
        base.rowsPerDay(), base.startDay(), base.startTime(), base.fromLine(), base.rejects(), base.producerConfig(),
        false);
    return rate > 0 ? c.withPace(ReplayConfig.Pace.RATE, rate, 0) : c;
  }

  /**
   * Follows the scores topic and the served model, printing the live line, until --events are
   * trained and in a snapshot, or Ctrl-C. Returns the events scored.
   */
  private long follow(String bootstrap, SnapshotSubscriber subscriber, AtomicReference<Throwable> replayFailure,
      AtomicReference<ReplaySummary> replayEnded, PrintStream err) {
    long undecodable = 0;
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    p.put("max.poll.records", "5000");
    SingleObjectCodec<ScoredEvent> codec = SingleObjectCodec.of(ScoredEvent.class);
    ProgressiveMetrics metrics = new ProgressiveMetrics(window);
    boolean console = System.console() != null;
    long scored = 0;
    long lastPrint = 0;
    long lastCount = 0;
    long lastNanos = System.nanoTime();
    double rateNow = 0;
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> parts = c.partitionsFor(TopicDefaults.SCORES).stream()
          .map(i -> new TopicPartition(TopicDefaults.SCORES, i.partition())).toList();
      c.assign(parts);
      c.seekToBeginning(parts);
      while (!stopRequested.get() && replayFailure.get() == null) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
          try {
            ScoredEvent e = codec.decode(r.value());
            scored++;
            if (e.getLabel() != null) {
              metrics.add(e.getScore(), e.getLabel() == 1);
            }
          } catch (RuntimeException bad) {
            // The job writes the scores topic: a record that does not decode was written by something
            // else. It is not scored or counted in the metrics, but it is counted and reported.
            if (undecodable++ == 0) {
              err.println();
              err.println("demo: a record on the scores topic does not decode (" + bad.getMessage() + "); such "
                  + "records are skipped and counted");
            }
          }
        }
        long now = System.nanoTime();
        if (now - lastNanos >= 1_000_000_000L) {
          rateNow = (scored - lastCount) * 1e9 / (now - lastNanos);
          lastCount = scored;
          lastNanos = now;
        }
        if (now - lastPrint >= (console ? 1_000_000_000L : 5_000_000_000L)) {
          lastPrint = now;
          String line = status(scored, rateNow, metrics, subscriber);
          if (console) {
            err.print("\r" + line + "   ");
          } else {
            err.println(line);
          }
          err.flush();
        }
        var served = subscriber.current();
        if (events > 0 && served != null && served.info().eventsTrained() >= events) {
          err.print(console ? "\r" + status(scored, rateNow, metrics, subscriber) + "   " : "");
          break;
        }
        // The replay ended (a file ran out, or rows were rejected) before --events: once every event
        // it delivered is scored and the labelled ones are in a served snapshot, there is no more to wait for.
        ReplaySummary ended = replayEnded.get();
        if (ended != null && scored >= ended.acknowledged()
            && (metrics.count() == 0 || served != null && served.info().eventsTrained() >= metrics.count())) {
          err.print(console ? "\r" + status(scored, rateNow, metrics, subscriber) + "   " : "");
          err.println();
          err.printf(Locale.ROOT, "demo: the replay ended after %,d events%s; all of them are scored and trained%n",
              ended.acknowledged(), events > ended.acknowledged()
                  ? String.format(Locale.ROOT, " (fewer than --events %,d)", events) : "");
          break;
        }
      }
    }
    if (undecodable > 0) {
      err.println();
      err.printf(Locale.ROOT, "demo: %,d records on the scores topic did not decode and were skipped%n", undecodable);
    }
    return scored;
  }

  private String status(long scored, double rateNow, ProgressiveMetrics metrics, SnapshotSubscriber subscriber) {
    var w = metrics.count() > 0 ? metrics.windowed() : null;
    var served = subscriber.current();
    return String.format(Locale.ROOT, "%,11d events  %,7.0f ev/s  window AUC %s  NE %s  model v%s  snapshot age %s",
        scored, rateNow, w == null ? "  -   " : String.format(Locale.ROOT, "%.4f", w.auc()),
        w == null ? "  -   " : String.format(Locale.ROOT, "%.4f", w.ne()),
        served == null ? "-" : Long.toString(served.info().version()),
        served == null ? "-" : String.format(Locale.ROOT, "%.1f s", subscriber.ageMillis() / 1e3));
  }

  private static PrintStream quiet() {
    return new PrintStream(OutputStream.nullOutputStream());
  }
}
