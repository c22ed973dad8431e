package io.tinyrec.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The decoder must read exactly what Avro's reader reads, accept only events a model can take, and
 * decline everything else, so that {@link SingleObjectCodec} still names what is wrong with it.
 */
class ClickEventDecoderTest {
  private final SingleObjectCodec<ClickEvent> codec = SingleObjectCodec.of(ClickEvent.class);
  private final ClickEventDecoder fast = new ClickEventDecoder();

  private static ClickEvent event(SplittableRandom r, int i) {
    List<Integer> dense = new ArrayList<>();
    for (int k = 0; k < ClickEventEncoder.NUM_DENSE; k++) {
      int kind = r.nextInt(6);
      dense.add(kind == 0 ? null : kind == 1 ? Integer.MIN_VALUE : kind == 2 ? Integer.MAX_VALUE : r.nextInt(-5, 100_000));
    }
    List<Long> cats = new ArrayList<>();
    for (int t = 0; t < ClickEventEncoder.NUM_CATS; t++) {
      int kind = r.nextInt(6);
      cats.add(kind == 0 ? null : kind == 1 ? 0L : kind == 2 ? 0xFFFF_FFFFL : r.nextLong(0, 1L << 32));
    }
    String id = (i % 3 == 0 ? "jour_\u00e9t\u00e9_\u4e2d:" : "day_0:") + i;
    Integer label = switch (r.nextInt(3)) {
      case 0 -> null;
      case 1 -> 0;
      default -> 1;
    };
    return ClickEvent.newBuilder().setEventId(id).setKey(id).setEventTime(r.nextLong(-1L << 40, 1L << 42))
        .setLabel(label).setDense(dense).setCats(cats).setSourceDay(r.nextInt(0, 24))
        .setSourceLine(r.nextLong(1, 1L << 40)).build();
  }

  /** Whether a decoded event is one a model can take: the rules the decoder documents. */
  private static boolean modelInput(ClickEvent e) {
    Integer l = e.getLabel();
    return (l == null || l == 0 || l == 1) && e.getDense().size() == ClickEventEncoder.NUM_DENSE
        && e.getCats().size() == ClickEventEncoder.NUM_CATS
        && e.getCats().stream().allMatch(c -> c == null || (c >= 0 && c <= 0xFFFF_FFFFL));
  }

  /** What Avro's reader makes of the bytes, or null when it rejects them. */
  private ClickEvent avro(byte[] bytes) {
    try {
      return codec.decode(bytes);
    } catch (UndecodableRecordException rejected) {
      return null;
    }
  }

  private void assertSameAsAvro(byte[] bytes, String what) {
    ClickEvent e = avro(bytes);
    assertTrue(e != null, what + ": accepted bytes Avro's reader rejects");
    assertTrue(modelInput(e), what + ": accepted an event a model cannot take: " + e);
    assertEquals(e.getEventId(), fast.eventId(), what);
    assertEquals(e.getKey(), fast.key(), what);
    assertEquals(e.getEventTime(), fast.eventTime(), what);
    assertEquals(e.getLabel() == null ? -1 : e.getLabel(), fast.label(), what);
    for (int i = 0; i < ClickEventEncoder.NUM_DENSE; i++) {
      Integer x = e.getDense().get(i);
      assertEquals(x == null, (fast.denseMissing() >>> i & 1) != 0, what + " I" + (i + 1));
      assertEquals(x == null ? 0 : x, fast.dense()[i], what + " I" + (i + 1));
    }
    for (int t = 0; t < ClickEventEncoder.NUM_CATS; t++) {
      Long c = e.getCats().get(t);
      assertEquals(c == null, (fast.catMissing() >>> t & 1) != 0, what + " C" + (t + 1));
      assertEquals(c == null ? 0L : c, Integer.toUnsignedLong(fast.cats()[t]), what + " C" + (t + 1));
    }
  }

  @Test
  void shouldReadEveryWellFormedEventAsAvroDoes() {
    SplittableRandom r = new SplittableRandom(5);
    for (int i = 0; i < 2_000; i++) {
      byte[] bytes = codec.encode(event(r, i));
      assertTrue(fast.read(bytes), "event " + i + " declined");
      assertSameAsAvro(bytes, "event " + i);
    }
  }

