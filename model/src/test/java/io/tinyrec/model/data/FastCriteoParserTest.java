package io.tinyrec.model.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.tinyrec.model.synthetic.SyntheticCriteo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The fast byte parser must agree with CriteoParser on every line: same row, or the same error. */
class FastCriteoParserTest {
  static final Path SAMPLE = Path.of("..", "data", "sample", "criteo_kaggle_train_sample_early_1999.tsv");

  /** One instance for every line, as a reader uses it: nothing from an earlier line may leak into a later one. */
  private final CriteoFields reused = new CriteoFields();

  private void assertAgrees(String line) {
    byte[] b = ("#" + line + "\n").getBytes(StandardCharsets.UTF_8);
    CriteoRow expected = null;
    String expectedError = null;
    try {
      expected = CriteoParser.parse(line, "f.tsv", 9);
    } catch (MalformedRowException e) {
      expectedError = e.getMessage();
    }
    try {
      CriteoRow got = FastCriteoParser.parse(b, 1, b.length - 2, "f.tsv", 9);
      if (expectedError != null) {
        fail("fast parser accepted a line CriteoParser rejects (" + expectedError + "): " + line);
      }
      assertEquals(expected, got, line);
      FastCriteoParser.parse(b, 1, b.length - 2, "f.tsv", 9, reused);
      assertEquals(expected, reused.toRow(), "into a reused CriteoFields: " + line);
    } catch (MalformedRowException e) {
      assertEquals(expectedError, e.getMessage(), line);
    }
  }

  @Test
  void shouldAgreeOnEveryRealCriteoRow() throws Exception {
    List<String> lines = Files.readAllLines(SAMPLE, StandardCharsets.UTF_8);
    assertEquals(1999, lines.size());
    for (String l : lines) {
      assertAgrees(l);
      byte[] b = l.getBytes(StandardCharsets.ISO_8859_1);
      assertTrue(FastCriteoParser.tryParse(b, 0, b.length, reused), "a valid row should take the fast path: " + l);
    }
  }

  @Test
  void shouldNameFileLineFieldAndValueInItsErrors() {
    String good = new SyntheticCriteo(2, -1).sample(0).row().toTsv();
    String bad = good.replaceFirst("\t([0-9a-f]{8})", "\tzz$1");
    byte[] b = bad.getBytes(StandardCharsets.UTF_8);
    MalformedRowException e = org.junit.jupiter.api.Assertions.assertThrows(MalformedRowException.class,
        () -> FastCriteoParser.parse(b, 0, b.length, "day_3.gz", 42, reused));
    assertEquals("day_3.gz", e.source());
    assertEquals(42, e.line());
    assertEquals("C1", e.field());
    assertTrue(e.getMessage().startsWith("day_3.gz:42: field C1: value 'zz"), e.getMessage());
    byte[] utf8 = good.replaceFirst("\t[0-9]*\t", "\t4\u00e9\t").getBytes(StandardCharsets.UTF_8);
    MalformedRowException u = org.junit.jupiter.api.Assertions.assertThrows(MalformedRowException.class,
        () -> FastCriteoParser.parse(utf8, 0, utf8.length, "f.tsv", 1, reused));
    assertTrue(u.getMessage().contains("'4\u00e9'"), "the value as the file has it (UTF-8): " + u.getMessage());
  }

  @Test
  void shouldConvertEightHexDigitsInAWordExactlyAsCharacterDigitDoes() {
    // Every byte value in every position, around a valid word.
    byte[] base = "05dB91fE".getBytes(StandardCharsets.US_ASCII);
    for (int pos = 0; pos < 8; pos++) {
      for (int c = 0; c < 256; c++) {
        byte[] w = base.clone();
        w[pos] = (byte) c;
        assertHex8(w);
      }
    }
    SplittableRandom rnd = new SplittableRandom(3);
    String alphabet = "0123456789abcdefABCDEF/:@G`g \t";
    for (int n = 0; n < 200_000; n++) {
      byte[] w = new byte[8];
      for (int k = 0; k < 8; k++) {
        w[k] = (byte) (rnd.nextInt(8) == 0 ? rnd.nextInt(256) : alphabet.charAt(rnd.nextInt(alphabet.length())));
      }
      assertHex8(w);
    }
    assertEquals(0xffffffffL, FastCriteoParser.hex8(word("ffffffff".getBytes(StandardCharsets.US_ASCII))));
    assertEquals(0L, FastCriteoParser.hex8(word("00000000".getBytes(StandardCharsets.US_ASCII))));
  }

  private static void assertHex8(byte[] w) {
    long expected = 0;
    for (byte x : w) {
      int d = (x & 0x80) != 0 ? -1 : Character.digit((char) x, 16);
      if (d < 0) {
        expected = -1;
        break;
      }
      expected = expected << 4 | d;
    }
    assertEquals(expected, FastCriteoParser.hex8(word(w)), () -> java.util.Arrays.toString(w));
  }

