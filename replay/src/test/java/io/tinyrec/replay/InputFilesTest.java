package io.tinyrec.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InputFilesTest {

  private static List<String> lines(byte[] data) throws Exception {
    List<String> out = new ArrayList<>();
    long n = InputFiles.forEachLine(new ByteArrayInputStream(data),
        (buf, off, len, lineNo) -> out.add(lineNo + "=" + new String(buf, off, len, StandardCharsets.UTF_8)));
    assertEquals(out.size(), n);
    return out;
  }

  @Test
  void shouldSplitLinesLikeAReaderIncludingALastLineWithoutNewline() throws Exception {
    assertEquals(List.of("1=a", "2=", "3=b\r", "4=c"), lines("a\n\nb\r\nc".getBytes(StandardCharsets.UTF_8)));
    assertEquals(List.of("1=a"), lines("a\n".getBytes(StandardCharsets.UTF_8)));
    assertEquals(List.of(), lines(new byte[0]));
  }

  @Test
  void shouldHandleLinesLongerThanTheBuffer() throws Exception {
    String longLine = "x".repeat(3_000_000);
    assertEquals(List.of("1=" + longLine, "2=y"), lines((longLine + "\ny\n").getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void shouldFindTheFirstNewlineAtEveryAlignment() {
    SplittableRandom rnd = new SplittableRandom(3);
    for (int n = 0; n < 5000; n++) {
      byte[] b = new byte[rnd.nextInt(1, 40)];
      for (int i = 0; i < b.length; i++) {
        // Bytes near '\n' (0x0a) and 0x8a, 0x0b, 0x09 are where a word-at-a-time search could go wrong.
        b[i] = (byte) new int[] {0x09, 0x0b, 0x8a, 0x0a, 0x41, 0x00, 0xff}[rnd.nextInt(rnd.nextInt(1, 8))];
      }
      int from = rnd.nextInt(b.length);
      int expected = -1;
      for (int i = from; i < b.length; i++) {
        if (b[i] == '\n') {
          expected = i;
          break;
        }
      }
      assertEquals(expected, InputFiles.indexOfNewline(b, from, b.length));
    }
  }

  @Test
  void shouldCountLinesOfPlainAndGzipFiles(@TempDir Path dir) throws IOException {
    Path plain = dir.resolve("a.tsv");
    Files.writeString(plain, "1\n2\n3");
    assertEquals(3, InputFiles.countLines(plain));
    Path gz = dir.resolve("a.tsv.gz");
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(gz))) {
      out.write("1\n2\n3\n4\n".getBytes(StandardCharsets.UTF_8));
    }
    assertEquals(4, InputFiles.countLines(gz));
  }
}
