package io.tinyrec.replay;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.AppInfoParser;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * A real Apache Kafka broker in KRaft mode, running inside this JVM as one combined broker and
 * controller node on localhost. {@code tinyrec kafka}, the demo and the integration tests all use it.
 *
 * <p>It is the server the {@code kafka-server-start} script runs ({@link KafkaRaftServer}), configured
 * from a generated property set and with its storage formatted the way {@code kafka-storage format
 * --ignore-formatted} does, at the latest production metadata version. Kafka's own test kit
 * (KafkaClusterTestKit) was not used because it always binds random ports and re-creates its storage
 * identity on each start, so its data cannot survive a restart.
 *
 * <p>Settings fit a single node: every replication factor and min.insync.replicas is 1; no
 * rebalance delay; {@code transaction.max.timeout.ms} is one hour so a Flink EXACTLY_ONCE sink works
 * with its default timeout; unstable APIs and features are off; topics are never auto-created (they
 * are made by {@link Topics} with their intended settings).
 *
 * <p>With a data directory, data and topics survive restarts; without one, a temporary directory is
 * used and deleted by {@link #close()}. The broker listens on 127.0.0.1 only. Thread-safe; close it once.
 *
 * <p>Besides the PLAINTEXT client listener it can open more, e.g. SASL_PLAINTEXT or SSL ones (see
 * {@link Listener}), each on its own port, so clients with security settings can be tested against
 * it; their settings ({@code listener.name.<name>.*}) come with the extra broker config.
 */
public final class LocalKafkaBroker implements AutoCloseable {
  /** Name of the client listener. */
  public static final String LISTENER = "PLAINTEXT";
  private static final String CONTROLLER_LISTENER = "CONTROLLER";
  private static final int NODE_ID = 1;

  private final Path dataDir;
  private final Path logDir;
  private final boolean temporary;
  private final int port;
  private final Map<String, Integer> listenerPorts;
  private final KafkaRaftServer server;
  private boolean closed;

  /**
   * A client listener besides PLAINTEXT.
   *
   * @param name listener name, e.g. SASL_PLAINTEXT or EXTERNAL (settings for it are {@code
   *     listener.name.<lower-case name>.*})
   * @param securityProtocol PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL
   */
  public record Listener(String name, String securityProtocol) {}

  private LocalKafkaBroker(Path dataDir, Path logDir, boolean temporary, int port, Map<String, Integer> listenerPorts,
      KafkaRaftServer server) {
    this.dataDir = dataDir;
    this.logDir = logDir;
    this.temporary = temporary;
    this.port = port;
    this.listenerPorts = Map.copyOf(listenerPorts);
    this.server = server;
  }

  /**
   * Starts a broker and returns once it accepts requests.
   *
   * @param port client port on localhost, or 0 for any free port
   * @param dataDir where topics and metadata live (created if missing; formatted on first use), or
   *     null for a temporary directory that {@link #close()} deletes
   * @param extraConfig broker settings that override the defaults above (may be empty)
   * @throws IllegalArgumentException when the port is taken or the directory is unusable
   */
  public static LocalKafkaBroker start(int port, Path dataDir, Map<String, String> extraConfig) {
    return start(port, dataDir, extraConfig, List.of());
  }

  /**
   * Starts a broker with more client listeners than PLAINTEXT, each on a free port (see {@link
   * #bootstrapServers(String)}); otherwise as {@link #start(int, Path, Map)}. The broker itself (the
   * controller, and itself as the inter-broker peer) keeps using PLAINTEXT.
   */
  public static LocalKafkaBroker start(int port, Path dataDir, Map<String, String> extraConfig,
      List<Listener> extraListeners) {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("--port must be between 0 and 65535, got " + port);
    }
    // Checked before anything is created, so a refused start leaves nothing behind.
    int brokerPort = port == 0 ? freePort() : requireFree(port);
    boolean temporary = dataDir == null;
    Path dir;
    try {
      dir = temporary ? Files.createTempDirectory("tinyrec-kafka-") : dataDir.toAbsolutePath();
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot create the Kafka data directory " + dataDir + ": " + e, e);
    }
    if (!Files.isWritable(dir)) {
      throw new IllegalArgumentException("--data-dir " + dir + " is not writable");
    }
    Path logDir = dir.resolve("kafka");
    int controllerPort = freePort();
    while (controllerPort == brokerPort) {
      controllerPort = freePort();
    }
    Map<String, String> props = config(logDir, brokerPort, controllerPort);
    Map<String, Integer> listenerPorts = new HashMap<>();
    listenerPorts.put(LISTENER, brokerPort);
    for (Listener l : extraListeners) {
      int p = freePort();
      while (p == brokerPort || p == controllerPort || listenerPorts.containsValue(p)) {
        p = freePort();
      }
      if (listenerPorts.putIfAbsent(l.name(), p) != null || l.name().equals(CONTROLLER_LISTENER)) {
        throw new IllegalArgumentException("listener " + l.name() + " is given twice or is reserved");
      }
      props.merge("listeners", l.name() + "://127.0.0.1:" + p, (a, b) -> a + "," + b);
      props.merge("advertised.listeners", l.name() + "://localhost:" + p, (a, b) -> a + "," + b);
      props.merge("listener.security.protocol.map", l.name() + ":" + l.securityProtocol(), (a, b) -> a + "," + b);
    }
    props.putAll(extraConfig);
    try {
      Files.createDirectories(logDir);
      format(logDir);
      KafkaConfig config;
      try {
        config = new KafkaConfig(props, false);
      } catch (org.apache.kafka.common.config.ConfigException e) {
        throw new IllegalArgumentException("invalid broker setting: " + e.getMessage(), e);
      }
      KafkaRaftServer server = new KafkaRaftServer(config, Time.SYSTEM);
      LocalKafkaBroker broker = new LocalKafkaBroker(dir, logDir, temporary, brokerPort, listenerPorts, server);
      try {
        server.startup();
        broker.awaitReady(Duration.ofSeconds(60));
      } catch (RuntimeException | Error e) {
        broker.close();
        throw e;
      }
      return broker;
    } catch (IOException e) {
      if (temporary) {
        deleteRecursively(dir);
      }
      throw new UncheckedIOException("cannot prepare Kafka storage in " + logDir, e);
    } catch (RuntimeException e) {
      if (temporary) {
        deleteRecursively(dir);
      }
      throw e;
    }
  }

  /** The broker's settings, as a server.properties file would hold them. */
  static Map<String, String> config(Path logDir, int brokerPort, int controllerPort) {
    Map<String, String> p = new HashMap<>();
    p.put("process.roles", "broker,controller");
    p.put("node.id", Integer.toString(NODE_ID));
    p.put("controller.quorum.voters", NODE_ID + "@127.0.0.1:" + controllerPort);
    p.put("listeners", LISTENER + "://127.0.0.1:" + brokerPort + "," + CONTROLLER_LISTENER + "://127.0.0.1:"
        + controllerPort);
    p.put("advertised.listeners", LISTENER + "://localhost:" + brokerPort);
    p.put("listener.security.protocol.map", LISTENER + ":PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT");
    p.put("controller.listener.names", CONTROLLER_LISTENER);
    p.put("inter.broker.listener.name", LISTENER);
    p.put("log.dirs", logDir.toString());
    p.put("metadata.log.dir", logDir.toString());
    // One node: every replicated internal topic must make do with one replica, or InitProducerId and
    // FindCoordinator time out.
    p.put("offsets.topic.replication.factor", "1");
    p.put("transaction.state.log.replication.factor", "1");
    p.put("transaction.state.log.min.isr", "1");
    p.put("share.coordinator.state.topic.replication.factor", "1");
    p.put("share.coordinator.state.topic.min.isr", "1");
    p.put("default.replication.factor", "1");
    p.put("min.insync.replicas", "1");
    // Fewer internal partitions: faster first use of groups and transactions on a small machine.
    p.put("offsets.topic.num.partitions", "4");
    p.put("transaction.state.log.num.partitions", "4");
    p.put("share.coordinator.state.topic.num.partitions", "4");
    p.put("num.partitions", "1");
    p.put("group.initial.rebalance.delay.ms", "0");
    // Flink's KafkaSink defaults to a one-hour transaction timeout; the broker's default cap is 15 min.
    p.put("transaction.max.timeout.ms", Long.toString(TimeUnit.HOURS.toMillis(1)));
    p.put("auto.create.topics.enable", "false");
    p.put("unstable.api.versions.enable", "false");
    p.put("unstable.feature.versions.enable", "false");
    // The log cleaner (compacted models topic) allocates this once; the default is 128 MiB.
    p.put("log.cleaner.dedupe.buffer.size", Integer.toString(16 << 20));
    return p;
  }

  /** Formats the storage unless it already is, like {@code kafka-storage format --ignore-formatted}. */
  private static void format(Path logDir) {
    try {
      // A formatted directory keeps its cluster id; the formatter then only checks it is consistent.
      Path meta = logDir.resolve("meta.properties");
      String clusterId = Files.exists(meta) ? readClusterId(meta) : Uuid.randomUuid().toString();
      new Formatter()
          .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
          .setNodeId(NODE_ID)
          .setClusterId(clusterId)
          .setDirectories(List.of(logDir.toString()))
          .setMetadataLogDirectory(logDir.toString())
          .setReleaseVersion(MetadataVersion.latestProduction())
          .setUnstableFeatureVersionsEnabled(false)
          .setControllerListenerName(CONTROLLER_LISTENER)
          .setIgnoreFormatted(true)
          .run();
    } catch (Exception e) {
      throw new IllegalArgumentException("cannot format Kafka storage in " + logDir + ": " + e.getMessage(), e);
    }
  }

  private void awaitReady(Duration timeout) {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
    long deadline = System.nanoTime() + timeout.toNanos();
    try (Admin admin = Admin.create(p)) {
      while (true) {
        try {
          if (!admin.describeCluster().nodes().get(timeout.toMillis(), TimeUnit.MILLISECONDS).isEmpty()) {
            return;
          }
        } catch (ExecutionException | TimeoutException e) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("Kafka broker on port " + port + " did not become ready within "
                + timeout.toSeconds() + " s", e);
          }
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("Kafka broker on port " + port + " registered no node within "
              + timeout.toSeconds() + " s");
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the Kafka broker", e);
    }
  }

  /** host:port for clients' bootstrap.servers. */
  public String bootstrapServers() {
    return "localhost:" + port;
  }

  /** host:port of a client listener (PLAINTEXT or one given at start). */
  public String bootstrapServers(String listenerName) {
    Integer p = listenerPorts.get(listenerName);
    if (p == null) {
      throw new IllegalArgumentException("no listener " + listenerName + "; this broker has " + listenerPorts.keySet());
    }
    return "localhost:" + p;
  }

  public int port() {
    return port;
  }

  /** The data directory (the temporary one when none was given). */
  public Path dataDir() {
    return dataDir;
  }

  /** True when the data directory is deleted on close. */
  public boolean isTemporary() {
    return temporary;
  }

  /** The Kafka version of the broker's jars. */
  public static String kafkaVersion() {
    return AppInfoParser.getVersion();
  }

  /** The cluster id written when the storage was first formatted. */
  public String clusterId() {
    return readClusterId(logDir.resolve("meta.properties"));
  }

  private static String readClusterId(Path metaProperties) {
    Properties meta = new Properties();
    try (var in = Files.newInputStream(metaProperties)) {
      meta.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + metaProperties, e);
    }
    String id = meta.getProperty("cluster.id");
    if (id == null) {
      throw new IllegalArgumentException(metaProperties + " has no cluster.id: not a Kafka data directory?");
    }
    return id;
  }

  /** Stops the broker (a controlled shutdown) and deletes a temporary data directory. Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      server.shutdown();
      server.awaitShutdown();
    } finally {
      if (temporary) {
        deleteRecursively(dataDir);
      }
    }
  }

  private static int requireFree(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
      return port;
    } catch (IOException e) {
      throw new IllegalArgumentException("--port " + port + " is already in use on localhost (another broker?): "
          + e.getMessage());
    }
  }

  /**
   * A port that was free a moment ago. Another process could take it before the broker binds it; the
   * window is a few milliseconds, and the broker then fails to start with a bind error naming the port.
   */
  private static int freePort() {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot find a free port on localhost", e);
    }
  }

  private static void deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try {
      Files.walkFileTree(dir, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
          Files.deleteIfExists(file);
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
          Files.deleteIfExists(d);
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete the temporary Kafka directory " + dir, e);
    }
  }
}
