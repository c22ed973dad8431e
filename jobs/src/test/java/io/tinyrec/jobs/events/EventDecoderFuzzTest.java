package io.tinyrec.jobs.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyrec.jobs.kafka.KafkaOut;
import io.tinyrec.model.ModelConfig;
import io.tinyrec.schemas.ClickEventEncoder;
import io.tinyrec.schemas.TopicDefaults;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.Test;

/**
 * Hostile events through the job's decode operator: every record is either an event a model can
 * take or a dead letter with its reason, and none stops the operator. Lengths that lie (a 30-byte
 * value claiming two billion dense values) once made Avro's reader allocate gigabytes.
 */
public class EventDecoderFuzzTest {
  static final int MUTANTS = 120_000;

  /** A ClickEvent of the job's schema whose dense array claims 2,147,483,639 items, in 30 bytes. */
  public static byte[] lyingDenseLength() {
    byte[] good = new ClickEventEncoder().encode("a", "a", 0, 1, new int[13], 0, new int[26], 0, 0, 0);
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.write(good, 0, 10); // marker and fingerprint
    b.writeBytes(new byte[] {2, 'a', 2, 'a', 0, 0}); // eventId "a", key "a", eventTime 0, label null
    writeVarint(b, zigzag(2_147_483_639L)); // the dense array's block count
    b.writeBytes(new byte[] {2, 2, 2, 2, 2, 2, 2, 2});
    return b.toByteArray();
  }

  @Test
  void aLyingArrayLengthGoesToTheDeadLetterTopicInsteadOfExhaustingTheHeap() throws Exception {
    byte[] crafted = lyingDenseLength();
    assertTrue(crafted.length <= 30, crafted.length + " bytes");
    try (var h = harness()) {
      h.processElement(record(crafted, 1), 0);
      h.processElement(record(new ClickEventEncoder().encode("g", "g", 5, 0, new int[13], 0, new int[26], 0, 0, 1), 2),
          0);
      assertEquals(1, h.extractOutputValues().size(), "the good event after it is decoded");
      var dlq = new ArrayList<>(h.getSideOutput(EventDecoder.DEAD_LETTERS));
      assertEquals(1, dlq.size());
      String why = header(dlq.get(0).getValue(), TopicDefaults.DLQ_ERROR);
      assertTrue(why.contains("dense") && why.contains("2147483639"), why);
      assertEquals("BAD_DATUM", header(dlq.get(0).getValue(), TopicDefaults.DLQ_ERROR_KIND));
    }
  }

  @Test
  void everyMutatedRecordIsEitherAnEventOrADeadLetter() throws Exception {
    List<byte[]> mutants = mutants(20261202L, MUTANTS);
    try (var h = harness()) {
      for (int n = 0; n < mutants.size(); n++) {
        h.processElement(record(mutants.get(n), n), n);
      }
      List<TrainingEvent> events = h.extractOutputValues();
      var dlq = new ArrayList<>(h.getSideOutput(EventDecoder.DEAD_LETTERS));
      assertEquals(MUTANTS, events.size() + dlq.size(), "every record is an event or a dead letter");
      assertTrue(dlq.size() > MUTANTS / 2, "most mutants are undecodable: " + dlq.size());
      for (TrainingEvent e : events) {
        assertEquals(ModelConfig.NUM_DENSE, e.dense.length);
        assertEquals(ModelConfig.NUM_SPARSE, e.cats.length);
        assertTrue(e.label >= -1 && e.label <= 1, "label " + e.label);
        assertNotNull(e.key);
      }
      for (StreamRecord<KafkaOut> r : dlq) {
        assertNotNull(header(r.getValue(), TopicDefaults.DLQ_ERROR_KIND));
        assertNotNull(header(r.getValue(), TopicDefaults.DLQ_SOURCE_OFFSET));
      }
      System.out.printf("fuzz: %d mutants, %d decoded, %d dead letters%n", MUTANTS, events.size(), dlq.size());
    }
  }

