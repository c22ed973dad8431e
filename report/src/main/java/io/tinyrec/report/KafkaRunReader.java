package io.tinyrec.report;

import io.tinyrec.schemas.ModelSnapshot;
import io.tinyrec.schemas.ScoredEvent;
import io.tinyrec.schemas.SingleObjectCodec;
import io.tinyrec.schemas.UndecodableRecordException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads a training run back from Kafka: every ScoredEvent on the scores topic and the metadata of
 * every ModelSnapshot on the models topic, from the beginning to the end offsets present when the
 * read starts, with {@code isolation.level=read_committed} (the snapshots are written exactly once).
 *
 * <p>A record that does not decode is counted and skipped, and the first few are reported with
 * their topic, partition and offset: one bad record does not stop a report. Snapshot weights are
 * not decoded, only measured. Stateless; each call opens and closes its own consumer.
 */
public final class KafkaRunReader {
  /** The largest snapshot the job can write (its models topic's max.message.bytes). */
  static final int MAX_RECORD_BYTES = 64 << 20;
  /** Bad records reported one by one; the rest are only counted. */
  static final int REPORTED_BAD_RECORDS = 5;

  /**
   * Where to read.
   *
   * @param client bootstrap.servers and any security settings
   * @param scoresTopic topic of the ScoredEvents
   * @param modelsTopic topic of the ModelSnapshots, or null to skip snapshots
   * @param modelName keep only this model's snapshots, or null for all
   * @param timeout how long a read may go without progress before it fails
   */
  public record Source(Properties client, String scoresTopic, String modelsTopic, String modelName,
      Duration timeout) {
    public Source {
      Objects.requireNonNull(client, "client");
      if (client.getProperty("bootstrap.servers") == null) {
        throw new IllegalArgumentException("reading Kafka needs bootstrap servers (--bootstrap-servers)");
      }
      if (scoresTopic == null || scoresTopic.isBlank()) {
        throw new IllegalArgumentException("--scores-topic must not be empty");
      }
      if (timeout == null || timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("the Kafka read timeout must be positive, got " + timeout);
      }
    }

    /** A plain local broker, the default topics, and a 30 s timeout. */
    public static Source of(String bootstrapServers, String scoresTopic, String modelsTopic, String modelName) {
      Properties p = new Properties();
      p.put("bootstrap.servers", bootstrapServers);
      return new Source(p, scoresTopic, modelsTopic, modelName, Duration.ofSeconds(30));
    }
  }

  /**
   * What was read.
   *
   * @param scores the decoded scored events, in the order read
   * @param snapshots snapshot metadata sorted by creation time ({@code seconds} still 0)
   * @param scoreRecords records on the scores topic
   * @param badScores records on the scores topic that did not decode
   * @param snapshotRecords records on the models topic
   * @param badSnapshots records on the models topic that did not decode
   * @param otherModels snapshots of other models, left out by the model filter
   */
  public record Result(ScoreLog scores, List<SnapshotPoint> snapshots, long scoreRecords, long badScores,
      long snapshotRecords, long badSnapshots, long otherModels) {}

  private KafkaRunReader() {}

