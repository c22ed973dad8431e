package io.tinyrec.cli;

import io.tinyrec.replay.KafkaProperties;
import io.tinyrec.report.KafkaRunReader;
import io.tinyrec.report.Report;
import io.tinyrec.report.ReportConfig;
import io.tinyrec.report.ReportResult;
import io.tinyrec.schemas.TopicDefaults;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code tinyrec report}: plots of a run as PNGs and one HTML page (see {@link Report}). */
@Command(name = "report", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Writes report.html and one PNG per plot: progressive AUC and NE over events (whole run and "
        + "sliding window), model versions and snapshot sizes over time, and throughput. Reads the streaming job's "
        + "scores and models topics (the metrics are recomputed from the ScoredEvents in scoring order), and/or "
        + "curves written by `learn --curve FILE`, overlaid and labelled by file name. Prints a short summary.",
        "With --drift-at K it marks the drift and reports the window AUC just before K, its lowest point after K, "
            + "and where it comes back within --recovery-tolerance of the level before; without it, a fall of "
            + "0.02 or more below the running peak is reported as a drift found."},
    footer = {"", "Examples:",
        "  ./tinyrec report --bootstrap-servers localhost:9092 --drift-at 100000 --out runs/report",
        "  ./tinyrec learn --input runs/drift.tsv --curve runs/drift.jsonl",
        "  ./tinyrec report --learn-json runs/drift.jsonl runs/other.jsonl --drift-at 150000"})
public final class ReportCommand implements Callable<Integer> {
  @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT[,...]",
      description = "Read the scores and models topics from this Kafka cluster.")
  String bootstrapServers;

  @Option(names = "--scores-topic", defaultValue = TopicDefaults.SCORES, paramLabel = "T",
      description = "Topic of the ScoredEvents (default ${DEFAULT-VALUE}).")
  String scoresTopic;

  @Option(names = "--models-topic", defaultValue = TopicDefaults.MODELS, paramLabel = "T",
      description = "Topic of the ModelSnapshots (default ${DEFAULT-VALUE}); '' to skip the snapshots.")
  String modelsTopic;

  @Option(names = "--model", paramLabel = "NAME",
      description = "Only this model's snapshots (default: every model on the topic).")
  String model;

  @Option(names = "--kafka-config", paramLabel = "FILE",
      description = "Kafka client settings (security and the like) as a properties file.")
  Path kafkaConfig;

  @Option(names = "--timeout", defaultValue = "30s", converter = Sizes.Span.class, paramLabel = "DURATION",
      description = "Fail when reading a topic makes no progress for this long (default ${DEFAULT-VALUE}).")
  Duration timeout;

  @Option(names = "--learn-json", arity = "1..*", paramLabel = "FILE",
      description = "Curves written by `learn --curve FILE` (a `learn --json` line gives one point).")
  List<Path> learnJson;

  @Option(names = "--metrics-window", defaultValue = "100000", paramLabel = "N",
      description = "Events in the sliding window when recomputing from the scores topic (default ${DEFAULT-VALUE}; "
          + "learn curves keep their own).")
  int metricsWindow;

  @Option(names = "--drift-at", paramLabel = "K", description = "Event index where the stream drifts.")
  Long driftAt;

  @Option(names = "--recovery-tolerance", defaultValue = "0.01", paramLabel = "X",
      description = "Recovered means the window AUC is back within X of its level before the drift "
          + "(default ${DEFAULT-VALUE}).")
  double tolerance;

  @Option(names = "--out", paramLabel = "DIR", description = "Output directory (default runs/report-<time>).")
  Path out;

  @Option(names = "--title", defaultValue = "tinyrec report", description = "Page title (default '${DEFAULT-VALUE}').")
  String title;

  @Override
  public Integer call() throws Exception {
    KafkaRunReader.Source kafka = null;
    if (bootstrapServers != null || kafkaConfig != null) {
      Properties client = new Properties();
      if (kafkaConfig != null) {
        client.putAll(KafkaProperties.load(kafkaConfig, "--kafka-config"));
      }
      if (bootstrapServers != null) {
        client.put("bootstrap.servers", bootstrapServers);
      }
      kafka = new KafkaRunReader.Source(client, scoresTopic, modelsTopic.isBlank() ? null : modelsTopic, model,
          timeout);
    }
    Path dir = out != null ? out : Path.of("runs", "report-"
        + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    ReportConfig cfg = new ReportConfig(dir, title, kafka, learnJson, metricsWindow,
        driftAt == null ? OptionalLong.empty() : OptionalLong.of(driftAt), tolerance, 500, 1000, 500);
    ReportResult r;
    try {
      r = Report.run(cfg, w -> System.err.println("report: " + w));
    } catch (IllegalArgumentException e) {
      // An input that cannot be used (missing file, malformed line, missing topic): not a usage error.
      System.err.println("tinyrec report: " + e.getMessage());
      return 1;
    }
    System.out.print(r.summary());
    return 0;
  }
}
