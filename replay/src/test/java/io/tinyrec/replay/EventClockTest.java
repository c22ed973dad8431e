package io.tinyrec.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class EventClockTest {
  private static final Instant START = Instant.parse("2014-01-01T00:00:00Z");
  private static final long DAY = 86_400_000L;

  @Test
  void shouldSpreadADaysRowsEvenlyOverTheDay() {
    EventClock clock = new EventClock(START, 86_400);
    long t0 = START.toEpochMilli();
    assertEquals(t0, clock.eventTime(0, 1, 4));
    assertEquals(t0 + DAY / 4, clock.eventTime(0, 2, 4));
    assertEquals(t0 + 3 * DAY / 4, clock.eventTime(0, 4, 4));
    assertEquals(t0 + 3 * DAY, clock.eventTime(3, 1, 4), "a file starting on day 3 starts at day 3's midnight");
  }

  @Test
  void shouldRunALongFileOnIntoTheFollowingDays() {
    EventClock clock = new EventClock(START, 60);
    assertEquals(0, EventClock.day(0, 10, 10));
    assertEquals(1, EventClock.day(0, 11, 10));
    assertEquals(START.toEpochMilli() + 60_000, clock.eventTime(0, 11, 10));
    assertEquals(3, EventClock.daysSpanned(21, 10));
    assertEquals(1, EventClock.daysSpanned(0, 10), "even an empty file takes its day");
  }

  @Test
  void shouldIncreaseMonotonicallyAcrossADay() {
    EventClock clock = new EventClock(START, 86_400);
    long rows = 195_841_983L; // a Criteo Terabyte day
    long prev = Long.MIN_VALUE;
    for (long line = 1; line <= rows; line += rows / 1000) {
      long t = clock.eventTime(0, line, rows);
      assertTrue(t >= prev);
      assertTrue(t < START.toEpochMilli() + DAY);
      prev = t;
    }
  }

  @Test
  void shouldNameSourcesWithoutGzSoIdsDoNotDependOnCompression() {
    assertEquals("day_0", EventClock.sourceName(Path.of("/data/criteo/day_0.gz")));
    assertEquals("day_0", EventClock.sourceName(Path.of("day_0")));
    assertEquals("train.txt", EventClock.sourceName(Path.of("train.txt")));
    assertEquals("day_0:17", EventClock.eventId("day_0", 17));
    assertEquals("synthetic-7", EventClock.syntheticSourceName(7));
  }

  @Test
  void shouldWriteTheSameIdAsBytes() {
    byte[] out = new byte[64];
    for (String source : new String[] {"day_0", "t\u00e9l\u00e9", ""}) {
      byte[] prefix = EventClock.idPrefix(source);
      for (long line : new long[] {0, 1, 9, 10, 99, 100, 123456789, 999_999_999_999L, 999_999_999_999_999_999L, Long.MAX_VALUE}) {
        int n = EventClock.eventIdUtf8(prefix, line, out);
        assertEquals(EventClock.eventId(source, line), new String(out, 0, n, java.nio.charset.StandardCharsets.UTF_8));
      }
    }
  }
}
