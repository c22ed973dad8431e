package io.tinyrec.cli;

import io.tinyrec.replay.LocalKafkaBroker;
import io.tinyrec.replay.Topics;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code tinyrec kafka}: a real single-node Kafka broker on localhost until Ctrl-C. */
@Command(name = "kafka", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Starts a real Apache Kafka broker (KRaft mode, one combined broker and controller node) inside "
        + "this JVM, listening on localhost only. Prints its bootstrap address on stdout and runs until Ctrl-C.",
        "It runs from the project's Maven artifacts: no Docker, no download. Every replication factor is 1, "
        + "transactions may last up to an hour (Flink's default), and topics are never auto-created: make them with "
        + "'tinyrec topics create' or let 'tinyrec replay' create its topic."},
    footer = {"", "Examples:",
        "  ./tinyrec kafka                     # port 9092, data deleted on exit",
        "  ./tinyrec kafka --data-dir runs/kafka --create-topics   # data kept"})
public final class KafkaCommand implements Callable<Integer> {
  @Option(names = "--port", defaultValue = "9092", paramLabel = "P",
      description = "Client port on localhost (default ${DEFAULT-VALUE}); 0 picks a free one.")
  int port;

  @Option(names = "--data-dir", paramLabel = "DIR",
      description = "Directory for the broker's logs and metadata, created and formatted on first use; its topics "
          + "and records survive restarts. Default: a temporary directory deleted on exit.")
  Path dataDir;

  @Option(names = "--create-topics",
      description = "Also create the project's topics with their default settings (see 'tinyrec topics create').")
  boolean createTopics;

  @Option(names = "--broker-config", paramLabel = "KEY=VALUE",
      description = "A broker setting overriding the defaults, e.g. --broker-config log.retention.hours=1. "
          + "Repeatable.")
  Map<String, String> brokerConfig = new LinkedHashMap<>();

  @Override
  public Integer call() throws InterruptedException {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("--port must be between 0 and 65535, got " + port);
    }
    long start = System.nanoTime();
    LocalKafkaBroker broker = LocalKafkaBroker.start(port, dataDir, brokerConfig);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      System.err.println("kafka: stopping ...");
      broker.close();
      System.err.println("kafka: stopped" + (broker.isTemporary() ? "; temporary data deleted" : ""));
      stopped.countDown();
    }, "tinyrec-kafka-shutdown"));
    if (createTopics) {
      try (Admin admin = Admin.create(Map.<String, Object>of("bootstrap.servers", broker.bootstrapServers()))) {
        for (String line : Topics.ensure(admin, Topics.specs(Topics.Settings.defaults()))) {
          System.err.println("kafka: " + line);
        }
      }
    }
    System.err.printf("kafka: Apache Kafka %s broker (KRaft) up in %.1f s; data in %s%s%n",
        LocalKafkaBroker.kafkaVersion(), (System.nanoTime() - start) / 1e9, broker.dataDir(),
        broker.isTemporary() ? " (deleted on exit; use --data-dir to keep it)" : "");
    System.err.println("kafka: bootstrap servers below; Ctrl-C stops the broker");
    System.out.println(broker.bootstrapServers());
    System.out.flush();
    stopped.await();
    return 0;
  }
}