  /**
   * {@code n} mutants of 64 valid ClickEvents, the same for the same seed: bit flips (many or few),
   * truncations, a byte replaced by a length or count varint at an extreme, trailing bytes or a
   * stretch repeated; each kind a fifth.
   */
  public static List<byte[]> mutants(long seed, int n) {
    Random rnd = new Random(seed);
    List<byte[]> seeds = new ArrayList<>();
    ClickEventEncoder enc = new ClickEventEncoder();
    for (int i = 0; i < 64; i++) {
      int[] dense = new int[13];
      int[] cats = new int[26];
      for (int j = 0; j < 13; j++) {
        dense[j] = rnd.nextInt(1000) - 10;
      }
      for (int j = 0; j < 26; j++) {
        cats[j] = rnd.nextInt();
      }
      String id = "fuzz:" + i + "x".repeat(rnd.nextInt(40));
      seeds.add(enc.encode(id, id, rnd.nextLong(), rnd.nextInt(3) - 1, dense, rnd.nextInt(1 << 13), cats,
          rnd.nextInt(1 << 26), rnd.nextInt(24), rnd.nextLong()));
    }
    List<byte[]> out = new ArrayList<>(n);
    for (int k = 0; k < n; k++) {
      byte[] v = seeds.get(rnd.nextInt(seeds.size())).clone();
      out.add(switch (rnd.nextInt(5)) {
        case 0 -> flipBits(v, rnd, 1 + rnd.nextInt(4));
        case 1 -> java.util.Arrays.copyOf(v, rnd.nextInt(v.length)); // truncated
        case 2 -> extremeVarintAt(v, rnd); // a length or count at an extreme
        case 3 -> flipBits(v, rnd, 1 + rnd.nextInt(2)); // fewer flips: closer to valid
        default -> appendOrDuplicate(v, rnd); // trailing bytes, or a stretch repeated
      });
    }
    return out;
  }

  /** The decode operator's verdict on each record: decoded (with its label) or a dead letter. */
  public static long[] classify(List<byte[]> values) throws Exception {
    long labelled = 0;
    long unlabelled = 0;
    long dead = 0;
    try (var h = harness()) {
      for (int n = 0; n < values.size(); n++) {
        h.processElement(record(values.get(n), n), n);
      }
      for (TrainingEvent e : h.extractOutputValues()) {
        if (e.label >= 0) {
          labelled++;
        } else {
          unlabelled++;
        }
      }
      dead = h.getSideOutput(EventDecoder.DEAD_LETTERS).size();
    }
    return new long[] {labelled, unlabelled, dead};
  }

  static OneInputStreamOperatorTestHarness<RawRecord, TrainingEvent> harness() throws Exception {
    var h = ProcessFunctionTestHarnesses.forProcessFunction(new EventDecoder("dlq", io.tinyrec.jobs.TrainJob.LEARNER_MAX_PARALLELISM));
    return h;
  }

  static RawRecord record(byte[] value, long offset) {
    RawRecord r = new RawRecord();
    r.key = ("k" + offset).getBytes(StandardCharsets.UTF_8);
    r.value = value;
    r.topic = "events";
    r.offset = offset;
    r.timestamp = offset;
    return r;
  }

  static String header(KafkaOut out, String name) {
    for (int i = 0; i + 1 < out.headers.length; i += 2) {
      if (out.headers[i].equals(name)) {
        return out.headers[i + 1];
      }
    }
    return null;
  }

  static byte[] flipBits(byte[] v, Random rnd, int flips) {
    for (int i = 0; i < flips; i++) {
      int bit = 8 * 10 + rnd.nextInt(Math.max(1, (v.length - 10) * 8)); // past the header mostly
      if (rnd.nextInt(8) == 0) {
        bit = rnd.nextInt(v.length * 8); // sometimes the header too
      }
      v[bit / 8] ^= (byte) (1 << (bit % 8));
    }
    return v;
  }

  static final long[] EXTREMES = {Long.MAX_VALUE, Long.MIN_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE - 8L,
      Integer.MIN_VALUE, -1, 1L << 32, 1L << 31, 0xFFFF_FFFFL, -2_147_483_639L};

  /** Replaces the byte at a random position past the header with a varint of an extreme value. */
  static byte[] extremeVarintAt(byte[] v, Random rnd) {
    int at = 10 + rnd.nextInt(v.length - 10);
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.write(v, 0, at);
    writeVarint(b, zigzag(EXTREMES[rnd.nextInt(EXTREMES.length)]));
    b.write(v, at + 1, v.length - at - 1);
    return b.toByteArray();
  }

  static byte[] appendOrDuplicate(byte[] v, Random rnd) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    if (rnd.nextBoolean()) {
      b.writeBytes(v);
      byte[] tail = new byte[1 + rnd.nextInt(16)];
      rnd.nextBytes(tail);
      b.writeBytes(tail);
    } else {
      int from = 10 + rnd.nextInt(v.length - 10);
      int len = 1 + rnd.nextInt(Math.min(16, v.length - from));
      b.write(v, 0, from + len);
      b.write(v, from, v.length - from);
    }
    return b.toByteArray();
  }

  static long zigzag(long x) {
    return (x << 1) ^ (x >> 63);
  }

  static void writeVarint(ByteArrayOutputStream b, long n) {
    while ((n & ~0x7FL) != 0) {
      b.write((int) ((n & 0x7F) | 0x80));
      n >>>= 7;
    }
    b.write((int) n);
  }
}