  @Test
  void shouldDeclineWhatTheSlowPathMustJudge() {
    SplittableRandom r = new SplittableRandom(6);
    ClickEvent good = event(r, 1);
    byte[] bytes = codec.encode(good);
    // Every truncation, and a byte too many.
    for (int n = 0; n < bytes.length; n++) {
      assertFalse(fast.read(Arrays.copyOf(bytes, n)), "accepted " + n + " of " + bytes.length + " bytes");
    }
    assertFalse(fast.read(Arrays.copyOf(bytes, bytes.length + 1)), "accepted a trailing byte");
    // Another writer schema's fingerprint, and a broken marker.
    byte[] otherFingerprint = bytes.clone();
    otherFingerprint[5] ^= 1;
    assertFalse(fast.read(otherFingerprint));
    byte[] badMarker = bytes.clone();
    badMarker[0] = 0;
    assertFalse(fast.read(badMarker));
    assertFalse(fast.read(null));
    // Events a model cannot take: a wrong count of dense values or categories, a label of 2, a
    // category outside 0..2^32-1. Avro reads them; the job must reject them with a reason.
    List<Integer> shortDense = new ArrayList<>(good.getDense().subList(0, 12));
    List<Long> longCats = new ArrayList<>(good.getCats());
    longCats.add(1L);
    List<Long> negativeCat = new ArrayList<>(good.getCats());
    negativeCat.set(3, -1L);
    List<Long> wideCat = new ArrayList<>(good.getCats());
    wideCat.set(25, 1L << 32);
    for (ClickEvent bad : List.of(ClickEvent.newBuilder(good).setDense(shortDense).build(),
        ClickEvent.newBuilder(good).setCats(longCats).build(), ClickEvent.newBuilder(good).setLabel(2).build(),
        ClickEvent.newBuilder(good).setCats(negativeCat).build(),
        ClickEvent.newBuilder(good).setCats(wideCat).build())) {
      byte[] b = codec.encode(bad);
      assertFalse(fast.read(b), "accepted " + bad);
      assertFalse(modelInput(avro(b)), "the slow path should reject " + bad);
    }
  }

  @Test
  void shouldReadWhatTheEncoderWrites() {
    ClickEventEncoder enc = new ClickEventEncoder();
    int[] dense = new int[ClickEventEncoder.NUM_DENSE];
    int[] cats = new int[ClickEventEncoder.NUM_CATS];
    Arrays.setAll(dense, i -> i * 1000 - 3);
    Arrays.setAll(cats, t -> t * 0x0ABCDEF1);
    assertTrue(fast.read(enc.encode("synthetic-1:9", "synthetic-1:9", 77L, 1, dense, 0b101, cats, 1 << 25, 3, 9L)));
    assertEquals("synthetic-1:9", fast.key());
    assertEquals(1, fast.label());
    assertEquals(0b101, fast.denseMissing());
    assertEquals(1 << 25, fast.catMissing());
    assertEquals(dense[1], fast.dense()[1]);
    assertEquals(cats[24], fast.cats()[24]);
  }

  @Test
  void shouldOnlyEverAcceptWhatAvroReadsTheSameWay() {
    SplittableRandom r = new SplittableRandom(7);
    int accepted = 0;
    for (int i = 0; i < 20_000; i++) {
      byte[] bytes = codec.encode(event(r, i));
      int flips = 1 + r.nextInt(3);
      for (int f = 0; f < flips; f++) {
        int at = SingleObjectCodec.HEADER_SIZE + r.nextInt(bytes.length - SingleObjectCodec.HEADER_SIZE);
        bytes[at] = (byte) r.nextInt(256);
      }
      if (fast.read(bytes)) {
        accepted++;
        assertSameAsAvro(bytes, "mutated event " + i);
      }
    }
    assertTrue(accepted > 1_000, "only " + accepted + " mutated events were still well-formed");
  }
}
