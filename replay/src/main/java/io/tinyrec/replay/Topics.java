package io.tinyrec.replay;

import io.tinyrec.schemas.TopicDefaults;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * The project's topics and their settings (docs/topics.md), and an idempotent way to create them:
 * a missing topic is created, an existing one gets its settings brought up to date, and running it
 * again changes nothing. Partition counts are never changed on an existing topic, since that would
 * move keys between partitions; a topic with fewer partitions than asked for is reported.
 *
 * <p>Stateless and thread-safe; every method blocks on the given Admin client.
 */
public final class Topics {
  /** The models topic's default max.message.bytes: room for the largest snapshot we expect. */
  public static final int DEFAULT_MAX_SNAPSHOT_BYTES = TopicDefaults.MAX_SNAPSHOT_BYTES;
  private static final long TIMEOUT_MS = 30_000;

  private Topics() {}

  /**
   * Names and sizes of the project's topics. The compact constructor validates every field.
   *
   * @param eventsPartitions partitions of events and scores: the parallelism the job can use
   * @param syncRetention how long sync messages are kept; the job only needs the recent ones
   * @param maxSnapshotBytes max.message.bytes of models and sync; producers and consumers of those
   *     topics must raise max.request.size and max.partition.fetch.bytes to match
   */
  public record Settings(String events, int eventsPartitions, String scores, String sync, Duration syncRetention,
      String models, int maxSnapshotBytes, String dlq) {
    public Settings {
      for (String t : List.of(events, scores, sync, models, dlq)) {
        validateName(t);
      }
      if (eventsPartitions < 1) {
        throw new IllegalArgumentException("--events-partitions must be >= 1, got " + eventsPartitions);
      }
      if (syncRetention.toMillis() < 60_000) {
        throw new IllegalArgumentException("--sync-retention must be at least 1 minute, got " + syncRetention);
      }
      if (maxSnapshotBytes < (1 << 20) || maxSnapshotBytes > (1 << 30)) {
        throw new IllegalArgumentException("--max-snapshot-bytes must be between 1 MiB and 1 GiB, got "
            + maxSnapshotBytes);
      }
    }

    /** The default names, 2 event partitions, one hour of sync, 64 MiB snapshots. */
    public static Settings defaults() {
      return new Settings(TopicDefaults.EVENTS, 2, TopicDefaults.SCORES, TopicDefaults.SYNC, Duration.ofHours(1),
          TopicDefaults.MODELS, DEFAULT_MAX_SNAPSHOT_BYTES, TopicDefaults.DLQ);
    }
  }

  /** One topic to create: name, partitions and the topic-level configs it must have. */
  public record Spec(String name, int partitions, Map<String, String> configs) {
    public Spec {
      validateName(name);
      if (partitions < 1) {
        throw new IllegalArgumentException("topic " + name + " needs at least 1 partition, got " + partitions);
      }
      configs = Map.copyOf(configs);
    }
  }

  /** The five topics with their settings. */
  public static List<Spec> specs(Settings s) {
    String maxBytes = Integer.toString(s.maxSnapshotBytes());
    Map<String, String> models = new LinkedHashMap<>();
    models.put("cleanup.policy", "compact");
    models.put("max.message.bytes", maxBytes);
    // Compaction never touches the active segment; rolling every 10 minutes lets old snapshots go.
    models.put("segment.ms", Long.toString(Duration.ofMinutes(10).toMillis()));
    Map<String, String> sync = new LinkedHashMap<>();
    sync.put("cleanup.policy", "delete");
    sync.put("retention.ms", Long.toString(s.syncRetention().toMillis()));
    // Retention deletes whole segments; a segment per retention period bounds what is kept to about 2x.
    sync.put("segment.ms", Long.toString(s.syncRetention().toMillis()));
    sync.put("max.message.bytes", maxBytes);
    return List.of(
        new Spec(s.events(), s.eventsPartitions(), Map.of()),
        new Spec(s.scores(), s.eventsPartitions(), Map.of()),
        // One partition: sync messages must be read in version order.
        new Spec(s.sync(), 1, sync),
        new Spec(s.models(), 1, models),
        new Spec(s.dlq(), 1, Map.of()));
  }

  /**
   * Makes each topic exist with its settings. Returns one line per topic saying what was done.
   *
   * @throws IllegalStateException when Kafka refuses or does not answer in 30 s
   */
  public static List<String> ensure(Admin admin, Collection<Spec> specs) {
    List<String> report = new ArrayList<>();
    for (Spec spec : specs) {
      report.add(ensure(admin, spec));
    }
    return report;
  }

