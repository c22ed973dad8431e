package io.tinyrec.serving;

import io.tinyrec.schemas.TopicDefaults;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the models topic and keeps the newest good snapshot of one model ready to serve. Serving
 * systems embed it: {@link #start}, then read {@link #current()} once per request.
 *
 * <p>What it does, on a thread of its own:
 * <ul>
 *   <li>reads with {@code isolation.level=read_committed}, so it only ever sees snapshots of a
 *       completed checkpoint of the job (the job writes them EXACTLY_ONCE);
 *   <li>at start, loads the latest committed snapshot of the model: it reads backwards from the end
 *       of each partition in growing windows until it finds the model's newest record (the topic
 *       is compacted and keyed by model name, so this is one record in the usual case, however
 *       long the topic's history); if that one is bad, the one before it, and so on;
 *   <li>then follows the topic from where that read began, and swaps each newer good snapshot in
 *       with one atomic reference write, so a request that read {@link #current()} once never mixes
 *       two versions;
 *   <li>checks every snapshot before it is swapped in ({@link SnapshotDecoder}: the Avro value, the
 *       model name, the checksum, the codec's format version, shapes and CRC, and the published
 *       config against the codec). A bad one is refused: the last good model keeps serving, a log
 *       line names the topic, partition, offset and reason, and {@link ServingMetrics} counts it by
 *       reason. A good snapshot that is not newer than the one served is skipped and counted.
 * </ul>
 *
 * <p>Records of other models on the same topic are ignored. Thread-safe; {@link #close()} stops
 * the thread and the consumer.
 */
public final class SnapshotSubscriber implements ModelSource {
  private static final Logger LOG = LoggerFactory.getLogger(SnapshotSubscriber.class);
  /** First window of the backward search: the last record and the transaction marker after it. */
  private static final int FIRST_WINDOW = 2;

  private final Settings settings;
  private final ServingMetrics metrics;
  private final byte[] key;
  private final AtomicReference<ServedModel> current = new AtomicReference<>();
  private final Object modelChanged = new Object();
  private final Consumer<byte[], byte[]> consumer;
  private final Thread thread;
  private volatile boolean running = true;
  private volatile long lag = -1;
  private volatile boolean following;
  private volatile String problem;
  /** Where following got to, to go on from after a failure; null until following began. */
  private Map<TopicPartition, Long> resumeFrom;
  /** Whether swaps and progress are logged at INFO (serving) or DEBUG (a one-off read). */
  private final boolean announce;

  /**
   * What to follow.
   *
   * @param bootstrapServers the Kafka bootstrap servers
   * @param topic the models topic
   * @param modelName the model to serve: the records' key and the snapshots' modelName
   * @param client further Kafka client settings (security, timeouts), applied before the
   *     subscriber's own: isolation.level is always read_committed
   * @param pollTimeout how long one poll may wait for records; also bounds how long close() waits
   */
  public record Settings(String bootstrapServers, String topic, String modelName, Map<String, String> client,
      Duration pollTimeout) {
    public Settings {
      if (bootstrapServers == null || bootstrapServers.isBlank()) {
        throw new IllegalArgumentException("--bootstrap-servers is required to follow the models topic");
      }
      if (topic == null || topic.isBlank()) {
        throw new IllegalArgumentException("--models-topic must not be blank");
      }
      if (modelName == null || modelName.isBlank()) {
        throw new IllegalArgumentException("--model must not be blank");
      }
      client = Map.copyOf(client);
      if (pollTimeout.isNegative() || pollTimeout.isZero()) {
        throw new IllegalArgumentException("poll timeout must be positive, got " + pollTimeout);
      }
    }

    /** The default topic and model name, no extra client settings, 100 ms polls. */
    public static Settings of(String bootstrapServers) {
      return new Settings(bootstrapServers, TopicDefaults.MODELS, TopicDefaults.MODEL_NAME, Map.of(),
          Duration.ofMillis(100));
    }

    public Settings withTopic(String t) {
      return new Settings(bootstrapServers, t, modelName, client, pollTimeout);
    }

    public Settings withModelName(String m) {
      return new Settings(bootstrapServers, topic, m, client, pollTimeout);
    }

    public Settings withClient(Map<String, String> c) {
      return new Settings(bootstrapServers, topic, modelName, c, pollTimeout);
    }
  }

  private SnapshotSubscriber(Settings settings, ServingMetrics metrics, boolean announce) {
    this(settings, metrics, announce, new KafkaConsumer<>(consumerProperties(settings), new ByteArrayDeserializer(),
        new ByteArrayDeserializer()));
  }

  private SnapshotSubscriber(Settings settings, ServingMetrics metrics, boolean announce,
      Consumer<byte[], byte[]> consumer) {
    this.settings = settings;
    this.announce = announce;
    this.metrics = metrics;
    this.key = settings.modelName().getBytes(StandardCharsets.UTF_8);
    this.consumer = consumer;
    this.thread = new Thread(this::run, "tinyrec-snapshot-subscriber-" + settings.modelName());
    this.thread.setDaemon(true);
  }

  /**
   * Starts following the topic on a background thread and returns at once; the first model is
   * there when {@link #awaitModel} returns it.
   *
   * @throws KafkaException when the consumer cannot be created (e.g. a bad client setting)
   */
  public static SnapshotSubscriber start(Settings settings, ServingMetrics metrics) {
    return start(settings, metrics, true);
  }

  private static SnapshotSubscriber start(Settings settings, ServingMetrics metrics, boolean announce) {
    SnapshotSubscriber s = new SnapshotSubscriber(settings, metrics, announce);
    s.thread.start();
    return s;
  }

  /** As {@link #start}, on a given consumer (tests: Kafka's MockConsumer). */
  static SnapshotSubscriber start(Settings settings, ServingMetrics metrics, Consumer<byte[], byte[]> consumer) {
    SnapshotSubscriber s = new SnapshotSubscriber(settings, metrics, true, consumer);
    s.thread.start();
    return s;
  }

  /** Whether the subscriber still runs: false once closed, or stopped by an error that retrying cannot mend. */
  public boolean running() {
    return thread.isAlive();
  }

  /**
   * The newest good committed snapshot of the model, read once: the one a new subscriber serves
   * first (a bad newest one is refused, logged and counted, and the one before it tried).
   *
   * @return the model, or null when the topic holds no good snapshot of it
   * @throws IllegalStateException when the topic cannot be read within the timeout, saying why
   */
  public static ServedModel latest(Settings settings, ServingMetrics metrics, Duration timeout)
      throws InterruptedException {
    try (SnapshotSubscriber s = start(settings, metrics, false)) {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (!s.following()) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("could not read " + s.describe() + " within " + timeout.toSeconds()
              + " s" + (s.problem() == null ? "" : ": " + s.problem()));
        }
        Thread.sleep(20);
      }
      return s.current();
    }
  }

  /** The consumer's settings: the caller's, then what serving needs (read_committed, large fetches). */
  static Properties consumerProperties(Settings s) {
    Properties p = new Properties();
    p.putAll(s.client());
    p.put("bootstrap.servers", s.bootstrapServers());
    p.put("isolation.level", "read_committed");
    p.put("enable.auto.commit", "false");
    p.put("auto.offset.reset", "earliest");
    p.putIfAbsent("client.id", "tinyrec-serving-" + s.modelName());
    // A snapshot is one record of up to 64 MiB (docs/topics.md): the fetch sizes must let it through.
    String max = Integer.toString(TopicDefaults.MAX_SNAPSHOT_BYTES);
    p.putIfAbsent("max.partition.fetch.bytes", max);
    p.putIfAbsent("fetch.max.bytes", max);
    // A committed snapshot should be served within a second: the broker answers a waiting fetch as
    // soon as data is there, and otherwise after this long.
    p.putIfAbsent("fetch.max.wait.ms", "100");
    p.putIfAbsent("max.poll.records", "16");
    return p;
  }

  @Override
  public ServedModel current() {
    return current.get();
  }

  /** Version of the model served, or -1 while none is. */
  public long version() {
    ServedModel m = current.get();
    return m == null ? -1 : m.info().version();
  }

  /** Milliseconds since the served snapshot was created, or -1 while none is served. */
  public long ageMillis() {
    ServedModel m = current.get();
    return m == null ? -1 : m.ageMillis(System.currentTimeMillis());
  }

  @Override
  public long lag() {
    return lag;
  }

  /** Whether the start-up load is done and the subscriber is following the topic's new records. */
  public boolean following() {
    return following;
  }

  /** Why the subscriber is not following the topic right now (e.g. the topic is missing), or null. */
  public String problem() {
    return problem;
  }

  @Override
  public String describe() {
    return "topic " + settings.topic() + " on " + settings.bootstrapServers() + ", model '" + settings.modelName()
        + "' (read_committed)";
  }

  /**
   * Waits until a model is served, or the timeout passes.
   *
   * @return the model, or null when none was loaded in time
   */
  public ServedModel awaitModel(Duration timeout) throws InterruptedException {
    return awaitVersion(Long.MIN_VALUE, timeout);
  }

  /**
   * Waits until a model of at least this version is served, or the timeout passes.
   *
   * @return the model served then, or null when none of that version arrived in time
   */
  public ServedModel awaitVersion(long version, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (modelChanged) {
      while (true) {
        ServedModel m = current.get();
        if (m != null && m.info().version() >= version) {
          return m;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return null;
        }
        modelChanged.wait(Math.max(1, left / 1_000_000));
      }
    }
  }

  @Override
  public void close() {
    running = false;
    consumer.wakeup();
    try {
      thread.join(settings.pollTimeout().toMillis() + 10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void run() {
    try {
      while (running) {
        try {
          follow();
        } catch (WakeupException | InterruptException e) {
          throw e;
        } catch (KafkaException e) {
          // The broker is unreachable, a request timed out, credentials are refused...: say so, keep
          // the model served, and start over (the start-up search is cheap).
          following = false;
          String p = e.toString();
          if (!p.equals(problem)) {
            LOG.warn("{}: {}; the model served stays as it is, retrying", describe(), p);
          }
          problem = p;
          sleep(1000);
        } catch (RuntimeException e) {
          // Not Kafka's: a defect here, which retrying every second would only repeat. Keep the
          // model served, say so once with the stack, and stop following.
          following = false;
          problem = "stopped following after an unexpected error: " + e;
          LOG.error("{}: {}; the model served stays as it is, and no newer snapshot will be loaded", describe(),
              problem, e);
          return;
        }
      }
    } catch (WakeupException | InterruptException e) {
      if (running) {
        LOG.error("snapshot subscriber for {} interrupted; the model served stays as it is", describe(), e);
      }
    } finally {
      following = false;
      consumer.close(Duration.ofSeconds(5));
    }
  }

  /** Finds the newest snapshot, then follows the topic until stopped or until the consumer fails. */
  private void follow() {
    List<TopicPartition> parts = awaitPartitions();
    if (parts == null) {
      return;
    }
    consumer.assign(parts);
    Map<TopicPartition, Long> from;
    if (resumeFrom != null && resumeFrom.keySet().containsAll(parts)) {
      // Starting over after a failure: everything before these offsets has been seen.
      from = resumeFrom;
    } else {
      from = loadLatest(parts);
      if (from == null) {
        return;
      }
    }
    from.forEach(consumer::seek);
    following = true;
    problem = null;
    info("following {} from offsets {}", describe(), from);
    while (running) {
      List<ConsumerRecord<byte[], byte[]>> ours = new ArrayList<>();
      for (ConsumerRecord<byte[], byte[]> r : consumer.poll(settings.pollTimeout())) {
        if (isOurs(r)) {
          ours.add(r);
        }
      }
      offerNewestFirst(ours);
      Map<TopicPartition, Long> at = new HashMap<>();
      for (TopicPartition tp : parts) {
        at.put(tp, consumer.position(tp));
      }
      resumeFrom = at;
      updateLag(parts);
    }
  }

  /**
   * Offers the records of one poll newest first, down to the first good one: the job commits the
   * snapshots of a checkpoint together, and decoding the ones a newer snapshot supersedes would only
   * delay it. The superseded ones are counted as skipped.
   */
  private void offerNewestFirst(List<ConsumerRecord<byte[], byte[]>> ours) {
    ours.sort((a, b) -> a.partition() != b.partition() ? Integer.compare(a.partition(), b.partition())
        : Long.compare(a.offset(), b.offset()));
    for (int i = ours.size() - 1; i >= 0; i--) {
      if (offer(ours.get(i))) {
        for (int j = 0; j < i; j++) {
          metrics.snapshotSkipped();
        }
        return;
      }
    }
  }

  /** The topic's partitions, waiting (and saying so once) while the topic does not exist. */
  private List<TopicPartition> awaitPartitions() {
    boolean said = false;
    while (running) {
      List<PartitionInfo> infos = consumer.partitionsFor(settings.topic(), Duration.ofSeconds(10));
      if (infos != null && !infos.isEmpty()) {
        List<TopicPartition> parts = new ArrayList<>();
        for (PartitionInfo i : infos) {
          parts.add(new TopicPartition(i.topic(), i.partition()));
        }
        return parts;
      }
      problem = "topic " + settings.topic() + " does not exist (yet)";
      if (!said) {
        LOG.warn("{}: {}; waiting for it", describe(), problem);
        said = true;
      }
      sleep(1000);
    }
    return null;
  }

  /**
   * Loads the newest good snapshot of the model, searching each partition backwards from its end,
   * and returns the end offsets the search began at (where following continues), or null when
   * stopped.
   */
  private Map<TopicPartition, Long> loadLatest(List<TopicPartition> parts) {
    Map<TopicPartition, Long> end = consumer.endOffsets(parts);
    Map<TopicPartition, Long> begin = consumer.beginningOffsets(parts);
    for (TopicPartition tp : parts) {
      // Fetch from this partition only while searching it.
      consumer.pause(parts);
      consumer.resume(List.of(tp));
      long lo = begin.get(tp);
      long hi = end.get(tp);
      long window = FIRST_WINDOW;
      while (running && hi > lo) {
        long from = Math.max(lo, hi - window);
        ConsumerRecord<byte[], byte[]> newest = newestOurs(tp, from, hi);
        if (newest == null) {
          hi = from;
          window = Math.min(window * 4, 1 << 20);
          continue;
        }
        if (offer(newest)) {
          break;
        }
        // Refused: the model's record before it may be good. Records of the model are dense there.
        hi = newest.offset();
        window = FIRST_WINDOW;
      }
    }
    consumer.resume(parts);
    if (!running) {
      return null;
    }
    if (current.get() == null && announce) {
      LOG.warn("{}: no committed snapshot of model '{}' yet; waiting for one", describe(), settings.modelName());
    }
    updateLag(parts);
    return end;
  }

  /** The newest record of the model in [from, to) of one partition, or null if it has none. */
  private ConsumerRecord<byte[], byte[]> newestOurs(TopicPartition tp, long from, long to) {
    consumer.seek(tp, from);
    ConsumerRecord<byte[], byte[]> newest = null;
    // Under read_committed, aborted records and transaction markers are never returned, so the
    // position, not the records, says when the window is read.
    while (running && consumer.position(tp) < to) {
      for (ConsumerRecord<byte[], byte[]> r : consumer.poll(settings.pollTimeout()).records(tp)) {
        if (r.offset() < to && isOurs(r)) {
          newest = r;
        }
      }
    }
    return newest;
  }

  /** Whether a record is keyed by the served model (or has no key, and so may be of any model). */
  private boolean isOurs(ConsumerRecord<byte[], byte[]> r) {
    return r.key() == null || Arrays.equals(r.key(), key);
  }

  /**
   * Checks a snapshot record and swaps it in if it is good and newer; returns whether it was good
   * (swapped in or merely not newer).
   */
  private boolean offer(ConsumerRecord<byte[], byte[]> r) {
    String source = "topic " + r.topic() + " partition " + r.partition() + " offset " + r.offset();
    ServedModel old = current.get();
    ServedModel m;
    try {
      m = SnapshotDecoder.fromRecord(r.value(), settings.modelName(), source);
    } catch (BadSnapshotException e) {
      metrics.snapshotFailed(e.reason());
      LOG.warn("refused snapshot ({}): {}; {}", e.reason().label(), e.getMessage(),
          old == null ? "no model is served yet" : "still serving version " + old.info().version());
      return false;
    }
    if (old != null && m.info().version() <= old.info().version()) {
      metrics.snapshotSkipped();
      info("skipped snapshot version {} at {}: not newer than version {} served", m.info().version(), source,
          old.info().version());
      return true;
    }
    current.set(m);
    metrics.snapshotLoaded();
    synchronized (modelChanged) {
      modelChanged.notifyAll();
    }
    info("serving model '{}' version {} (epoch {}, {} events trained, created {} ms ago, {} codec bytes) from {}",
        m.info().modelName(), m.info().version(), m.info().epoch(), m.info().eventsTrained(),
        m.ageMillis(m.loadedAtMs()), m.info().codecBytes(), source);
    return true;
  }

  private void info(String format, Object... args) {
    if (announce) {
      LOG.info(format, args);
    } else {
      LOG.debug(format, args);
    }
  }

  private void updateLag(List<TopicPartition> parts) {
    long sum = 0;
    Map<TopicPartition, Long> missing = new HashMap<>();
    for (TopicPartition tp : parts) {
      OptionalLong l = consumer.currentLag(tp);
      if (l.isPresent()) {
        sum += l.getAsLong();
      } else {
        missing.put(tp, consumer.position(tp));
      }
    }
    if (!missing.isEmpty()) {
      // No fetch response yet for these partitions: ask the broker once.
      Map<TopicPartition, Long> end = consumer.endOffsets(missing.keySet());
      for (Map.Entry<TopicPartition, Long> e : missing.entrySet()) {
        sum += Math.max(0, end.get(e.getKey()) - e.getValue());
      }
    }
    lag = sum;
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptException(e);
    }
  }
}
