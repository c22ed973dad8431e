package io.tinyrec.replay;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Everything one replay needs, validated once. Built from the {@code tinyrec replay} flags, whose
 * names match the fields in kebab case; the compact constructor says which flag is wrong and why.
 *
 * @param bootstrapServers Kafka bootstrap servers; may be null when producerConfig holds bootstrap.servers
 * @param topic topic the ClickEvents go to
 * @param partitions partitions given to the topic if replay has to create it
 * @param inputs Criteo TSV files, plain or gzip, replayed in order as successive days; empty for synthetic
 * @param synthetic rows of the synthetic stream to replay, or -1 when replaying files
 * @param seed seed of the synthetic stream
 * @param driftAt row at which the synthetic teacher changes, or -1 for none
 * @param pace how fast: as fast as possible, a fixed rate, or event time sped up
 * @param rate events per second for {@link Pace#RATE}
 * @param speedup event-time speed-up for {@link Pace#SPEEDUP}: 1 is real time
 * @param daySeconds length of one day in event time, seconds
 * @param rowsPerDay rows that make up one day; 0 = each file is one day (its lines are counted first)
 *     and the synthetic stream is one day
 * @param startDay day index of the first input (or of the synthetic stream)
 * @param startTime event time at which day 0 starts
 * @param fromLine first 1-based line of the first input file (synthetic: first row + 1) to replay
 * @param rejects file that receives malformed lines, or null
 * @param producerConfig extra Kafka producer (and admin) settings, e.g. security; may not weaken acks
 *     or idempotence
 * @param progress whether to draw a progress line on stderr
 */
public record ReplayConfig(
    String bootstrapServers,
    String topic,
    int partitions,
    List<Path> inputs,
    long synthetic,
    long seed,
    long driftAt,
    Pace pace,
    double rate,
    double speedup,
    long daySeconds,
    long rowsPerDay,
    int startDay,
    Instant startTime,
    long fromLine,
    Path rejects,
    Map<String, String> producerConfig,
    boolean progress) {

  /** How fast rows are sent. */
  public enum Pace { MAX, RATE, SPEEDUP }

  /** Default event time of day 0: the Criteo Terabyte logs' first day is in 2013; the exact date is arbitrary. */
  public static final Instant DEFAULT_START_TIME = Instant.parse("2014-01-01T00:00:00Z");

  public ReplayConfig {
    inputs = List.copyOf(inputs);
    producerConfig = Map.copyOf(producerConfig);
    if ((bootstrapServers == null || bootstrapServers.isBlank()) && !producerConfig.containsKey("bootstrap.servers")) {
      throw new IllegalArgumentException("--bootstrap-servers is required (or bootstrap.servers in --producer-config)");
    }
    if (topic == null || topic.isBlank()) {
      throw new IllegalArgumentException("--topic is required");
    }
    if (partitions < 1) {
      throw new IllegalArgumentException("--partitions must be >= 1, got " + partitions);
    }
    if (inputs.isEmpty() == (synthetic < 0)) {
      throw new IllegalArgumentException("give either --input FILE... or --synthetic N, not "
          + (inputs.isEmpty() ? "neither" : "both"));
    }
    for (Path p : inputs) {
      if (!Files.isRegularFile(p) || !Files.isReadable(p)) {
        throw new IllegalArgumentException("--input " + p + " is not a readable file");
      }
    }
    if (pace == Pace.RATE && !(rate > 0 && Double.isFinite(rate))) {
      throw new IllegalArgumentException("--rate must be a positive number of events per second, got " + rate);
    }
    if (pace == Pace.SPEEDUP && !(speedup > 0 && Double.isFinite(speedup))) {
      throw new IllegalArgumentException("--speedup must be a positive factor (1 = real time), got " + speedup);
    }
    if (daySeconds < 1) {
      throw new IllegalArgumentException("--day-seconds must be >= 1, got " + daySeconds);
    }
    if (rowsPerDay < 0) {
      throw new IllegalArgumentException("--rows-per-day must be >= 1 (or 0 for one day per file), got " + rowsPerDay);
    }
    // Event times are computed as position * dayMillis / rowsPerDay in 64-bit arithmetic.
    if (rowsPerDay > 0 && Long.MAX_VALUE / 2 / rowsPerDay / 1000 < daySeconds) {
      throw new IllegalArgumentException("--rows-per-day " + rowsPerDay + " times --day-seconds " + daySeconds
          + " is too large to compute event times");
    }
    if (startDay < 0) {
      throw new IllegalArgumentException("--start-day must be >= 0, got " + startDay);
    }
    if (fromLine < 1) {
      throw new IllegalArgumentException("--from-line must be >= 1 (lines are numbered from 1), got " + fromLine);
    }
    if (synthetic >= 0 && fromLine > synthetic + 1) {
      throw new IllegalArgumentException("--from-line " + fromLine + " is past the end of the " + synthetic
          + " synthetic rows");
    }
    String acks = producerConfig.get("acks");
    if (acks != null && !acks.equals("all") && !acks.equals("-1")) {
      throw new IllegalArgumentException("--producer-config sets acks=" + acks
          + ", but replay needs acks=all so that an acknowledged event is never lost");
    }
    String idem = producerConfig.get("enable.idempotence");
    if (idem != null && !idem.equalsIgnoreCase("true")) {
      throw new IllegalArgumentException("--producer-config sets enable.idempotence=" + idem
          + ", but replay needs an idempotent producer so retries never duplicate events");
    }
    for (String k : List.of("key.serializer", "value.serializer")) {
      if (producerConfig.containsKey(k)) {
        throw new IllegalArgumentException("--producer-config may not set " + k + ": replay writes Avro bytes itself");
      }
    }
  }

  /** True when the rows come from the synthetic stream. */
  public boolean isSynthetic() {
    return synthetic >= 0;
  }

  /** A config with the usual defaults, for tests and programmatic use: max pace, one partition. */
  public static ReplayConfig ofFiles(String bootstrapServers, String topic, List<Path> inputs) {
    return new ReplayConfig(bootstrapServers, topic, 1, inputs, -1, 0, -1, Pace.MAX, 0, 0, 86_400, 0, 0,
        DEFAULT_START_TIME, 1, null, Map.of(), false);
  }

  /** A synthetic-stream config with the usual defaults. */
  public static ReplayConfig ofSynthetic(String bootstrapServers, String topic, long rows, long seed) {
    return new ReplayConfig(bootstrapServers, topic, 1, List.of(), rows, seed, -1, Pace.MAX, 0, 0, 86_400, 0, 0,
        DEFAULT_START_TIME, 1, null, Map.of(), false);
  }

  public ReplayConfig withPace(Pace newPace, double newRate, double newSpeedup) {
    return new ReplayConfig(bootstrapServers, topic, partitions, inputs, synthetic, seed, driftAt, newPace, newRate,
        newSpeedup, daySeconds, rowsPerDay, startDay, startTime, fromLine, rejects, producerConfig, progress);
  }

  public ReplayConfig withRejects(Path newRejects) {
    return new ReplayConfig(bootstrapServers, topic, partitions, inputs, synthetic, seed, driftAt, pace, rate, speedup,
        daySeconds, rowsPerDay, startDay, startTime, fromLine, newRejects, producerConfig, progress);
  }

  public ReplayConfig withResume(List<Path> newInputs, long newFromLine, int newStartDay) {
    return new ReplayConfig(bootstrapServers, topic, partitions, newInputs, synthetic, seed, driftAt, pace, rate,
        speedup, daySeconds, rowsPerDay, newStartDay, startTime, newFromLine, rejects, producerConfig, progress);
  }

  public ReplayConfig withDays(long newDaySeconds, long newRowsPerDay) {
    return new ReplayConfig(bootstrapServers, topic, partitions, inputs, synthetic, seed, driftAt, pace, rate, speedup,
        newDaySeconds, newRowsPerDay, startDay, startTime, fromLine, rejects, producerConfig, progress);
  }

  public ReplayConfig withProducerConfig(Map<String, String> newProducerConfig) {
    return new ReplayConfig(bootstrapServers, topic, partitions, inputs, synthetic, seed, driftAt, pace, rate, speedup,
        daySeconds, rowsPerDay, startDay, startTime, fromLine, rejects, newProducerConfig, progress);
  }
}
