package io.tinyrec.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyrec.model.data.CriteoRow;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class JsonEventsTest {
  static final CriteoRow ROW = TestSnapshots.rows(5, 0, 1).get(0);

  /** The row as a ClickEvent in JSON, the categoricals as numbers or as hex strings. */
  static String event(CriteoRow r, boolean hex) {
    StringBuilder sb = new StringBuilder("{\"eventId\": \"x:1\", \"label\": null, \"dense\": [");
    for (int i = 0; i < CriteoRow.NUM_DENSE; i++) {
      sb.append(i == 0 ? "" : ", ").append(r.isDenseMissing(i) ? "null" : Integer.toString(r.dense()[i]));
    }
    sb.append("], \"cats\": [");
    for (int t = 0; t < CriteoRow.NUM_CATS; t++) {
      sb.append(t == 0 ? "" : ", ");
      if (r.isCatMissing(t)) {
        sb.append("null");
      } else if (hex) {
        sb.append('"').append(String.format("%08x", r.cats()[t])).append('"');
      } else {
        sb.append(Integer.toUnsignedLong(r.cats()[t]));
      }
    }
    return sb.append("], \"sourceDay\": 0, \"key\": {\"ignored\": [1, 2]}}").toString();
  }

  static List<CriteoRow> parse(String json) throws BadRequestException {
    byte[] b = json.getBytes(StandardCharsets.UTF_8);
    return JsonEvents.parse(b, 0, b.length);
  }

  static String error(String json) {
    return assertThrows(BadRequestException.class, () -> parse(json)).getMessage();
  }

  @Test
  void shouldReadOneEventAnArrayAndAnEventsObjectIntoTheRowsOfTheirTsvLines() throws Exception {
    CriteoRow unlabelled = new CriteoRow(CriteoRow.NO_LABEL, ROW.dense(), ROW.denseMissing(), ROW.cats(), ROW.catMissing());
    assertEquals(List.of(unlabelled), parse(event(ROW, false)));
    assertEquals(List.of(unlabelled, unlabelled), parse("[" + event(ROW, false) + ", " + event(ROW, true) + "]"));
    assertEquals(List.of(unlabelled), parse("{\"events\": [" + event(ROW, true) + "]}"));
    assertEquals(1, parse(event(ROW, false).replace("\"label\": null", "\"label\": 1")).get(0).label());
  }

  @Test
  void shouldRefuseMalformedJsonWithItsPlace() {
    String e = error("{\"dense\": [1, 2,, 3]}");
    assertTrue(e.startsWith("invalid JSON at line 1, column 1") && e.contains("Unexpected character (','"), e);
    assertTrue(error("").contains("got nothing"), error(""));
    assertTrue(error(event(ROW, false) + " 7").contains("after the end of the JSON value"));
    assertTrue(error("[1]").contains("event 0 must be a JSON object, got 1"));
    assertTrue(error("[]").contains("the batch is empty"));
    assertTrue(error("{\"events\": 3}").contains("\"events\" must be an array of events, got 3"));
    String dup = error(event(ROW, false).replace("\"label\": null", "\"dense\": []"));
    assertTrue(dup.contains("Duplicate field 'dense'"), dup);
  }

  @Test
  void shouldNameTheEventFieldAndValueOfWrongCountsAndValues() {
    String ok = event(ROW, false);
    assertEquals("event 0: dense has 12 values, expected 13",
        error(ok.replaceFirst("\"dense\": \\[[^,]*, ", "\"dense\": [")));
    assertEquals("event 1: cats has 27 values, expected 26",
        error("[" + ok + ", " + ok.replace("\"cats\": [", "\"cats\": [null, ") + "]"));
    assertEquals("event 0: field \"cats\" is missing (26 values or nulls, C1..C26)",
        error("{\"dense\": [1,1,1,1,1,1,1,1,1,1,1,1,1]}"));
    assertTrue(error(ok.replace("\"dense\": [", "\"dense\": [1.5, ")).contains("dense[0] (I1) must be an integer or null, got 1.5"));
    assertTrue(error(ok.replace("\"dense\": [", "\"dense\": [3000000000, ")).contains("dense[0] (I1) is 3000000000, outside the 32-bit integer range"));
    assertTrue(error(ok.replace("\"cats\": [", "\"cats\": [-1, ")).contains("cats[0] (C1) is -1, outside 0..4294967295"));
    assertTrue(error(ok.replace("\"cats\": [", "\"cats\": [\"12345g78\", ")).contains("cats[0] (C1) is \"12345g78\": a string value must be eight hex digits"));
    assertTrue(error(ok.replace("\"cats\": [", "\"cats\": [true, ")).contains("cats[0] (C1) must be an unsigned 32-bit integer, 8 hex digits or null, got true"));
    assertTrue(error(ok.replace("\"label\": null", "\"label\": 2")).contains("event 0: label must be 0, 1 or null, got 2"));
    assertTrue(error(ok.replace("\"label\": null", "\"dens\": 2")).contains("event 0: unknown field \"dens\""));
    assertTrue(error(ok.replace("\"dense\": [", "\"dense\": {\"a\": 1}, \"x\": [")).contains("\"dense\" must be an array"));
  }

  @Test
  void shouldRefuseNonFiniteNumbers() {
    for (String v : new String[] {"NaN", "Infinity", "-Infinity"}) {
      String e = error(event(ROW, false).replace("\"dense\": [", "\"dense\": [" + v + ", "));
      assertTrue(e.startsWith("invalid JSON at line 1") && e.contains(v.replace("-", "")), v + ": " + e);
    }
  }
}
