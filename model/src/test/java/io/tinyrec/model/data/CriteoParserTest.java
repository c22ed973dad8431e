package io.tinyrec.model.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CriteoParserTest {
  static final String ROW = "0\t1\t1\t5\t0\t1382\t4\t15\t2\t181\t1\t2\t\t2\t68fd1e64\t80e26c9b\tfb936136\t7b4723c4"
      + "\t25c83c98\t7e0ccccf\tde7995b8\t1f89b562\ta73ee510\ta8cd5504\tb2cb9c98\t37c9c164\t2824a5f6\t1adce6ef\t8ba8b39a"
      + "\t891b62e7\te5ba7672\tf54016b9\t21ddcdc9\tb1252a9d\t07b5194c\t\t3a171ecb\tc5c50484\te8b83407\t9727dd16";

  @Test
  void shouldParseTheFirstKaggleRowWithItsMissingFields() {
    CriteoRow r = CriteoParser.parse(ROW, "train.txt", 1);
    assertEquals(0, r.label());
    assertEquals(1382, r.dense()[4]);
    assertTrue(r.isDenseMissing(11));
    assertFalse(r.isDenseMissing(12));
    assertEquals(0x68fd1e64, r.cats()[0]);
    assertTrue(r.isCatMissing(21));
    assertEquals(CriteoRow.MISSING_CATEGORY, r.categoryValue(21));
    assertEquals(0x9727dd16L, r.categoryValue(25));
    assertEquals((float) Math.log1p(1382), r.denseFeature(4));
    assertEquals(0f, r.denseFeature(11));
    assertEquals(ROW, r.toTsv());
  }

  @Test
  void shouldClampNegativeCountsToZeroBeforeTheLog() {
    CriteoRow r = CriteoParser.parse(ROW.replaceFirst("\t1\t1\t", "\t1\t-3\t"), "f", 1);
    assertEquals(-3, r.dense()[1]);
    assertEquals(0f, r.denseFeature(1));
  }

  @Test
  void shouldIgnoreATrailingCarriageReturn() {
    assertEquals(CriteoParser.parse(ROW, "f", 1), CriteoParser.parse(ROW + "\r", "f", 1));
  }

  @Test
  void shouldAcceptAMissingLabelOnlyWhenAsked() {
    String noLabel = ROW.substring(2);
    assertThrows(MalformedRowException.class, () -> CriteoParser.parse(noLabel, "f", 1));
    CriteoRow r = CriteoParser.parse(noLabel, "f", 1, true);
    assertFalse(r.hasLabel());
    assertEquals(1382, r.dense()[4]);
  }

  @Test
  void shouldNameLineFieldAndValueOfABadInteger() {
    MalformedRowException e = assertThrows(MalformedRowException.class,
        () -> CriteoParser.parse(ROW.replace("\t1382\t", "\t13x2\t"), "day_3.gz", 42));
    assertEquals("I5", e.field());
    assertEquals(42, e.line());
    assertTrue(e.getMessage().contains("day_3.gz:42"), e.getMessage());
    assertTrue(e.getMessage().contains("'13x2'"), e.getMessage());
  }

  @Test
  void shouldRejectBadLabelsHexValuesFieldCountsAndOverflow() {
    assertEquals("label", assertThrows(MalformedRowException.class,
        () -> CriteoParser.parse("2" + ROW.substring(1), "f", 1)).field());
    assertEquals("C1", assertThrows(MalformedRowException.class,
        () -> CriteoParser.parse(ROW.replace("68fd1e64", "68fd1e6g"), "f", 1)).field());
    assertEquals("C2", assertThrows(MalformedRowException.class,
        () -> CriteoParser.parse(ROW.replace("80e26c9b", "80e26c9"), "f", 1)).field());
    assertEquals("I5", assertThrows(MalformedRowException.class,
        () -> CriteoParser.parse(ROW.replace("\t1382\t", "\t99999999999\t"), "f", 1)).field());
    MalformedRowException e = assertThrows(MalformedRowException.class,
        () -> CriteoParser.parse(ROW + "\textra", "f", 9));
    assertTrue(e.getMessage().contains("found 41"), e.getMessage());
  }

  @Test
  void readerShouldStreamPlainAndGzipFilesInOrderAndCountSkippedLines(@TempDir Path dir) throws IOException {
    Path plain = dir.resolve("day_0");
    Files.writeString(plain, ROW + "\nnot a row\n" + ROW + "\n");
    Path gz = dir.resolve("day_1.gz");
    try (GZIPOutputStream out = new GZIPOutputStream(Files.newOutputStream(gz))) {
      out.write((ROW.replaceFirst("0", "1") + "\n").getBytes());
    }
    List<MalformedRowException> rejects = new ArrayList<>();
    try (CriteoReader reader = new CriteoReader(List.of(plain, gz), CriteoReader.OnMalformed.SKIP, rejects::add)) {
      List<CriteoRow> rows = new ArrayList<>();
      for (CriteoRow r; (r = reader.next()) != null; ) {
        rows.add(r);
      }
      assertEquals(3, rows.size());
      assertEquals(1, rows.get(2).label());
      assertEquals(1, reader.skippedLines());
      assertEquals(2, rejects.get(0).line());
      assertTrue(rejects.get(0).source().endsWith("day_0"));
    }
    try (CriteoReader strict = new CriteoReader(List.of(plain), CriteoReader.OnMalformed.FAIL, null)) {
      strict.next();
      MalformedRowException e = assertThrows(MalformedRowException.class, strict::next);
      assertEquals(2, e.line());
    }
  }

  @Test
  void aClickEventsFieldsShouldGiveTheSameRowAsItsTsvLineAndBadOnesShouldBeNamed() {
    CriteoRow r = CriteoParser.parse(ROW, "f", 1);
    java.util.List<Integer> dense = new java.util.ArrayList<>();
    for (int i = 0; i < CriteoRow.NUM_DENSE; i++) {
      dense.add(r.isDenseMissing(i) ? null : r.dense()[i]);
    }
    java.util.List<Long> cats = new java.util.ArrayList<>();
    for (int t = 0; t < CriteoRow.NUM_CATS; t++) {
      cats.add(r.isCatMissing(t) ? null : Integer.toUnsignedLong(r.cats()[t]));
    }
    CriteoRow fromEvent = CriteoRow.of(r.label(), dense, cats);
    assertEquals(r, fromEvent);
    org.junit.jupiter.api.Assertions.assertArrayEquals(r.denseFeatures(), fromEvent.denseFeatures());
    org.junit.jupiter.api.Assertions.assertArrayEquals(r.categoryValues(), fromEvent.categoryValues());
    assertEquals(CriteoRow.NO_LABEL, CriteoRow.of(null, dense, cats).label());

    assertEquals("dense has 12 values, expected 13", assertThrows(IllegalArgumentException.class,
        () -> CriteoRow.of(0, dense.subList(0, 12), cats)).getMessage());
    assertEquals("cats has no values, expected 26", assertThrows(IllegalArgumentException.class,
        () -> CriteoRow.of(0, dense, null)).getMessage());
    assertEquals("label is 7, expected 0, 1 or null", assertThrows(IllegalArgumentException.class,
        () -> CriteoRow.of(7, dense, cats)).getMessage());
    java.util.List<Long> big = new java.util.ArrayList<>(cats);
    big.set(3, 1L << 32);
    assertEquals("cats[3] (C4) is 4294967296, outside 0..4294967295", assertThrows(IllegalArgumentException.class,
        () -> CriteoRow.of(0, dense, big)).getMessage());
  }

  @Test
  void aBatchShouldHoldTheSameInputsFromParsedFieldsAsFromTheRow() {
    io.tinyrec.model.Batch fromRows = new io.tinyrec.model.Batch(8);
    io.tinyrec.model.Batch fromFields = new io.tinyrec.model.Batch(8);
    CriteoFields f = new CriteoFields();
    String[] lines = {ROW, ROW.substring(2), ROW.replaceFirst("\t1\t1\t", "\t1\t-3\t")};
    for (String l : lines) {
      CriteoRow r = CriteoParser.parse(l, "f", 1, true);
      byte[] b = l.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      FastCriteoParser.parse(b, 0, b.length, "f", 1, f, true);
      fromRows.add(r);
      fromFields.add(f);
    }
    io.tinyrec.model.Dlrm model = new io.tinyrec.model.Dlrm(io.tinyrec.model.ModelConfig.preset("small"));
    float[] a = new float[8];
    float[] b = new float[8];
    model.score(fromRows, a);
    model.score(fromFields, b);
    org.junit.jupiter.api.Assertions.assertArrayEquals(a, b);
    for (int i = 0; i < lines.length; i++) {
      assertEquals(fromRows.label(i), fromFields.label(i));
    }
  }
}