  /** Reads both topics; {@code warn} receives one line per reported bad record. */
  public static Result read(Source source, Consumer<String> warn) {
    ScoreLog log = new ScoreLog();
    SingleObjectCodec<ScoredEvent> scoreCodec = SingleObjectCodec.of(ScoredEvent.class);
    long[] scoreCounts = new long[2];
    forEachRecord(source, source.scoresTopic(), r -> {
      scoreCounts[0]++;
      try {
        ScoredEvent e = scoreCodec.decode(r.value());
        log.add(e.getScore(), e.getLabel(), e.getProcessingTime());
      } catch (UndecodableRecordException ex) {
        if (++scoreCounts[1] <= REPORTED_BAD_RECORDS) {
          warn.accept(where(r) + ": skipped, not a ScoredEvent: " + ex.getMessage());
        }
      }
    });
    List<SnapshotPoint> snaps = new ArrayList<>();
    long[] snapCounts = new long[3];
    if (source.modelsTopic() != null) {
      SingleObjectCodec<ModelSnapshot> snapCodec = SingleObjectCodec.of(ModelSnapshot.class);
      forEachRecord(source, source.modelsTopic(), r -> {
        snapCounts[0]++;
        ModelSnapshot s;
        try {
          s = snapCodec.decode(r.value());
        } catch (UndecodableRecordException ex) {
          if (++snapCounts[1] <= REPORTED_BAD_RECORDS) {
            warn.accept(where(r) + ": skipped, not a ModelSnapshot: " + ex.getMessage());
          }
          return;
        }
        if (source.modelName() != null && !source.modelName().equals(s.getModelName())) {
          snapCounts[2]++;
          return;
        }
        snaps.add(new SnapshotPoint(s.getModelName(), s.getVersion(), s.getEpoch(), s.getCreatedAt(), 0,
            s.getEventsTrained(), s.getCodec().remaining(), s.getMetrics().getAuc(), s.getWindowMetrics().getAuc(),
            s.getMetricsWindow()));
      });
      snaps.sort(Comparator.comparingLong(SnapshotPoint::createdAtMs).thenComparingLong(SnapshotPoint::version));
    }
    if (scoreCounts[1] > REPORTED_BAD_RECORDS) {
      warn.accept(source.scoresTopic() + ": " + scoreCounts[1] + " undecodable records skipped in all");
    }
    if (snapCounts[1] > REPORTED_BAD_RECORDS) {
      warn.accept(source.modelsTopic() + ": " + snapCounts[1] + " undecodable records skipped in all");
    }
    return new Result(log, snaps, scoreCounts[0], scoreCounts[1], snapCounts[0], snapCounts[1], snapCounts[2]);
  }

  private static String where(ConsumerRecord<byte[], byte[]> r) {
    return r.topic() + " partition " + r.partition() + " offset " + r.offset();
  }

  /**
   * Hands every record of every partition to {@code each}, partition by partition interleaved as the
   * consumer returns them, up to the end offsets present at the start.
   */
  static void forEachRecord(Source source, String topic, Consumer<ConsumerRecord<byte[], byte[]>> each) {
    Properties p = new Properties();
    p.putAll(source.client());
    p.put("isolation.level", "read_committed");
    p.put("enable.auto.commit", "false");
    p.put("max.partition.fetch.bytes", Integer.toString(MAX_RECORD_BYTES));
    p.put("fetch.max.bytes", Integer.toString(MAX_RECORD_BYTES));
    p.put("default.api.timeout.ms", Long.toString(source.timeout().toMillis()));
    p.putIfAbsent("client.id", "tinyrec-report");
    String servers = source.client().getProperty("bootstrap.servers");
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
        new ByteArrayDeserializer())) {
      List<PartitionInfo> infos;
      try {
        infos = c.partitionsFor(topic);
      } catch (org.apache.kafka.common.errors.TimeoutException e) {
        throw new IllegalStateException("no answer from Kafka at " + servers + " within "
            + source.timeout().toSeconds() + " s while looking up topic '" + topic + "': is the broker running?", e);
      }
      if (infos == null || infos.isEmpty()) {
        throw new IllegalArgumentException("topic '" + topic + "' does not exist on " + servers
            + " (check the topic flags, or run `tinyrec topics create`)");
      }
      List<TopicPartition> parts = infos.stream().map(i -> new TopicPartition(topic, i.partition())).toList();
      c.assign(parts);
      c.seekToBeginning(parts);
      Map<TopicPartition, Long> end = c.endOffsets(parts);
      long lastProgress = System.nanoTime();
      long positions = -1;
      while (true) {
        long sum = 0;
        boolean done = true;
        for (TopicPartition tp : parts) {
          long pos = c.position(tp);
          sum += pos;
          done &= pos >= end.get(tp);
        }
        if (done) {
          return;
        }
        if (sum != positions) {
          positions = sum;
          lastProgress = System.nanoTime();
        } else if (System.nanoTime() - lastProgress > source.timeout().toNanos()) {
          StringBuilder at = new StringBuilder();
          for (TopicPartition tp : parts) {
            at.append(' ').append(tp.partition()).append(':').append(c.position(tp)).append('/').append(end.get(tp));
          }
          throw new IllegalStateException("reading topic '" + topic + "' on " + servers + " made no progress for "
              + source.timeout().toSeconds() + " s (partition:position/end" + at + ")");
        }
        c.poll(Duration.ofMillis(200)).forEach(each);
      }
    }
  }
}
