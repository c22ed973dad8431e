package io.tinyrec.cli;

import io.tinyrec.serving.BadSnapshotException;
import io.tinyrec.serving.ModelJson;
import io.tinyrec.serving.ServedModel;
import io.tinyrec.serving.ServingMetrics;
import io.tinyrec.serving.SnapshotDecoder;
import io.tinyrec.serving.SnapshotInfo;
import io.tinyrec.serving.SnapshotSubscriber;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tinyrec snapshot}: looking at snapshots. */
@Command(name = "snapshot", mixinStandardHelpOptions = true,
    description = "Looks at model snapshots: files, or the newest committed one on the models topic.",
    subcommands = {SnapshotCommand.Inspect.class})
public final class SnapshotCommand implements Runnable {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.err);
  }

  @Command(name = "inspect", mixinStandardHelpOptions = true, sortOptions = false,
      description = {"Prints a snapshot's metadata after checking it as serving does (Avro value, model name, "
          + "checksum, codec format and shapes, config): name, version, epoch, creation time, events trained, "
          + "metrics, size and config. Exits 1 if the snapshot is bad, saying why.",
          "FILE is the codec file of learn --save-snapshot or a ModelSnapshot record value; with --bootstrap-servers "
              + "it is the newest committed snapshot of --model on the models topic (read_committed)."},
      footer = {"", "Examples:", "  ./tinyrec snapshot inspect runs/model.trsn",
          "  ./tinyrec snapshot inspect --bootstrap-servers localhost:9092 --models-topic models --json"})
  static final class Inspect implements Callable<Integer> {
    @Parameters(arity = "0..1", paramLabel = "FILE", description = "A snapshot file.")
    Path file;

    @Mixin
    ModelsTopicOptions topic;

    @Option(names = "--timeout", defaultValue = "30s", converter = Sizes.Span.class, paramLabel = "DURATION",
        description = "How long to try to read the topic (default ${DEFAULT-VALUE}).")
    Duration timeout;

    @Option(names = "--json", description = "One JSON object, as GET /model of tinyrec serve answers.")
    boolean json;

    @Override
    public Integer call() throws Exception {
      if ((file == null) == (topic.bootstrapServers == null)) {
        throw new IllegalArgumentException(file == null
            ? "give a snapshot FILE, or --bootstrap-servers HOST:PORT to read the models topic"
            : "give a snapshot FILE or --bootstrap-servers, not both");
      }
      ServedModel m;
      if (file != null) {
        if (!java.nio.file.Files.isReadable(file)) {
          throw new IllegalArgumentException("snapshot file " + file + " cannot be read");
        }
        try {
          m = SnapshotDecoder.fromFile(file, topic.model);
        } catch (BadSnapshotException e) {
          System.err.println("snapshot inspect: bad snapshot (" + e.reason().label() + "): " + e.getMessage());
          return 1;
        }
      } else {
        SnapshotSubscriber.Settings s = new SnapshotSubscriber.Settings(topic.bootstrapServers, topic.modelsTopic,
            topic.model, topic.client(), Duration.ofMillis(100));
        ServingMetrics metrics = new ServingMetrics();
        m = SnapshotSubscriber.latest(s, metrics, timeout);
        if (m == null) {
          System.err.println("snapshot inspect: no good committed snapshot of model '" + topic.model + "' on topic "
              + topic.modelsTopic + (metrics.snapshotFailures() > 0 ? " (" + metrics.snapshotFailures()
              + " refused, see above)" : "") + "; is --model the job's --model-name?");
          return 1;
        }
      }
      PrintStream out = System.out;
      if (json) {
        out.print(new String(ModelJson.describe(m, -1, System.currentTimeMillis()), StandardCharsets.UTF_8));
      } else {
        print(out, m);
      }
      out.flush();
      return 0;
    }

    static void print(PrintStream out, ServedModel m) {
      SnapshotInfo i = m.info();
      long now = System.currentTimeMillis();
      row(out, "model", i.modelName());
      row(out, "version", i.version() + (i.version() == 0 && i.source().startsWith("file") ? " (a bare codec file "
          + "carries no version)" : ""));
      row(out, "epoch", Long.toString(i.epoch()));
      row(out, "created", Instant.ofEpochMilli(i.createdAtMs()) + String.format(Locale.ROOT, " (%.1f s ago)",
          m.ageMillis(now) / 1000.0));
      if (i.eventTimeWatermarkMs() != Long.MIN_VALUE) {
        row(out, "event time", "up to " + Instant.ofEpochMilli(i.eventTimeWatermarkMs()));
      }
      row(out, "events trained", String.format(Locale.ROOT, "%,d", i.eventsTrained()));
      row(out, "metrics", metrics(i.metrics()));
      if (i.windowMetrics() != null) {
        row(out, "window metrics", metrics(i.windowMetrics()) + String.format(Locale.ROOT, " (last %,d events)",
            i.metricsWindow()));
      }
      row(out, "size", String.format(Locale.ROOT, "%,d codec bytes, format version %d, %s, codec CRC-32 %08x",
          i.codecBytes(), i.formatVersion(), i.optimizerState() ? "with optimizer state" : "weights only",
          i.codecCrc()));
      row(out, "config", i.config().toString());
      row(out, "source", i.source());
    }

    private static String metrics(SnapshotInfo.Metrics m) {
      if (m == null) {
        return "not recorded";
      }
      return String.format(Locale.ROOT, "%,d events: auc %.4f, logloss %.4f, ne %.4f, calibration %.3f", m.count(),
          m.auc(), m.logloss(), m.ne(), m.calibration());
    }

    private static void row(PrintStream out, String name, String value) {
      out.printf("%-15s %s%n", name, value);
    }
  }
}
