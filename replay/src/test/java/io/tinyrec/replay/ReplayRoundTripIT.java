package io.tinyrec.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tinyrec.model.data.CriteoRow;
import io.tinyrec.model.synthetic.SyntheticCriteo;
import io.tinyrec.schemas.ClickEvent;
import io.tinyrec.schemas.SingleObjectCodec;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.zip.GZIPOutputStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replays real and generated Criteo rows into a real broker and reads every record back with a plain
 * consumer, comparing each field with the source. The expected values come from the raw TSV text
 * split here, or from the synthetic stream itself, never from the parser replay uses.
 */
@ExtendWith(SharedBroker.class)
class ReplayRoundTripIT {
  static final Path SAMPLE = Path.of("..", "data", "sample", "criteo_kaggle_train_sample_early_1999.tsv");
  static final Path SHARED_LATE = Path.of("..", "..", "shared", "data", "criteo",
      "criteo_kaggle_train_sample_late_1999.tsv");
  static final long DAY = 86_400_000L;
  static final long T0 = ReplayConfig.DEFAULT_START_TIME.toEpochMilli();

  private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
  private final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);
  private final PrintStream out = new PrintStream(OutputStream.nullOutputStream());

  // ---- generated file ----

  @Test
  void shouldRoundTripAGeneratedGzipFileFieldByFieldAndCountItsRejects(LocalKafkaBroker broker, @TempDir Path dir)
      throws Exception {
    int n = 20_000;
    SyntheticCriteo stream = new SyntheticCriteo(3, -1);
    Path file = dir.resolve("generated.tsv.gz");
    Map<Long, CriteoRow> expected = new HashMap<>();
    Set<Long> badLines = new HashSet<>();
    long line = 0;
    try (Writer w = new java.io.OutputStreamWriter(new GZIPOutputStream(Files.newOutputStream(file)),
        StandardCharsets.UTF_8)) {
      for (int i = 0; i < n; i++) {
        if (i == 100 || i == 5000 || i == 12_000) {
          String bad = switch (i) {
            case 100 -> "not a criteo row";
            case 5000 -> stream.sample(i).row().toTsv().replaceFirst("\t([0-9a-f]{8})", "\tzz$1");
            default -> stream.sample(i).row().toTsv().substring(2); // label column missing
          };
          w.write(bad + "\n");
          badLines.add(++line);
        }
        if (i == 7000) {
          w.write("\n"); // a blank line is skipped, not rejected
          line++;
        }
        w.write(stream.sample(i).row().toTsv() + "\n");
        expected.put(++line, stream.sample(i).row());
      }
    }
    long totalLines = line;
    Path rejects = dir.resolve("rejects.tsv");
    ReplayConfig cfg = ReplayConfig.ofFiles(broker.bootstrapServers(), "rt.generated", List.of(file))
        .withRejects(rejects);
    ReplaySummary s = new Replayer(cfg, out, err).run();

    assertEquals(n + 3, s.rowsRead());
    assertEquals(n, s.produced());
    assertEquals(n, s.acknowledged());
    assertEquals(3, s.rejected());
    assertEquals(0, s.failed());
    assertTrue(s.allAcknowledged());
    assertNull(s.resume());
    List<String> rejected = Files.readAllLines(rejects);
    assertEquals(3, rejected.size());
    for (String r : rejected) {
      long at = Long.parseLong(r.substring(r.indexOf(".gz:") + 4, r.indexOf('\t')));
      assertTrue(badLines.contains(at), r);
      assertTrue(r.startsWith(file + ":"), "rejects name the file: " + r);
    }
    assertTrue(errBytes.toString(StandardCharsets.UTF_8).contains(file + ":" + (101) + ": "),
        "each reject is reported with file:line on stderr");

    List<ConsumerRecord<byte[], byte[]>> records = readAll(broker, "rt.generated");
    assertEquals(n, records.size());
    SingleObjectCodec<ClickEvent> codec = SingleObjectCodec.of(ClickEvent.class);
    Set<String> ids = new HashSet<>();
    for (ConsumerRecord<byte[], byte[]> r : records) {
      ClickEvent e = codec.decode(r.value());
      assertEquals(e.getEventId(), new String(r.key(), StandardCharsets.UTF_8));
      assertEquals(e.getEventId(), e.getKey());
      assertTrue(ids.add(e.getEventId()), "duplicate " + e.getEventId());
      assertEquals("generated.tsv:" + e.getSourceLine(), e.getEventId());
      CriteoRow row = expected.get(e.getSourceLine());
      assertNotNull(row, "no source row at line " + e.getSourceLine());
      assertEquals(row.label(), e.getLabel());
      for (int i = 0; i < 13; i++) {
        assertEquals(row.isDenseMissing(i) ? null : row.dense()[i], e.getDense().get(i), "I" + (i + 1));
      }
      for (int t = 0; t < 26; t++) {
        assertEquals(row.isCatMissing(t) ? null : Integer.toUnsignedLong(row.cats()[t]), e.getCats().get(t),
            "C" + (t + 1));
      }
      assertEquals(0, e.getSourceDay());
      assertEquals(T0 + (e.getSourceLine() - 1) * DAY / totalLines, e.getEventTime());
    }
  }

  @Test
  void shouldRejectALineLongerThanAReaderChunkAndKeepTheLinesAroundIt(LocalKafkaBroker broker, @TempDir Path dir)
      throws Exception {
    SyntheticCriteo stream = new SyntheticCriteo(8, -1);
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < 3000; i++) {
      if (i == 1500) {
        text.append("1\t").append("9".repeat(400_000)).append('\n'); // line 1501, longer than a 256 KiB chunk
      }
      text.append(stream.sample(i).row().toTsv()).append('\n');
    }
    Path file = dir.resolve("long-line.tsv");
    Files.writeString(file, text);
    Path rejects = dir.resolve("rejects.tsv");
    ReplaySummary s = new Replayer(ReplayConfig.ofFiles(broker.bootstrapServers(), "rt.longline", List.of(file))
        .withRejects(rejects), out, err).run();
    assertEquals(3001, s.rowsRead());
    assertEquals(3000, s.acknowledged());
    assertEquals(1, s.rejected());
    String rejected = Files.readString(rejects);
    assertTrue(rejected.startsWith(file + ":1501\t"), rejected.substring(0, 200));
    assertTrue(rejected.endsWith("9".repeat(1000) + "\n"), "the whole line is kept");
    Set<Long> lines = new HashSet<>();
    SingleObjectCodec<ClickEvent> codec = SingleObjectCodec.of(ClickEvent.class);
    for (ConsumerRecord<byte[], byte[]> r : readAll(broker, "rt.longline")) {
      ClickEvent e = codec.decode(r.value());
      long line = e.getSourceLine();
      assertTrue(lines.add(line));
      CriteoRow row = stream.sample((int) (line <= 1501 ? line - 1 : line - 2)).row();
      assertEquals(row.label(), e.getLabel(), "line " + line);
      assertEquals(row.isCatMissing(25) ? null : Integer.toUnsignedLong(row.cats()[25]), e.getCats().get(25));
    }
    assertEquals(3000, lines.size());
    assertTrue(!lines.contains(1501L) && lines.contains(1500L) && lines.contains(1502L) && lines.contains(3001L));
  }

  // ---- real Criteo rows ----

  @Test
  void shouldRoundTripTheRealCriteoSampleAsTwoDaysFromAPlainAndAGzipFile(LocalKafkaBroker broker, @TempDir Path dir)
      throws Exception {
    List<String> lines = Files.readAllLines(SAMPLE, StandardCharsets.UTF_8);
    assertEquals(1999, lines.size());
    Path day1 = dir.resolve("day_1.gz");
    try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(day1))) {
      Files.copy(SAMPLE, o);
    }
    ReplaySummary s = new Replayer(ReplayConfig.ofFiles(broker.bootstrapServers(), "rt.criteo",
        List.of(SAMPLE, day1)), out, err).run();
    assertEquals(2 * 1999, s.acknowledged());
    assertEquals(0, s.rejected());
    assertTrue(s.allAcknowledged());

    List<ConsumerRecord<byte[], byte[]>> records = readAll(broker, "rt.criteo");
    assertEquals(2 * 1999, records.size());
    Map<String, String[]> source = Map.of(SAMPLE.getFileName().toString(), lines.toArray(String[]::new),
        "day_1", lines.toArray(String[]::new));
    compareWithRawTsv(records, source, Map.of(SAMPLE.getFileName().toString(), 0, "day_1", 1));
  }

  @Test
  void shouldRoundTripTheLateSampleFromSharedDataWhenPresent(LocalKafkaBroker broker) throws Exception {
    assumeTrue(Files.isReadable(SHARED_LATE), "shared Criteo data not present at " + SHARED_LATE.toAbsolutePath());
    List<String> lines = Files.readAllLines(SHARED_LATE, StandardCharsets.UTF_8);
    ReplaySummary s = new Replayer(ReplayConfig.ofFiles(broker.bootstrapServers(), "rt.late",
        List.of(SHARED_LATE)).withResume(List.of(SHARED_LATE), 1, 5), out, err).run();
    assertEquals(lines.size(), s.acknowledged());
    List<ConsumerRecord<byte[], byte[]>> records = readAll(broker, "rt.late");
    compareWithRawTsv(records, Map.of(SHARED_LATE.getFileName().toString(), lines.toArray(String[]::new)),
        Map.of(SHARED_LATE.getFileName().toString(), 5));
  }

  /** Checks every record against its TSV line, split here by hand. */
  private static void compareWithRawTsv(List<ConsumerRecord<byte[], byte[]>> records, Map<String, String[]> source,
      Map<String, Integer> dayOf) {
    SingleObjectCodec<ClickEvent> codec = SingleObjectCodec.of(ClickEvent.class);
    Set<String> seen = new HashSet<>();
    for (ConsumerRecord<byte[], byte[]> r : records) {
      ClickEvent e = codec.decode(r.value());
      String name = e.getEventId().substring(0, e.getEventId().lastIndexOf(':'));
      String[] lines = source.get(name);
      assertNotNull(lines, "unexpected source " + name);
      assertTrue(seen.add(e.getEventId()));
      String[] f = lines[(int) e.getSourceLine() - 1].split("\t", -1);
      assertEquals(40, f.length);
      assertEquals(Integer.parseInt(f[0]), e.getLabel(), e.getEventId());
      for (int i = 0; i < 13; i++) {
        assertEquals(f[1 + i].isEmpty() ? null : Integer.valueOf(f[1 + i]), e.getDense().get(i),
            e.getEventId() + " I" + (i + 1));
      }
      for (int t = 0; t < 26; t++) {
        assertEquals(f[14 + t].isEmpty() ? null : Long.valueOf(f[14 + t], 16), e.getCats().get(t),
            e.getEventId() + " C" + (t + 1));
      }
      int day = dayOf.get(name);
      assertEquals(day, e.getSourceDay());
      assertEquals(T0 + day * DAY + (e.getSourceLine() - 1) * DAY / lines.length, e.getEventTime());
    }
    int total = source.values().stream().mapToInt(a -> a.length).sum();
    assertEquals(total, seen.size(), "every source line arrived exactly once");
  }

  // ---- stop, resume, pacing, failure ----

  @Test
  void shouldResumeAStoppedReplayWithIdenticalIdsAndNoGapsOrDuplicates(LocalKafkaBroker broker) throws Exception {
    int n = 4000;
    ReplayConfig cfg = ReplayConfig.ofSynthetic(broker.bootstrapServers(), "rt.resume", n, 9)
        .withPace(ReplayConfig.Pace.RATE, 4000, 0);
    Replayer first = new Replayer(cfg, out, err);
    CompletableFuture<ReplaySummary> running = CompletableFuture.supplyAsync(first::run);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (first.acknowledged() < 800 && System.nanoTime() < deadline && !running.isDone()) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
    }
    first.requestStop();
    ReplaySummary a = running.get(60, TimeUnit.SECONDS);
    assertTrue(a.stopped());
    assertTrue(a.allAcknowledged(), "a stop flushes: everything sent is acknowledged");
    assertTrue(a.produced() >= 800 && a.produced() < n, "stopped part-way, after " + a.produced());
    assertEquals(a.produced() + 1, a.resume().fromLine());
    String flags = first.resumeFlags(a.resume());
    assertTrue(flags.contains("--synthetic 4000 --seed 9 --from-line " + (a.produced() + 1)), flags);

    ReplaySummary b = new Replayer(cfg.withPace(ReplayConfig.Pace.MAX, 0, 0)
        .withResume(List.of(), a.resume().fromLine(), a.resume().startDay()), out, err).run();
    assertFalse(b.stopped());
    assertNull(b.resume());
    assertEquals(n - a.produced(), b.acknowledged());

    List<ConsumerRecord<byte[], byte[]>> records = readAll(broker, "rt.resume");
    assertEquals(n, records.size());
    SingleObjectCodec<ClickEvent> codec = SingleObjectCodec.of(ClickEvent.class);
    SyntheticCriteo stream = new SyntheticCriteo(9, -1);
    boolean[] seen = new boolean[n + 1];
    for (ConsumerRecord<byte[], byte[]> r : records) {
      ClickEvent e = codec.decode(r.value());
      int lineNo = (int) e.getSourceLine();
      assertFalse(seen[lineNo], "duplicate line " + lineNo);
      seen[lineNo] = true;
      assertEquals("synthetic-9:" + lineNo, e.getEventId());
      CriteoRow row = stream.sample(lineNo - 1).row();
      assertEquals(row.label(), e.getLabel());
      assertEquals(row.isCatMissing(3) ? null : Integer.toUnsignedLong(row.cats()[3]), e.getCats().get(3));
      assertEquals(T0 + (lineNo - 1L) * DAY / n, e.getEventTime());
    }
  }

  @Test
  void shouldHoldRowsBackToTheRequestedRateAndSpeedup(LocalKafkaBroker broker) {
    long start = System.nanoTime();
    ReplaySummary rate = new Replayer(ReplayConfig.ofSynthetic(broker.bootstrapServers(), "rt.pace", 201, 2)
        .withPace(ReplayConfig.Pace.RATE, 400, 0), out, err).run();
    double rateSeconds = (System.nanoTime() - start) / 1e9;
    assertEquals(201, rate.acknowledged());
    assertTrue(rateSeconds >= 0.45, "200 gaps at 400 ev/s take at least 0.5 s, took " + rateSeconds);

    // 201 rows over a 10-second day: the last is 9.95 s of event time after the first; at 20x, ~0.5 s.
    start = System.nanoTime();
    ReplaySummary fast = new Replayer(ReplayConfig.ofSynthetic(broker.bootstrapServers(), "rt.pace", 201, 2)
        .withDays(10, 0).withPace(ReplayConfig.Pace.SPEEDUP, 0, 20), out, err).run();
    double speedupSeconds = (System.nanoTime() - start) / 1e9;
    assertEquals(201, fast.acknowledged());
    assertTrue(speedupSeconds >= 0.45, "speedup 20 over 9.95 s of event time takes ~0.5 s, took " + speedupSeconds);
  }

  @Test
  void shouldStopAtTheFirstRecordKafkaRefusesAndSayWhereToResume(LocalKafkaBroker broker) throws Exception {
    try (Admin admin = Admin.create(Map.<String, Object>of("bootstrap.servers", broker.bootstrapServers()))) {
      Topics.ensure(admin, new Topics.Spec("rt.tiny", 1, Map.of("max.message.bytes", "120")));
    }
    ReplaySummary s = new Replayer(ReplayConfig.ofSynthetic(broker.bootstrapServers(), "rt.tiny", 500, 4), out, err)
        .run();
    assertFalse(s.allAcknowledged());
    assertTrue(s.failed() > 0);
    assertEquals(0, s.acknowledged());
    assertNotNull(s.firstError());
    assertTrue(s.firstError().contains("RecordTooLarge"), s.firstError());
    assertEquals(1, s.resume().fromLine(), "nothing was acknowledged, so resume from the first row");
  }

  @Test
  void shouldReportACorruptGzipFileWithTheLineToResumeFrom(LocalKafkaBroker broker, @TempDir Path dir)
      throws Exception {
    byte[] whole;
    try (var bytes = new ByteArrayOutputStream(); OutputStream o = new GZIPOutputStream(bytes)) {
      Files.copy(SAMPLE, o);
      o.close();
      whole = bytes.toByteArray();
    }
    Path cut = dir.resolve("cut.tsv.gz");
    Files.write(cut, java.util.Arrays.copyOf(whole, whole.length / 2));
    ReplaySummary s = new Replayer(ReplayConfig.ofFiles(broker.bootstrapServers(), "rt.cut", List.of(cut))
        .withDays(86_400, 1999), out, err).run();
    assertTrue(s.stopped());
    assertTrue(s.allAcknowledged(), "what was read was sent and acknowledged");
    assertTrue(s.produced() > 0 && s.produced() < 1999, "part of the file was read: " + s.produced());
    assertNotNull(s.firstError());
    assertTrue(s.firstError().contains(cut.toString()) && s.firstError().contains("after line"), s.firstError());
    assertEquals(s.produced() + 1, s.resume().fromLine());
  }

  @Test
  void shouldCreateAMissingTopicWithTheRequestedPartitionsAndSpreadKeysOverThem(LocalKafkaBroker broker)
      throws Exception {
    ReplayConfig cfg = new ReplayConfig(broker.bootstrapServers(), "rt.partitioned", 3, List.of(), 3000, 1, -1,
        ReplayConfig.Pace.MAX, 0, 0, 86_400, 0, 0, Instant.parse("2020-01-01T00:00:00Z"), 1, null, Map.of(), false);
    ReplaySummary s = new Replayer(cfg, out, err).run();
    assertEquals(3000, s.acknowledged());
    List<ConsumerRecord<byte[], byte[]>> records = readAll(broker, "rt.partitioned");
    Map<Integer, Integer> perPartition = new HashMap<>();
    records.forEach(r -> perPartition.merge(r.partition(), 1, Integer::sum));
    assertEquals(3, perPartition.size());
    perPartition.values().forEach(c -> assertTrue(c > 700, "keys spread evenly: " + perPartition));
    ClickEvent first = SingleObjectCodec.of(ClickEvent.class).decode(records.get(0).value());
    assertTrue(first.getEventTime() >= Instant.parse("2020-01-01T00:00:00Z").toEpochMilli());
  }

  /** Every record of a topic: reads until the consumer position reaches each partition's end offset. */
  static List<ConsumerRecord<byte[], byte[]>> readAll(LocalKafkaBroker broker, String topic) {
    Map<String, Object> p = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
        ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000);
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
        new ByteArrayDeserializer())) {
      List<TopicPartition> tps = new ArrayList<>();
      for (PartitionInfo pi : c.partitionsFor(topic)) {
        tps.add(new TopicPartition(topic, pi.partition()));
      }
      c.assign(tps);
      c.seekToBeginning(tps);
      Map<TopicPartition, Long> end = c.endOffsets(tps);
      List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("timed out reading " + topic + ": have " + out.size());
        }
        c.poll(Duration.ofMillis(200)).forEach(out::add);
      }
      return out;
    }
  }
}