  /** Makes one topic exist with its settings; returns what was done. */
  public static String ensure(Admin admin, Spec spec) {
    try {
      Optional<TopicDescription> existing = describe(admin, spec.name());
      if (existing.isEmpty()) {
        try {
          NewTopic t = new NewTopic(spec.name(), Optional.of(spec.partitions()), Optional.empty())
              .configs(spec.configs());
          admin.createTopics(List.of(t)).all().get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
          return "created " + describe(spec);
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw e;
          }
          existing = describe(admin, spec.name()); // created concurrently by someone else
          if (existing.isEmpty()) {
            throw e;
          }
        }
      }
      int have = existing.get().partitions().size();
      List<String> changed = alignConfigs(admin, spec);
      String line = "exists  " + spec.name() + " (" + have + " partition" + (have == 1 ? "" : "s") + ")";
      line += changed.isEmpty() ? ", settings up to date" : ", updated " + String.join(", ", changed);
      if (have < spec.partitions()) {
        line += "; WARNING: it has fewer partitions than the " + spec.partitions() + " asked for. Partitions are "
            + "never added automatically because that moves keys; use kafka-topics --alter if you mean it";
      }
      return line;
    } catch (ExecutionException e) {
      String hint = e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException
          ? " (is the broker up, and are the bootstrap servers and security settings right?)" : "";
      throw new IllegalStateException("cannot create topic " + spec.name() + ": " + e.getCause().getMessage() + hint,
          e.getCause());
    } catch (TimeoutException e) {
      throw new IllegalStateException("Kafka did not answer within " + TIMEOUT_MS / 1000 + " s while creating topic "
          + spec.name() + ": is bootstrap.servers right and the broker up?", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating topic " + spec.name(), e);
    }
  }

  /** The topic's description, or empty when it does not exist. */
  public static Optional<TopicDescription> describe(Admin admin, String topic)
      throws InterruptedException, ExecutionException, TimeoutException {
    try {
      return Optional.of(admin.describeTopics(List.of(topic)).allTopicNames().get(TIMEOUT_MS, TimeUnit.MILLISECONDS)
          .get(topic));
    } catch (ExecutionException e) {
      if (e.getCause() instanceof UnknownTopicOrPartitionException) {
        return Optional.empty();
      }
      throw e;
    }
  }

  private static List<String> alignConfigs(Admin admin, Spec spec)
      throws InterruptedException, ExecutionException, TimeoutException {
    if (spec.configs().isEmpty()) {
      return List.of();
    }
    ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, spec.name());
    Config current = admin.describeConfigs(List.of(res)).all().get(TIMEOUT_MS, TimeUnit.MILLISECONDS).get(res);
    List<AlterConfigOp> ops = new ArrayList<>();
    List<String> changed = new ArrayList<>();
    for (Map.Entry<String, String> want : spec.configs().entrySet()) {
      ConfigEntry have = current.get(want.getKey());
      if (have == null || !want.getValue().equals(have.value())) {
        ops.add(new AlterConfigOp(new ConfigEntry(want.getKey(), want.getValue()), AlterConfigOp.OpType.SET));
        changed.add(want.getKey() + "=" + want.getValue());
      }
    }
    if (!ops.isEmpty()) {
      Map<ConfigResource, Collection<AlterConfigOp>> m = new HashMap<>();
      m.put(res, ops);
      admin.incrementalAlterConfigs(m).all().get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
    }
    return changed;
  }

  private static String describe(Spec spec) {
    StringBuilder sb = new StringBuilder(spec.name()).append(" (").append(spec.partitions()).append(" partition")
        .append(spec.partitions() == 1 ? "" : "s");
    new java.util.TreeMap<>(spec.configs()).forEach((k, v) -> sb.append(", ").append(k).append('=').append(v));
    return sb.append(')').toString();
  }

  private static void validateName(String topic) {
    if (topic == null || topic.isEmpty() || topic.length() > 249 || !topic.matches("[a-zA-Z0-9._-]+")
        || topic.equals(".") || topic.equals("..")) {
      throw new IllegalArgumentException("invalid topic name '" + topic
          + "': use 1 to 249 characters from a-z, A-Z, 0-9, '.', '_' and '-'");
    }
  }
}
