package io.tinyrec.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import io.tinyrec.model.data.CriteoParser;
import io.tinyrec.model.data.CriteoRow;
import io.tinyrec.model.data.MalformedRowException;
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

  private static void assertAgrees(String line) {
    byte[] b = ("#" + line + "\n").getBytes(StandardCharsets.UTF_8);
    CriteoRow expected = null;
    String expectedError = null;
    try {
      expected = CriteoParser.parse(line, "f.tsv", 9);
    } catch (MalformedRowException e) {
      expectedError = e.getMessage();
    }
    try {
      CriteoRow got = FastCriteoParser.parse(b, 1, b.length - 2, "f.tsv", 9, new AsciiLine());
      if (expectedError != null) {
        fail("fast parser accepted a line CriteoParser rejects (" + expectedError + "): " + line);
      }
      assertEquals(expected, got, line);
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
      assertNotNull(FastCriteoParser.tryParse(b, 0, b.length), "a valid row should take the fast path: " + l);
    }
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
}
