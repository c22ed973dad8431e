package io.tinyrec.replay;

import io.tinyrec.model.data.CriteoFields;
import io.tinyrec.model.data.FastCriteoParser;
import io.tinyrec.model.data.MalformedRowException;
import io.tinyrec.model.synthetic.SyntheticCriteo;
import io.tinyrec.schemas.ClickEventEncoder;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;

/**
 * Replays Criteo rows (TSV files, plain or gzip, as successive days; or the synthetic stream) into a
 * Kafka topic as single-object encoded {@link io.tinyrec.schemas.ClickEvent}s, keyed by their
 * deterministic event id, with event times laid out by {@link EventClock}.
 *
 * <p>Three threads do the work, each handing the next chunks of 1024 rows: a reader un-gzips and
 * splits lines into reusable chunks of bytes (or generates synthetic rows); an encoder parses each
 * line into reused arrays and encodes it; the caller's thread only sends, as a Kafka producer
 * benchmark's would. Un-gzipping (the largest cost of our own), parsing and encoding, and the
 * producer's own work (including compression, which Kafka does in send) so run side by side when
 * there are cores for them.
 * The producer is idempotent with acks=all; the replay stops at the first record Kafka does not take.
 * A malformed line is counted, reported on stderr with its file and line, written to the rejects file,
 * and skipped. After {@link #requestStop()} (Ctrl-C) or a failure the producer is flushed and the
 * summary says where to resume so that ids and times come out identical.
 *
 * <p>One replayer runs once: call {@link #run()} from one thread; {@link #requestStop()} and the
 * counters may be used from any thread.
 */
public final class Replayer {
  private static final int QUEUE = 16;
  /** Encoded chunks waiting to be sent (each holds ~1024 encoded records). */
  private static final int ENCODED_QUEUE = 8;
  private static final int MAX_REPORTED_REJECTS = 10;
  private static final int FILE_SHIFT = 43;

  private final ReplayConfig cfg;
  private final PrintStream out;
  private final PrintStream err;
  private final EventClock clock;
  private final CountDownLatch done = new CountDownLatch(1);
  private final LongAdder acked = new LongAdder();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicLong firstFailedPosition = new AtomicLong(Long.MAX_VALUE);
  private final AtomicReference<String> firstError = new AtomicReference<>();
  private volatile boolean stopRequested;
  private volatile long rowsRead;
  private volatile long produced;
  private volatile long rejected;
  private volatile long expectedRows = -1;
  private volatile int currentFile;
  /** Set while the reader counts a file's lines; the time the sender then waits is not replay time. */
  private volatile boolean counting;
  private long countingWaitNanos;

  public Replayer(ReplayConfig cfg, PrintStream out, PrintStream err) {
    this.cfg = cfg;
    this.out = out;
    this.err = err;
    this.clock = new EventClock(cfg.startTime(), cfg.daySeconds());
  }

  /**
   * What {@code tinyrec replay} does once its flags are read: runs the replay, stopping cleanly on
   * Ctrl-C (the JVM's shutdown waits until the summary is out), prints the summary and returns the
   * exit code: 0 when every record was acknowledged and the input was read to its end, 1 otherwise.
   *
   * @throws IllegalArgumentException for a setting Kafka refuses (the CLI exits 2)
   * @throws IllegalStateException when Kafka cannot be reached or refuses the client's authentication
   *     before the first record (the CLI prints it and exits 1)
   */
  public static int runAsCommand(ReplayConfig cfg, PrintStream out, PrintStream err) {
    Replayer replayer = new Replayer(cfg, out, err);
    CountDownLatch reported = new CountDownLatch(1);
    Thread hook = new Thread(() -> {
      replayer.requestStop();
      try {
        // Give in-flight records time to be acknowledged and the summary time to print.
        reported.await(3, TimeUnit.MINUTES);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "tinyrec-replay-ctrl-c");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      ReplaySummary summary = replayer.run();
      replayer.printSummary(summary);
      out.flush();
      // Not every record acknowledged, or the input could not be read to its end: the replay failed.
      return summary.allAcknowledged() && summary.firstError() == null ? 0 : 1;
    } finally {
      reported.countDown();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // Ctrl-C: the hook is already running and returns now that the summary is out.
      }
    }
  }

  /** Asks a running replay to stop after the current row, flush and report where to resume. */
  public void requestStop() {
    stopRequested = true;
  }