  private static long word(byte[] w) {
    return java.nio.ByteBuffer.wrap(w).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
  }

  @Test
  void shouldDeclineWithoutTouchingTheNextLineWhenAHexFieldEndsTheBuffer() {
    String good = new SyntheticCriteo(4, -1).sample(1).row().toTsv();
    byte[] b = good.substring(0, good.length() - 3).getBytes(StandardCharsets.US_ASCII);
    assertFalse(FastCriteoParser.tryParse(b, 0, b.length, reused), "a cut-off last field is not parsed");
  }

  @Test
  void shouldAgreeOnSyntheticRows() {
    SyntheticCriteo s = new SyntheticCriteo(11, -1);
    for (int i = 0; i < 3000; i++) {
      assertAgrees(s.sample(i).row().toTsv());
    }
  }

  @Test
  void shouldAgreeOnEdgeCasesAndMalformedLines() {
    String good = "1\t5\t-1\t\t0\t2147483647\t-2147483648\t+3\t007\t\t1\t2\t3\t4"
        + "\t05db9164\t\t1100DA42\tffffffff\t00000000" + "\t0a0b0c0d".repeat(20) + "\t";
    List<String> cases = new ArrayList<>(List.of(good, good + "\r", good.replace("\t05db9164", "\t05db916"),
        good.replace("\t05db9164", "\t05db91640"), good.replace("\t05db9164", "\t05dbz164"),
        good.replace("2147483647", "2147483648"), good.replace("-2147483648", "-2147483649"),
        good.replace("\t+3\t", "\t+\t"), good.replace("\t+3\t", "\t-\t"), good.replace("\t+3\t", "\t3x\t"),
        good.replace("\t007\t", "\t00000000000000000007\t"), "2" + good.substring(1), "01" + good.substring(1),
        good + "\textra", good.substring(0, good.length() - 1), good.substring(2), "", "1", "1\t", "\t",
        good.replace("05db9164", "05db\r164"), good.replace("\t5\t", "\t5\r\t"), good.replace("05db9164", "05db9\u00e964")));
    SplittableRandom rnd = new SplittableRandom(5);
    String alphabet = "\t\t\t0123456789abcdefABCDEF-+ \r x";
    for (int n = 0; n < 20000; n++) {
      char[] c = good.toCharArray();
      int edits = rnd.nextInt(1, 4);
      for (int e = 0; e < edits; e++) {
        c[rnd.nextInt(c.length)] = alphabet.charAt(rnd.nextInt(alphabet.length()));
      }
      cases.add(new String(c));
    }
    for (String l : cases) {
      assertAgrees(l);
    }
  }

  @Test
  void withTheLabelOptionalShouldAgreeWithCriteoParserOnLinesWithAndWithoutTheLabel() throws Exception {
    List<String> lines = Files.readAllLines(SAMPLE, StandardCharsets.UTF_8).subList(0, 300);
    List<String> cases = new ArrayList<>();
    for (String l : lines) {
      cases.add(l);
      cases.add(l.substring(l.indexOf('\t') + 1)); // the same row without its label column
    }
    // I1 of 0 or 1 looks like a label: only the field count tells the two forms apart.
    String unlabelled = lines.get(0).substring(lines.get(0).indexOf('\t') + 1);
    cases.add("1" + unlabelled.substring(unlabelled.indexOf('\t')));
    cases.add("0" + unlabelled.substring(unlabelled.indexOf('\t')));
    cases.add(unlabelled.substring(unlabelled.indexOf('\t') + 1)); // 38 fields: too few either way
    cases.add("7\t" + unlabelled); // 40 fields with a bad label
    for (String line : cases) {
      byte[] b = line.getBytes(StandardCharsets.UTF_8);
      CriteoRow expected = null;
      String expectedError = null;
      try {
        expected = CriteoParser.parse(line, "request", 3, true);
      } catch (MalformedRowException e) {
        expectedError = e.getMessage();
      }
      try {
        FastCriteoParser.parse(b, 0, b.length, "request", 3, reused, true);
        if (expectedError != null) {
          fail("fast parser accepted a line CriteoParser rejects (" + expectedError + "): " + line);
        }
        assertEquals(expected, reused.toRow(), line);
      } catch (MalformedRowException e) {
        assertEquals(expectedError, e.getMessage(), line);
      }
    }
    String first = lines.get(0).substring(lines.get(0).indexOf('\t') + 1);
    byte[] b = first.getBytes(StandardCharsets.UTF_8);
    assertTrue(FastCriteoParser.tryParse(b, 0, b.length, reused, true), "an unlabelled row takes the fast path");
    assertEquals(CriteoRow.NO_LABEL, reused.label);
    assertFalse(FastCriteoParser.tryParse(b, 0, b.length, reused), "without labelOptional the label is required");
  }
}
