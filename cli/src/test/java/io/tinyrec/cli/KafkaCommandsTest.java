package io.tinyrec.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Flag handling of kafka, topics and replay: help for every flag, exit code 2 and a message for bad values. */
class KafkaCommandsTest {
  static CliRun run(String... args) {
    return CliRun.of(args);
  }

  private static void assertUsageError(String expected, String... args) {
    CliRun r = run(args);
    assertEquals(2, r.code(), String.join(" ", args) + " -> " + r.err());
    assertTrue(r.err().contains(expected), "expected '" + expected + "' in: " + r.err());
  }

  @Test
  void shouldDescribeEveryFlagInHelp() {
    CliRun replay = run("replay", "--help");
    assertEquals(0, replay.code());
    for (String flag : new String[] {"--bootstrap-servers", "--topic", "--partitions", "--input", "--synthetic",
        "--seed", "--rate", "--speedup", "--max", "--day-seconds", "--rows-per-day", "--start-day", "--start-time",
        "--from-line", "--rejects", "--producer-config", "--[no-]progress"}) {
      assertTrue(replay.out().contains(flag), flag + " missing from replay --help");
    }
    CliRun kafka = run("kafka", "--help");
    for (String flag : new String[] {"--port", "--data-dir", "--create-topics", "--broker-config"}) {
      assertTrue(kafka.out().contains(flag), flag + " missing from kafka --help");
    }
    CliRun create = run("topics", "create", "--help");
    for (String flag : new String[] {"--bootstrap-servers", "--events-partitions", "--sync-retention",
        "--max-snapshot-bytes", "--events", "--models", "--dlq", "--command-config"}) {
      assertTrue(create.out().contains(flag), flag + " missing from topics create --help");
    }
  }

  @Test
  void shouldRejectBadReplayFlagsWithExitCode2(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("day_0.tsv");
    Files.writeString(file, "");
    String bs = "--bootstrap-servers=localhost:1";
    assertUsageError("Missing required argument (specify one of these)", "replay", bs);
    assertUsageError("mutually exclusive", "replay", bs, "--input", file.toString(), "--synthetic", "5");
    assertUsageError("mutually exclusive", "replay", bs, "--synthetic", "5", "--rate", "5", "--max");
    assertUsageError("--rate must be a positive number", "replay", bs, "--synthetic", "5", "--rate", "-3");
    assertUsageError("--speedup must be a positive factor", "replay", bs, "--synthetic", "5", "--speedup", "0");
    assertUsageError("is not a readable file", "replay", bs, "--input", dir.resolve("missing.gz").toString());
    assertUsageError("--from-line must be >= 1", "replay", bs, "--input", file.toString(), "--from-line", "0");
    assertUsageError("--day-seconds must be >= 1", "replay", bs, "--synthetic", "5", "--day-seconds", "0");
    assertUsageError("--synthetic must be >= 0", "replay", bs, "--synthetic", "-5");
    assertUsageError("--start-time must be an ISO-8601 instant", "replay", bs, "--synthetic", "5",
        "--start-time", "yesterday");
    assertUsageError("--partitions must be >= 1", "replay", bs, "--synthetic", "5", "--partitions", "0");
    assertUsageError("--bootstrap-servers is required", "replay", "--synthetic", "5");
    assertUsageError("--producer-config", "replay", bs, "--synthetic", "5", "--producer-config",
        dir.resolve("nope.properties").toString());
    Path weak = dir.resolve("weak.properties");
    Files.writeString(weak, "acks=1\n");
    assertUsageError("replay needs acks=all", "replay", bs, "--synthetic", "5", "--producer-config", weak.toString());
    assertUsageError("Invalid value for option '--rate'", "replay", bs, "--synthetic", "5", "--rate", "fast");
    Path bogus = dir.resolve("bogus.properties");
    Files.writeString(bogus, "security.protocol=BOGUS\n");
    assertUsageError("Kafka client setting refused", "replay", bs, "--synthetic", "5", "--producer-config",
        bogus.toString());
    assertUsageError("Invalid url in bootstrap.servers", "replay", "--bootstrap-servers", "nohost", "--synthetic", "5");
  }

  @Test
  void shouldRejectBadKafkaAndTopicsFlagsWithExitCode2() {
    assertUsageError("--port must be between 0 and 65535", "kafka", "--port", "70000");
    assertUsageError("Missing required option: '--bootstrap-servers", "topics", "create");
    assertUsageError("--max-snapshot-bytes must be between 1 MiB and 1 GiB", "topics", "create",
        "--bootstrap-servers", "localhost:1", "--max-snapshot-bytes", "12KiB");
    assertUsageError("not a size", "topics", "create", "--bootstrap-servers", "localhost:1",
        "--max-snapshot-bytes", "lots");
    assertUsageError("not a duration", "topics", "create", "--bootstrap-servers", "localhost:1",
        "--sync-retention", "forever");
    assertUsageError("--sync-retention must be at least 1 minute", "topics", "create", "--bootstrap-servers",
        "localhost:1", "--sync-retention", "5s");
    assertUsageError("--events-partitions must be >= 1", "topics", "create", "--bootstrap-servers", "localhost:1",
        "--events-partitions", "0");
    assertUsageError("invalid topic name 'bad name'", "topics", "create", "--bootstrap-servers", "localhost:1",
        "--events", "bad name");
  }

  @Test
  void shouldParseSizesAndDurations() {
    assertEquals(64 << 20, new Sizes.ByteSize().convert("64MiB"));
    assertEquals(512 << 10, new Sizes.ByteSize().convert("512 KiB"));
    assertEquals(1048576, new Sizes.ByteSize().convert("1048576"));
    assertEquals(java.time.Duration.ofMinutes(90), new Sizes.Span().convert("90m"));
    assertEquals(java.time.Duration.ofMillis(1500), new Sizes.Span().convert("1500ms"));
    assertEquals(java.time.Duration.ofDays(7), new Sizes.Span().convert("7d"));
  }
}
