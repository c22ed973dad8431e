package io.tinyrec.serving;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyrec.model.Dlrm;
import io.tinyrec.model.codec.SnapshotCodec;
import io.tinyrec.model.data.CriteoRow;
import io.tinyrec.model.data.MalformedRowException;
import io.tinyrec.schemas.ClickEvent;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class ScorerTest {
  static final Dlrm MODEL = TestSnapshots.trained(3, 2000);
  static final List<CriteoRow> ROWS = TestSnapshots.rows(3, 10_000, 700);
  static final float[] WANT = TestSnapshots.reference(MODEL, ROWS);
  final Scorer scorer = Scorer.fromCodec(SnapshotCodec.encode(MODEL, false));

  @Test
  void shouldScoreRowsAsTheTrainerDoesOneByOneAndInBatches() {
    assertArrayEquals(WANT, scorer.score(ROWS), 1e-6f);
    for (int i = 0; i < 50; i++) {
      assertEquals(WANT[i], scorer.score(ROWS.get(i)), 1e-6f, "row " + i);
      assertEquals(WANT[i], scorer.score(ROWS.get(i).toTsv()), 1e-6f, "TSV line " + i);
    }
    assertEquals(0, scorer.score(List.of()).length);
    // Any number of rows per forward pass gives the same scores, on the same thread as other scorers.
    Scorer sevens = new Scorer(SnapshotCodec.decode(SnapshotCodec.encode(MODEL, false)), 7);
    assertArrayEquals(WANT, sevens.score(ROWS), 1e-6f);
    StringBuilder sb = new StringBuilder();
    ROWS.forEach(r -> sb.append(r.toTsv()).append('\n'));
    byte[] b = sb.toString().getBytes(StandardCharsets.US_ASCII);
    assertArrayEquals(WANT, sevens.scoreTsv(b, 0, b.length, "body"), 1e-6f);
    assertArrayEquals(WANT, scorer.scoreTsv(b, 0, b.length, "body"), 1e-6f);
  }

  @Test
  void shouldScoreTsvWithAndWithoutLabelsCrlfAndBlankLinesLikeParsedRows() {
    StringBuilder body = new StringBuilder();
    for (int i = 0; i < ROWS.size(); i++) {
      String line = ROWS.get(i).toTsv();
      if (i % 3 == 0) {
        line = line.substring(line.indexOf('\t') + 1); // no label column
      }
      body.append(line).append(i % 5 == 0 ? "\r\n" : "\n");
      if (i % 100 == 7) {
        body.append("\n"); // a blank line is skipped
      }
    }
    byte[] b = body.toString().getBytes(StandardCharsets.US_ASCII);
    assertArrayEquals(WANT, scorer.scoreTsv(b, 0, b.length, "body"), 1e-6f);
    byte[] noFinalNewline = ROWS.get(0).toTsv().getBytes(StandardCharsets.US_ASCII);
    assertArrayEquals(new float[] {WANT[0]}, scorer.scoreTsv(noFinalNewline, 0, noFinalNewline.length, "body"), 1e-6f);
    assertEquals(0, scorer.scoreTsv(new byte[] {'\n', '\r', '\n'}, 0, 3, "body").length);
  }

  @Test
  void shouldNameTheLineFieldAndValueOfABadTsvRow() {
    String good = ROWS.get(0).toTsv();
    String bad = good.replaceFirst("\t([0-9]*)\t", "\t1.5\t");
    byte[] b = (good + "\n" + good + "\n" + bad + "\n").getBytes(StandardCharsets.US_ASCII);
    MalformedRowException e = assertThrows(MalformedRowException.class, () -> scorer.scoreTsv(b, 0, b.length, "body"));
    assertEquals(3, e.line());
    assertEquals("I1", e.field());
    assertTrue(e.reason().contains("'1.5'"), e.reason());
    byte[] short38 = good.substring(good.indexOf('\t') + 1).replaceFirst("\t[^\t]*$", "").getBytes(StandardCharsets.US_ASCII);
    MalformedRowException f = assertThrows(MalformedRowException.class,
        () -> scorer.scoreTsv(short38, 0, short38.length, "body"));
    assertTrue(f.getMessage().contains("found 38"), f.getMessage());
    // The thread's buffers are clean after a failure.
    assertArrayEquals(WANT, scorer.score(ROWS), 1e-6f);
  }

  @Test
  void shouldScoreClickEventsExactlyAsTheirTsvRows() {
    List<ClickEvent> events = new ArrayList<>();
    for (CriteoRow r : ROWS) {
      List<Integer> dense = new ArrayList<>();
      for (int i = 0; i < CriteoRow.NUM_DENSE; i++) {
        dense.add(r.isDenseMissing(i) ? null : r.dense()[i]);
      }
      List<Long> cats = new ArrayList<>();
      for (int t = 0; t < CriteoRow.NUM_CATS; t++) {
        cats.add(r.isCatMissing(t) ? null : Integer.toUnsignedLong(r.cats()[t]));
      }
      events.add(ClickEvent.newBuilder().setEventId("e").setKey("e").setEventTime(0).setLabel(null).setDense(dense)
          .setCats(cats).setSourceDay(0).setSourceLine(0).build());
    }
    assertArrayEquals(WANT, scorer.scoreEvents(events), 1e-6f);
    assertEquals(WANT[5], scorer.score(events.get(5)), 1e-6f);
    ClickEvent bad = ClickEvent.newBuilder(events.get(2)).setDense(events.get(2).getDense().subList(0, 12)).build();
    List<ClickEvent> withBad = new ArrayList<>(events.subList(0, 4));
    withBad.set(2, bad);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> scorer.scoreEvents(withBad));
    assertEquals("event 2 (e): dense has 12 values, expected 13", e.getMessage());
  }

  @Test
  void shouldGiveEveryThreadTheSameScoresAtOnce() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<float[]>> results = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int kind = t % 3;
        results.add(pool.submit(() -> {
          float[] got = new float[ROWS.size()];
          for (int round = 0; round < 5; round++) {
            if (kind == 0) {
              got = scorer.score(ROWS);
            } else if (kind == 1) {
              for (int i = 0; i < ROWS.size(); i++) {
                got[i] = scorer.score(ROWS.get(i));
              }
            } else {
              StringBuilder sb = new StringBuilder();
              ROWS.forEach(r -> sb.append(r.toTsv()).append('\n'));
              byte[] b = sb.toString().getBytes(StandardCharsets.US_ASCII);
              got = scorer.scoreTsv(b, 0, b.length, "body");
            }
          }
          return got;
        }));
      }
      for (Future<float[]> f : results) {
        assertArrayEquals(WANT, f.get(), 1e-6f);
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