  /** Waits until {@link #run()} has returned (or never started); true if it did within the timeout. */
  public boolean awaitDone(Duration timeout) throws InterruptedException {
    return done.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  public long acknowledged() {
    return acked.sum();
  }

  /** Runs the replay to the end of its input, a stop request or the first failure. */
  public ReplaySummary run() {
    try {
      return doRun();
    } finally {
      done.countDown();
    }
  }

  private ReplaySummary doRun() {
    err.println("replay: " + describeConfig());
    ensureTopic();
    BlockingQueue<ReplayChunk> queue = new ArrayBlockingQueue<>(QUEUE);
    // Chunks of lines the encoder is done with, for the reader to fill again.
    BlockingQueue<ReplayChunk> free = new ArrayBlockingQueue<>(QUEUE + 3);
    BlockingQueue<EncodedChunk> encoded = new ArrayBlockingQueue<>(ENCODED_QUEUE);
    // Names of at most 15 characters, so that top -H and /proc/PID/task/*/comm tell them apart.
    Thread reader = new Thread(() -> readInput(queue, free), "replay-reader");
    reader.setDaemon(true);
    Thread encoder = new Thread(() -> encodeInput(queue, free, encoded), "replay-encoder");
    encoder.setDaemon(true);
    ScheduledExecutorService progress = cfg.progress() ? startProgress() : null;
    long start = System.nanoTime();
    // Day of each input's first line, learnt as its rows arrive; a resumed run needs it.
    int[] startDays = new int[Math.max(1, cfg.inputs().size())];
    startDays[0] = cfg.startDay();
    boolean inputEnded = false;
    String readError = null;
    BufferedWriter rejects = openRejects();
    Sender sender = null;
    try (KafkaProducer<byte[], byte[]> producer = client(() -> new KafkaProducer<>(ReplayClients.producerProperties(cfg)))) {
      sender = new Sender(producer, rejects);
      // The clock starts once the producer exists, as ProducerPerformance's does, so the two rates
      // compare like for like; creating it (config, threads) is start-up, not replaying.
      start = System.nanoTime();
      reader.start();
      encoder.start();
      while (true) {
        EncodedChunk e = take(encoded);
        if (e == null) {
          break; // stop requested while waiting
        }
        if (e.error != null) {
          readError = e.error;
          break;
        }
        if (e.end) {
          inputEnded = true;
          break;
        }
        startDays[e.file] = e.fileStartDay;
        if (!sender.send(e)) {
          break;
        }
      }
      if (!inputEnded) {
        reader.interrupt();
        encoder.interrupt();
      }
      stopProgress(progress);
      if (stopRequested) {
        err.println("replay: stopping, waiting for Kafka to acknowledge " + (produced - acked.sum() - failed.get())
            + " records in flight ...");
      }
      producer.flush();
    } finally {
      stopProgress(progress);
      closeRejects(rejects);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    if (readError != null) {
      firstError.compareAndSet(null, readError);
    }
    long lastFile = sender == null ? 0 : sender.lastFile;
    long lastLine = sender == null ? cfg.fromLine() - 1 : sender.lastLine;
    ReplaySummary.Resume resume = null;
    if (!inputEnded || failed.get() > 0) {
      long failedAt = firstFailedPosition.get();
      if (failedAt != Long.MAX_VALUE) {
        int f = (int) (failedAt >>> FILE_SHIFT);
        resume = resumeAt(f, failedAt & ((1L << FILE_SHIFT) - 1), startDays[f]);
      } else {
        resume = resumeAt((int) lastFile, lastLine + 1, startDays[(int) lastFile]);
      }
    }
    return new ReplaySummary(rowsRead, produced, acked.sum(), rejected, failed.get(),
        sender == null ? 0 : sender.valueBytes, sender == null ? 0 : sender.keyBytes, seconds,
        countingWaitNanos / 1e9, !inputEnded, firstError.get(), resume);
  }

  private ReplaySummary.Resume resumeAt(int file, long line, int fileStartDay) {
    if (cfg.isSynthetic()) {
      return new ReplaySummary.Resume(List.of(), line, cfg.startDay());
    }
    return new ReplaySummary.Resume(cfg.inputs().subList(file, cfg.inputs().size()), line, fileStartDay);
  }

  /** The settings of this replay in one line, logged once at the start. */
  String describeConfig() {
    Map<String, Object> p = ReplayClients.producerProperties(cfg);
    String input = cfg.isSynthetic()
        ? cfg.synthetic() + " synthetic rows (seed " + cfg.seed() + (cfg.driftAt() >= 0 ? ", drift at "
            + cfg.driftAt() : "") + ")"
        : cfg.inputs().size() == 1 ? cfg.inputs().get(0).toString() : cfg.inputs().size() + " files";
    String pace = switch (cfg.pace()) {
      case MAX -> "as fast as Kafka takes it";
      case RATE -> cfg.rate() + " events/s";
      case SPEEDUP -> "event time x" + cfg.speedup();
    };
    return String.format(Locale.ROOT, "%s -> %s at %s; %s; days of %d s from %s, %s; from line %d, day %d; "
            + "acks=all, idempotent, compression %s, linger %s ms, batch %s B",
        input, cfg.topic(), p.get(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG), pace, cfg.daySeconds(), cfg.startTime(),
        cfg.rowsPerDay() > 0 ? cfg.rowsPerDay() + " rows a day" : cfg.isSynthetic() ? "one day" : "one day per file",
        cfg.fromLine(), cfg.startDay(), p.get(ProducerConfig.COMPRESSION_TYPE_CONFIG),
        p.get(ProducerConfig.LINGER_MS_CONFIG), p.get(ProducerConfig.BATCH_SIZE_CONFIG));
  }

  /** Makes a Kafka client; a setting Kafka refuses is a usage error that names the setting. */
  private static <T> T client(java.util.function.Supplier<T> make) {
    try {
      return make.get();
    } catch (org.apache.kafka.common.config.ConfigException e) {
      throw new IllegalArgumentException("Kafka client setting refused (check --bootstrap-servers and "
          + "--producer-config): " + e.getMessage(), e);
    } catch (KafkaException e) {
      Throwable c = e.getCause() != null ? e.getCause() : e;
      throw new IllegalArgumentException("cannot create the Kafka client (check --bootstrap-servers and "
          + "--producer-config): " + c.getMessage(), e);
    }
  }

  /** Creates the topic when it is missing (with --partitions); reports what it found. */
  private void ensureTopic() {
    Admin admin = client(() -> Admin.create(ReplayClients.adminProperties(cfg)));
    try {
      Optional<TopicDescription> d;
      try {
        d = Topics.describe(admin, cfg.topic());
      } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
        Throwable cause = e instanceof java.util.concurrent.ExecutionException ? e.getCause() : e;
        if (cause instanceof org.apache.kafka.common.errors.AuthenticationException) {
          // Wrong credentials, mechanism or certificates: retrying would not help, so say so at once.
          throw new IllegalStateException("Kafka at " + ReplayClients.producerProperties(cfg).get("bootstrap.servers")
              + " refused to authenticate this client (check security.protocol and the sasl.* and ssl.* settings "
              + "in --producer-config): " + cause.getMessage(), cause);
        }
        throw new IllegalStateException("cannot reach Kafka at " + ReplayClients.producerProperties(cfg).get("bootstrap.servers")
            + " to look up topic " + cfg.topic() + " (is the broker up, and are --bootstrap-servers and the "
            + "security settings right?): " + cause, cause);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
      if (d.isEmpty()) {
        err.println("replay: " + Topics.ensure(admin, new Topics.Spec(cfg.topic(), cfg.partitions(), Map.of())));
      } else {
        int n = d.get().partitions().size();
        err.println("replay: topic " + cfg.topic() + " exists (" + n + " partition" + (n == 1 ? "" : "s") + ")");
      }
    } finally {
      admin.close(Duration.ofSeconds(2));
    }
  }

  // ---- sending (the caller's thread) ----

  /** Sends encoded records, on the caller's thread, and does the bookkeeping of each row. */
  private final class Sender {
    private final KafkaProducer<byte[], byte[]> producer;
    private final BufferedWriter rejects;
    private final Pacer pacer = new Pacer();
    long valueBytes;
    long keyBytes;
    /** Input and line of the last row produced or rejected. */
    long lastFile;
    long lastLine = cfg.fromLine() - 1;

    Sender(KafkaProducer<byte[], byte[]> producer, BufferedWriter rejects) {
      this.producer = producer;
      this.rejects = rejects;
    }

    /** Sends a chunk's records; false when the replay must stop (a stop request or a failure). */
    boolean send(EncodedChunk e) {
      for (int j = 0; j < e.size; j++) {
        if (stopRequested || failed.get() > 0) {
          return false;
        }
        long line = e.lines[j];
        rowsRead++;
        byte[] value = e.values[j];
        if (value == null) {
          reject(rejects, e.errors[j], e.raw[j]);
          lastFile = e.file;
          lastLine = line;
          continue;
        }
        if (cfg.pace() != ReplayConfig.Pace.MAX) {
          pacer.await(e.times[j]);
        }
        byte[] key = e.keys[j];
        long position = ((long) e.file << FILE_SHIFT) | line;
        try {
          producer.send(new ProducerRecord<>(cfg.topic(), null, key, value), new Ack(position));
        } catch (KafkaException ex) {
          fail(position, ex);
          produced++;
          return false;
        }
        produced++;
        valueBytes += value.length;
        keyBytes += key.length;
        lastFile = e.file;
        lastLine = line;
      }
      return true;
    }
  }

  // ---- encoder thread ----

  /** Records of one chunk encoded for Kafka, or a malformed line's reason in their place. */
  /**
   * The encoder thread: parses each line of the reader's chunks into reused arrays and encodes it as
   * a ClickEvent with its key, event time and day, then gives the chunk back to the reader.
   */
  private void encodeInput(BlockingQueue<ReplayChunk> in, BlockingQueue<ReplayChunk> free, BlockingQueue<EncodedChunk> out) {
    ClickEventEncoder encoder = new ClickEventEncoder();
    CriteoFields row = new CriteoFields();
    String[] sources = cfg.inputs().stream().map(Path::toString).toArray(String[]::new);
    byte[][] prefixes = Arrays.stream(sourceNames()).map(EventClock::idPrefix).toArray(byte[][]::new);
    byte[] id = new byte[Arrays.stream(prefixes).mapToInt(p -> p.length).max().orElse(0) + 20];
    try {
      while (true) {
        ReplayChunk c = in.poll(100, TimeUnit.MILLISECONDS);
        if (c == null) {
          if (stopRequested || Thread.currentThread().isInterrupted()) {
            return;
          }
          continue;
        }
        if (c.end || c.error != null) {
          put(out, EncodedChunk.marker(c.end, c.error));
          return;
        }
        EncodedChunk e = new EncodedChunk(c.file, c.fileStartDay, c.size);
        for (int j = 0; j < c.size; j++) {
          long line = c.lines[j];
          if (c.rows != null) {
            row.set(c.rows[j]);
          } else {
            try {
              FastCriteoParser.parse(c.data, c.offsets[j], c.lengths[j], sources[c.file], line, row);
            } catch (MalformedRowException ex) {
              e.reject(line, ex, c.text(j));
              continue;
            }
          }
          int day = EventClock.day(c.fileStartDay, line, c.rowsPerDay);
          long time = clock.eventTime(c.fileStartDay, line, c.rowsPerDay);
          int idLen = EventClock.eventIdUtf8(prefixes[c.file], line, id);
          e.lines[e.size] = line;
          e.times[e.size] = time;
          e.keys[e.size] = Arrays.copyOf(id, idLen);
          e.values[e.size++] = encoder.encode(id, idLen, id, idLen, time, row.label, row.dense, row.denseMissing,
              row.cats, row.catMissing, day, line);
        }
        if (c.data != null) {
          free.offer(c);
        }
        put(out, e);
      }
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException ex) {
      try {
        put(out, EncodedChunk.marker(false, "encoding failed: " + ex));
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
      }
    }
  }

  // ---- reader thread ----

  /**
   * Consecutive rows of one input: lines of a file as bytes, one after the other in {@link #data}
   * (reused: the encoder hands a chunk back once it is done with it), or synthetic rows.
   */
  private void readInput(BlockingQueue<ReplayChunk> queue, BlockingQueue<ReplayChunk> free) {
    try {
      if (cfg.isSynthetic()) {
        readSynthetic(queue);
      } else {
        readFiles(queue, free);
      }
      put(queue, ReplayChunk.marker(true, null));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException | RuntimeException e) {
      try {
        put(queue, ReplayChunk.marker(false, "reading input failed: " + e.getMessage()));
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void readSynthetic(BlockingQueue<ReplayChunk> queue) throws InterruptedException {
    SyntheticCriteo stream = new SyntheticCriteo(cfg.seed(), cfg.driftAt());
    long n = cfg.synthetic();
    long rpd = cfg.rowsPerDay() > 0 ? cfg.rowsPerDay() : Math.max(1, n);
    expectedRows = n - (cfg.fromLine() - 1);
    ReplayChunk c = ReplayChunk.ofRows(0, cfg.startDay(), rpd);
    for (long i = cfg.fromLine() - 1; i < n; i++) {
      c.add(i + 1, stream.sample(i).row());
      if (c.size == ReplayChunk.CHUNK) {
        put(queue, c);
        c = ReplayChunk.ofRows(0, cfg.startDay(), rpd);
      }
    }
    if (c.size > 0) {
      put(queue, c);
    }
  }

  private void readFiles(BlockingQueue<ReplayChunk> queue, BlockingQueue<ReplayChunk> free)
      throws IOException, InterruptedException {
    int day = cfg.startDay();
    for (int f = 0; f < cfg.inputs().size(); f++) {
      Path file = cfg.inputs().get(f);
      currentFile = f;
      long fromLine = f == 0 ? cfg.fromLine() : 1;
      long rpd = cfg.rowsPerDay();
      if (rpd == 0) {
        counting = true;
        long lines;
        try {
          lines = InputFiles.countLines(file);
        } finally {
          counting = false;
        }
        rpd = Math.max(1, lines);
        expectedRows = Math.max(0, lines - (fromLine - 1));
      } else {
        expectedRows = -1;
      }
      int fileIndex = f;
      int fileDay = day;
      long rowsPerDay = rpd;
      ReplayChunk[] c = {ReplayChunk.ofLines(free, f, day, rpd)};
      long lines;
      try (InputStream in = InputFiles.open(file)) {
        lines = InputFiles.forEachLine(in, (buf, off, len, lineNo) -> {
          if (lineNo < fromLine || len == 0 || (len == 1 && buf[off] == '\r')) {
            return; // before the resume point, or blank (CriteoReader skips blank lines too)
          }
          if (!c[0].addLine(buf, off, len, lineNo)) {
            put(queue, c[0]);
            c[0] = ReplayChunk.ofLines(free, fileIndex, fileDay, rowsPerDay);
            c[0].addLine(buf, off, len, lineNo);
          }
        });
      } catch (IOException e) {
        if (c[0].size > 0) {
          put(queue, c[0]); // the lines before the damage still go out, so the resume point is exact
        }
        throw new IOException(file + ": " + e.getMessage(), e);
      }
      if (c[0].size > 0) {
        put(queue, c[0]);
      }
      day += EventClock.daysSpanned(lines, rpd);
    }
  }

  private <T> void put(BlockingQueue<T> queue, T c) throws InterruptedException {
    while (!queue.offer(c, 100, TimeUnit.MILLISECONDS)) {
      if (stopRequested || Thread.currentThread().isInterrupted()) {
        throw new InterruptedException("replay stopped");
      }
    }
  }

  /** The sender's next chunk; null when a stop was requested or a record failed while waiting. */
  private EncodedChunk take(BlockingQueue<EncodedChunk> queue) {
    try {
      while (true) {
        long t = System.nanoTime();
        EncodedChunk c = queue.poll(100, TimeUnit.MILLISECONDS);
        if (counting) {
          countingWaitNanos += System.nanoTime() - t;
        }
        if (c != null) {
          return c;
        }
        if (stopRequested || failed.get() > 0) {
          return null;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stopRequested = true;
      return null;
    }
  }

  private String[] sourceNames() {
    if (cfg.isSynthetic()) {
      return new String[] {EventClock.syntheticSourceName(cfg.seed())};
    }
    return cfg.inputs().stream().map(EventClock::sourceName).toArray(String[]::new);
  }

  // ---- acknowledgements and failures ----

  /** Counts one record's acknowledgement; remembers the position of a failure. */
  private final class Ack implements Callback {
    private final long position;

    Ack(long position) {
      this.position = position;
    }

    @Override
    public void onCompletion(RecordMetadata metadata, Exception exception) {
      if (exception == null) {
        acked.increment();
      } else {
        fail(position, exception);
      }
    }
  }

  private void fail(long position, Exception e) {
    failed.incrementAndGet();
    firstFailedPosition.accumulateAndGet(position, Math::min);
    firstError.compareAndSet(null, e.getClass().getSimpleName() + ": " + e.getMessage());
  }

  // ---- rejects ----

  private BufferedWriter openRejects() {
    if (cfg.rejects() == null) {
      return null;
    }
    try {
      Path p = cfg.rejects().toAbsolutePath();
      if (p.getParent() != null) {
        Files.createDirectories(p.getParent());
      }
      return Files.newBufferedWriter(p, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot write --rejects " + cfg.rejects() + ": " + e.getMessage(), e);
    }
  }

  private void reject(BufferedWriter rejects, MalformedRowException e, String raw) {
    rejected++;
    if (rejected <= MAX_REPORTED_REJECTS) {
      err.println(cr() + "replay: rejected " + e.getMessage());
    } else if (rejected == MAX_REPORTED_REJECTS + 1) {
      err.println(cr() + "replay: more rejected lines follow; only the count is shown"
          + (rejects != null ? ", each is in " + cfg.rejects() : " (use --rejects FILE to keep them)"));
    }
    if (rejects != null) {
      try {
        // source:line, reason, then the raw line: `cut -f3-` gives back the rejected lines as they were.
        rejects.write(e.source() + ":" + e.line() + "\t" + (e.field() == null ? "" : e.field() + ": ")
            + e.reason().replace('\t', ' ') + "\t" + raw + "\n");
      } catch (IOException io) {
        throw new UncheckedIOException("cannot write --rejects " + cfg.rejects(), io);
      }
    }
  }

  private void closeRejects(BufferedWriter rejects) {
    if (rejects != null) {
      try {
        rejects.close();
      } catch (IOException e) {
        err.println("replay: could not finish writing --rejects " + cfg.rejects() + ": " + e.getMessage());
      }
    }
  }

  // ---- pacing and progress ----

  /** Returns to the line start first when a progress line may be showing. */
  private String cr() {
    return cfg.progress() ? "\r" : "";
  }

  /** Holds each row back until its send time under --rate or --speedup. */
  private final class Pacer {
    private long startNanos = Long.MIN_VALUE;
    private long firstEventTime;
    private long count;

    void await(long eventTime) {
      long now = System.nanoTime();
      if (startNanos == Long.MIN_VALUE) {
        startNanos = now;
        firstEventTime = eventTime;
      }
      long due = cfg.pace() == ReplayConfig.Pace.RATE
          ? startNanos + (long) (count * 1e9 / cfg.rate())
          : startNanos + (long) ((eventTime - firstEventTime) * 1e6 / cfg.speedup());
      count++;
      while (now < due && !stopRequested) {
        LockSupport.parkNanos(Math.min(due - now, 100_000_000L));
        now = System.nanoTime();
      }
    }
  }

  private void stopProgress(ScheduledExecutorService progress) {
    if (progress != null && !progress.isShutdown()) {
      progress.shutdownNow();
      try {
        progress.awaitTermination(1, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      err.print("\r" + " ".repeat(100) + "\r");
      err.flush();
    }
  }

  private ScheduledExecutorService startProgress() {
    ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "tinyrec-replay-progress");
      t.setDaemon(true);
      return t;
    });
    long start = System.nanoTime();
    long[] last = {0, start};
    double[] rate = {0};
    s.scheduleAtFixedRate(() -> {
      long now = System.nanoTime();
      long rows = rowsRead;
      double inst = (rows - last[0]) / ((now - last[1]) / 1e9);
      rate[0] = rate[0] == 0 ? inst : 0.7 * rate[0] + 0.3 * inst;
      last[0] = rows;
      last[1] = now;
      err.print("\r" + progressLine(rows, rate[0], (now - start) / 1e9));
      err.flush();
    }, 500, 500, TimeUnit.MILLISECONDS);
    return s;
  }

  private String progressLine(long rows, double rate, double seconds) {
    if (counting) {
      String s = "replay: counting the lines of " + EventClock.sourceName(cfg.inputs().get(currentFile))
          + " to lay out event times (--rows-per-day skips this) ...";
      return s.length() < 100 ? s + " ".repeat(100 - s.length()) : s;
    }
    StringBuilder sb = new StringBuilder("replay: ");
    long expected = expectedRows;
    if (!cfg.isSynthetic() && cfg.inputs().size() > 1) {
      sb.append(String.format(Locale.ROOT, "file %d/%d ", currentFile + 1, cfg.inputs().size()));
    }
    if (expected > 0 && cfg.inputs().size() <= 1) {
      int width = 24;
      double frac = Math.min(1, (double) rows / expected);
      int filled = (int) (frac * width);
      sb.append('[').append("#".repeat(filled)).append(" ".repeat(width - filled)).append("] ");
      sb.append(String.format(Locale.ROOT, "%3.0f%% ", frac * 100));
    }
    sb.append(String.format(Locale.ROOT, "%,d rows  %,.0f rows/s  acked %,d", rows, rate, acked.sum()));
    if (rejected > 0) {
      sb.append(String.format(Locale.ROOT, "  rejected %,d", rejected));
    }
    if (expected > 0 && rate > 0 && cfg.inputs().size() <= 1) {
      long eta = (long) Math.max(0, (expected - rows) / rate);
      sb.append(String.format(Locale.ROOT, "  ETA %d:%02d:%02d", eta / 3600, eta / 60 % 60, eta % 60));
    } else {
      long t = (long) seconds;
      sb.append(String.format(Locale.ROOT, "  %d:%02d:%02d", t / 3600, t / 60 % 60, t % 60));
    }
    String s = sb.toString();
    return s.length() < 100 ? s + " ".repeat(100 - s.length()) : s;
  }

  /** Prints the summary and, when the replay is unfinished, the flags that resume it. */
  public void printSummary(ReplaySummary s) {
    out.printf(Locale.ROOT, "replay: %,d rows read, %,d produced, %,d acknowledged, %,d rejected, %,d failed%n",
        s.rowsRead(), s.produced(), s.acknowledged(), s.rejected(), s.failed());
    out.printf(Locale.ROOT, "replay: %,.0f rows/s over %.1f s%s%n", s.rowsPerSecond(), s.seconds() - s.countSeconds(),
        s.countSeconds() >= 0.05 ? String.format(Locale.ROOT, " (plus %.1f s counting lines to lay out event "
            + "times; --rows-per-day skips it)", s.countSeconds()) : "");
    double n = Math.max(1, s.produced());
    out.printf(Locale.ROOT, "replay: %.1f MB into topic %s, %.0f B value + %.0f B key per event%n",
        (s.valueBytes() + s.keyBytes()) / 1e6, cfg.topic(), s.valueBytes() / n, s.keyBytes() / n);
    if (s.rejected() > 0) {
      out.println("replay: " + s.rejected() + " malformed line" + (s.rejected() == 1 ? " was" : "s were")
          + " skipped" + (cfg.rejects() != null ? "; they are in " + cfg.rejects() : ""));
    }
    if (s.firstError() != null) {
      out.println("replay: first error: " + s.firstError());
    }
    if (!s.allAcknowledged()) {
      out.println("replay: NOT every record was acknowledged by Kafka");
    }
    if (s.resume() != null) {
      out.println("replay: stopped before the end; to resume with identical event ids and times, run with:");
      out.println("  " + resumeFlags(s.resume()));
    }
  }

  /** The input flags of a resumed run. */
  public String resumeFlags(ReplaySummary.Resume r) {
    StringBuilder sb = new StringBuilder();
    if (cfg.isSynthetic()) {
      sb.append("--synthetic ").append(cfg.synthetic()).append(" --seed ").append(cfg.seed());
      if (cfg.driftAt() >= 0) {
        sb.append(" --drift-at ").append(cfg.driftAt());
      }
    } else {
      sb.append("--input");
      for (Path p : r.inputs()) {
        sb.append(' ').append(p);
      }
    }
    sb.append(" --from-line ").append(r.fromLine()).append(" --start-day ").append(r.startDay());
    if (cfg.rowsPerDay() > 0) {
      sb.append(" --rows-per-day ").append(cfg.rowsPerDay());
    }
    if (cfg.daySeconds() != 86_400) {
      sb.append(" --day-seconds ").append(cfg.daySeconds());
    }
    if (!cfg.startTime().equals(ReplayConfig.DEFAULT_START_TIME)) {
      sb.append(" --start-time ").append(cfg.startTime());
    }
    return sb.toString();
  }
}
