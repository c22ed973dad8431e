package io.tinyrec.cli;

import io.tinyrec.replay.KafkaProperties;
import io.tinyrec.replay.ReplayConfig;
import io.tinyrec.replay.Replayer;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code tinyrec replay}: Criteo days or the synthetic stream into a Kafka topic. */
@Command(name = "replay", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Replays Criteo rows into a Kafka topic as Avro ClickEvents (single-object encoding, "
        + "schemas/src/main/avro/ClickEvent.avsc), keyed by a deterministic event id '<file>:<line>'.",
        "Input is raw Criteo TSV, plain or .gz (Kaggle train.txt, Terabyte day_0..day_23), several files being "
            + "successive days, or the synthetic stream. Each row's event time is its day's start plus its position "
            + "spread over the day, so --speedup 1 replays a day at its real rate.",
        "The producer is idempotent with acks=all; a missing topic is created. Malformed lines are counted, reported "
            + "with file and line, and written to --rejects; they never stop the replay. Ctrl-C flushes and prints "
            + "the flags that resume the replay. Exit code: 0 when every record was acknowledged, 1 when one was not "
            + "or the input could not be read to its end, 2 for bad flags."},
    footer = {"", "Examples:",
        "  ./tinyrec replay --bootstrap-servers localhost:9092 --topic events \\",
        "      --input day_0.gz day_1.gz --speedup 3600",
        "  ./tinyrec replay --bootstrap-servers localhost:9092 --topic events \\",
        "      --synthetic 1000000 --seed 1 --max",
        "  ./tinyrec replay --bootstrap-servers localhost:9092 --topic events \\",
        "      --input train.txt --rows-per-day 6548660 --rate 20000 \\",
        "      --rejects runs/rejects.tsv"})
public final class ReplayCommand implements Callable<Integer> {
  @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT[,...]",
      description = "Kafka bootstrap servers. Required unless --producer-config sets bootstrap.servers.")
  String bootstrapServers;

  @Option(names = "--topic", defaultValue = "events", paramLabel = "T",
      description = "Topic to write ClickEvents to (default ${DEFAULT-VALUE}).")
  String topic;

  @Option(names = "--partitions", defaultValue = "1", paramLabel = "N",
      description = "Partitions of the topic if replay has to create it (default ${DEFAULT-VALUE}); an existing "
          + "topic is left as it is.")
  int partitions;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Source source;

  static final class Source {
    @Option(names = "--input", arity = "1..*", paramLabel = "FILE",
        description = "Criteo TSV files, plain or .gz, replayed in order as successive days.")
    List<Path> inputs;

    @Option(names = "--synthetic", paramLabel = "N",
        description = "Replay N rows of the synthetic Criteo-like stream (see 'tinyrec generate') instead of files.")
    Long synthetic;
  }

  @Option(names = "--seed", defaultValue = "1", paramLabel = "S",
      description = "Seed of the synthetic stream (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--drift-at", defaultValue = "-1", paramLabel = "ROW",
      description = "Synthetic stream: row at which its hidden teacher changes (default: no drift).")
  long driftAt;

  @ArgGroup(exclusive = true, multiplicity = "0..1")
  PaceFlags pace;

  static final class PaceFlags {
    @Option(names = "--rate", paramLabel = "EV_PER_S", description = "Send this many events per second.")
    Double rate;

    @Option(names = "--speedup", paramLabel = "X",
        description = "Follow event time X times faster than real time (1 = a day takes a day).")
    Double speedup;

    @Option(names = "--max", description = "As fast as Kafka takes them (the default).")
    boolean max;
  }

  @Option(names = "--day-seconds", defaultValue = "86400", paramLabel = "S",
      description = "Length of one day in event time, in seconds (default ${DEFAULT-VALUE}).")
  long daySeconds;

  @Option(names = "--rows-per-day", defaultValue = "0", paramLabel = "N",
      description = "Rows in one day. Default: each file is one day, its lines counted before it is replayed (a "
          + "quick extra pass), and the synthetic stream is one day. Give it to skip the count, or to split one file "
          + "into days, e.g. 6548660 for the 7 days of Kaggle's train.txt.")
  long rowsPerDay;

  @Option(names = "--start-day", defaultValue = "0", paramLabel = "D",
      description = "Day number of the first input (default ${DEFAULT-VALUE}); e.g. 5 when starting at day_5.")
  int startDay;

  @Option(names = "--start-time", defaultValue = "2014-01-01T00:00:00Z", paramLabel = "INSTANT",
      description = "Event time at which day 0 starts, ISO-8601 (default ${DEFAULT-VALUE}).")
  String startTime;

  @Option(names = "--from-line", defaultValue = "1", paramLabel = "N",
      description = "Start at this 1-based line of the first input file (synthetic: this row number); the lines "
          + "before it are skipped unread. Ctrl-C prints the value that resumes a replay.")
  long fromLine;

  @Option(names = "--rejects", paramLabel = "FILE",
      description = "Write each malformed line here as '<file>:<line> TAB <reason> TAB <line as read>'.")
  Path rejects;

  @Option(names = "--producer-config", paramLabel = "FILE",
      description = "Kafka producer properties, e.g. security.protocol, sasl.*, ssl.* for a secured cluster, or "
          + "batching settings. They also apply to the admin client that creates the topic. acks and idempotence "
          + "cannot be weakened.")
  Path producerConfig;

  @Option(names = "--progress", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Draw a progress line on stderr when it is a terminal (default on; --no-progress turns it off).")
  boolean progress;

  @Override
  public Integer call() {
    return Replayer.runAsCommand(config(), System.out, System.err);
  }

  ReplayConfig config() {
    Instant start;
    try {
      start = Instant.parse(startTime);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("--start-time must be an ISO-8601 instant such as 2014-01-01T00:00:00Z, got "
          + startTime);
    }
    ReplayConfig.Pace p = ReplayConfig.Pace.MAX;
    double r = 0;
    double x = 0;
    if (pace != null && pace.rate != null) {
      p = ReplayConfig.Pace.RATE;
      r = pace.rate;
    } else if (pace != null && pace.speedup != null) {
      p = ReplayConfig.Pace.SPEEDUP;
      x = pace.speedup;
    }
    if (source.synthetic != null && source.synthetic < 0) {
      throw new IllegalArgumentException("--synthetic must be >= 0 rows, got " + source.synthetic);
    }
    Map<String, String> extra = producerConfig == null ? Map.of()
        : KafkaProperties.load(producerConfig, "--producer-config");
    boolean terminal = System.console() != null;
    return new ReplayConfig(bootstrapServers, topic, partitions, source.inputs == null ? List.of() : source.inputs,
        source.synthetic == null ? -1 : source.synthetic, seed, driftAt, p, r, x, daySeconds, rowsPerDay, startDay,
        start, fromLine, rejects, extra, progress && terminal);
  }
}
