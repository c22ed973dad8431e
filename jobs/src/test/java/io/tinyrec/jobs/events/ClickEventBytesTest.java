package io.tinyrec.jobs.events;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyrec.model.data.CriteoRow;
import io.tinyrec.schemas.ClickEvent;
import io.tinyrec.schemas.SingleObjectCodec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The source's fast path must read exactly what Avro's reader plus {@link CriteoRow#of} read, and
 * decline everything else, so that the slow path still names what is wrong with it.
 */
class ClickEventBytesTest {
  private final SingleObjectCodec<ClickEvent> codec = SingleObjectCodec.of(ClickEvent.class);
  private final ClickEventBytes fast = new ClickEventBytes(codec.fingerprint());

  private static ClickEvent event(SplittableRandom r, int i) {
    List<Integer> dense = new ArrayList<>();
    for (int k = 0; k < CriteoRow.NUM_DENSE; k++) {
      int kind = r.nextInt(6);
      dense.add(kind == 0 ? null : kind == 1 ? Integer.MIN_VALUE : kind == 2 ? Integer.MAX_VALUE : r.nextInt(-5, 100_000));
    }
    List<Long> cats = new ArrayList<>();
    for (int t = 0; t < CriteoRow.NUM_CATS; t++) {
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

  /** What the slow path makes of the bytes: the event and its row, or null when it rejects them. */
  private TrainingEvent slow(byte[] bytes) {
    try {
      ClickEvent e = codec.decode(bytes);
      return EventDecoder.toTrainingEvent(e, CriteoRow.of(e.getLabel(), e.getDense(), e.getCats()), 7L);
    } catch (RuntimeException rejected) {
      return null;
    }
  }

  private void assertSameAsSlowPath(byte[] bytes, String what) {
    TrainingEvent s = slow(bytes);
    assertTrue(s != null, what + ": the fast path accepted bytes the slow path rejects");
    assertEquals(s.eventId, fast.eventId(), what);
    assertEquals(s.key, fast.key(), what);
    assertEquals(s.eventTime, fast.eventTime(), what);
    assertEquals(s.label, fast.row().label(), what);
    assertArrayEquals(s.dense, fast.row().denseFeatures(), what);
    assertArrayEquals(s.cats, fast.row().categoryValues(), what);
  }

  @Test
  void shouldReadEveryWellFormedEventAsAvroAndCriteoRowDo() {
    SplittableRandom r = new SplittableRandom(5);
    for (int i = 0; i < 2_000; i++) {
      byte[] bytes = codec.encode(event(r, i));
      assertTrue(fast.read(bytes), "event " + i + " declined");
      assertSameAsSlowPath(bytes, "event " + i);
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
    // Values CriteoRow.of refuses: a wrong count of dense values or categories, a label of 2, a
    // category outside 0..2^32-1.
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
      assertEquals(null, slow(b), "the slow path should reject " + bad);
    }
  }

  @Test
  void shouldOnlyEverAcceptWhatTheSlowPathReadsTheSameWay() {
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
        assertSameAsSlowPath(bytes, "mutated event " + i);
      }
    }
    assertTrue(accepted > 1_000, "only " + accepted + " mutated events were still well-formed");
  }
}
