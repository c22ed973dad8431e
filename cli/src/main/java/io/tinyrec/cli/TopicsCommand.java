package io.tinyrec.cli;

import io.tinyrec.replay.KafkaProperties;
import io.tinyrec.replay.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code tinyrec topics}: the project's topics. */
@Command(name = "topics", mixinStandardHelpOptions = true,
    description = "Creates or shows the project's topics: events, scores, sync, models and dlq (docs/topics.md).",
    subcommands = {TopicsCommand.Create.class, TopicsCommand.Describe.class})
public final class TopicsCommand implements Runnable {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.err);
  }

  /** Connection and topic-name flags shared by the subcommands. */
  static final class Names {
    @Option(names = "--bootstrap-servers", required = true, paramLabel = "HOST:PORT[,...]",
        description = "Kafka bootstrap servers, e.g. localhost:9092.")
    String bootstrapServers;

    @Option(names = "--command-config", paramLabel = "FILE",
        description = "Kafka admin client properties (security: SASL/TLS settings), as for kafka-topics.sh.")
    Path commandConfig;

    @Option(names = "--events", defaultValue = "events", description = "Name of the events topic (default ${DEFAULT-VALUE}).")
    String events;

    @Option(names = "--scores", defaultValue = "scores", description = "Name of the scores topic (default ${DEFAULT-VALUE}).")
    String scores;

    @Option(names = "--sync", defaultValue = "sync", description = "Name of the sync topic (default ${DEFAULT-VALUE}).")
    String sync;

    @Option(names = "--models", defaultValue = "models", description = "Name of the models topic (default ${DEFAULT-VALUE}).")
    String models;

    @Option(names = "--dlq", defaultValue = "dlq", description = "Name of the dead-letter topic (default ${DEFAULT-VALUE}).")
    String dlq;

    Admin admin() {
      Map<String, Object> p = new HashMap<>();
      if (commandConfig != null) {
        p.putAll(KafkaProperties.load(commandConfig, "--command-config"));
      }
      p.put("bootstrap.servers", bootstrapServers);
      p.putIfAbsent("client.id", "tinyrec-topics");
      // Fail in seconds, not a minute, when the servers are wrong or down.
      p.putIfAbsent("default.api.timeout.ms", "20000");
      p.putIfAbsent("request.timeout.ms", "10000");
      return Admin.create(p);
    }
  }

  @Command(name = "create", mixinStandardHelpOptions = true, sortOptions = false,
      description = {"Creates the project's topics with their settings. Running it again is harmless: existing topics "
          + "keep their data and partitions, and their settings are brought up to date.",
          "events and scores: --events-partitions partitions. sync: 1 partition, time retention. models: 1 partition, "
              + "cleanup.policy=compact, max.message.bytes = --max-snapshot-bytes. dlq: 1 partition."},
      footer = {"", "Example:", "  ./tinyrec topics create --bootstrap-servers localhost:9092 --events-partitions 2"})
  static final class Create implements Callable<Integer> {
    @Mixin
    Names names;

    @Option(names = "--events-partitions", defaultValue = "2",
        description = "Partitions of events and scores: the learner parallelism they can feed (default ${DEFAULT-VALUE}).")
    int eventsPartitions;

    @Option(names = "--sync-retention", defaultValue = "1h", converter = Sizes.Span.class, paramLabel = "DURATION",
        description = "How long the sync topic keeps model updates, e.g. 30m, 1h (default ${DEFAULT-VALUE}).")
    Duration syncRetention;

    @Option(names = "--max-snapshot-bytes", defaultValue = "64MiB", converter = Sizes.ByteSize.class,
        paramLabel = "SIZE",
        description = "max.message.bytes of the models and sync topics: above the largest model snapshot "
            + "(default ${DEFAULT-VALUE}). Their producers need max.request.size and their consumers "
            + "max.partition.fetch.bytes at least as large.")
    int maxSnapshotBytes;

    @Override
    public Integer call() {
      Topics.Settings s = new Topics.Settings(names.events, eventsPartitions, names.scores, names.sync, syncRetention,
          names.models, maxSnapshotBytes, names.dlq);
      try (Admin admin = names.admin()) {
        for (String line : Topics.ensure(admin, Topics.specs(s))) {
          System.out.println("topics: " + line);
        }
      }
      return 0;
    }
  }

  @Command(name = "describe", mixinStandardHelpOptions = true, sortOptions = false,
      description = "Shows each project topic's partitions and the settings that differ from the broker's defaults.")
  static final class Describe implements Callable<Integer> {
    @Mixin
    Names names;

    @Override
    public Integer call() throws Exception {
      List<String> topics = List.of(names.events, names.scores, names.sync, names.models, names.dlq);
      int missing = 0;
      try (Admin admin = names.admin()) {
        for (String t : topics) {
          var d = Topics.describe(admin, t);
          if (d.isEmpty()) {
            System.out.println(t + ": missing (run 'tinyrec topics create')");
            missing++;
            continue;
          }
          TopicDescription td = d.get();
          ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, t);
          Config c = admin.describeConfigs(List.of(res)).all().get(30, TimeUnit.SECONDS).get(res);
          List<String> set = new ArrayList<>();
          c.entries().stream().filter(e -> e.source() == org.apache.kafka.clients.admin.ConfigEntry.ConfigSource
                  .DYNAMIC_TOPIC_CONFIG)
              .forEach(e -> set.add(e.name() + "=" + e.value()));
          set.sort(null);
          System.out.println(t + ": " + td.partitions().size() + " partition" + (td.partitions().size() == 1 ? "" : "s")
              + (set.isEmpty() ? "" : ", " + String.join(", ", set)));
        }
      }
      return missing == 0 ? 0 : 1;
    }
  }
}
