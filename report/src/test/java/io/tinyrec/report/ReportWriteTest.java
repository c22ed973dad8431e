package io.tinyrec.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportWriteTest {
  static List<SnapshotPoint> snapshots() {
    List<SnapshotPoint> s = new ArrayList<>();
    for (int v = 1; v <= 5; v++) {
      s.add(new SnapshotPoint("ctr", v, 0, 1_700_000_000_000L + 2000L * v, 2.0 * v, 20_000L * v,
          3_000_000 + 1000L * v, 0.7, 0.72, 10_000));
    }
    return s;
  }

  @Test
  void shouldWriteEveryPlotAsAValidPngAndAPageThatShowsThem(@TempDir Path dir) throws Exception {
    ReportData data = new ReportData(List.of(Synthetic.driftCurve("job", 0.6, 0.76),
        Synthetic.driftCurve("learn", 0.62, 0.70)), snapshots(), List.of("a note about <inputs>"));
    ReportConfig cfg = ReportConfig.of(dir.resolve("out"), null, List.of(Path.of("unused"))).withDriftAt(50_000);
    ReportResult r = Report.write(data, cfg);

    List<String> expected = List.of(Report.AUC_PNG, Report.NE_PNG, Report.VERSIONS_PNG, Report.SIZES_PNG,
        Report.THROUGHPUT_PNG);
    assertEquals(expected, r.pngs().stream().map(p -> p.getFileName().toString()).toList());
    String html = Files.readString(r.html());
    for (Path png : r.pngs()) {
      assertTrue(Files.size(png) > 5_000, png + " is " + Files.size(png) + " bytes");
      BufferedImage img = ImageIO.read(png.toFile());
      assertNotNull(img, png + " is not an image");
      assertEquals(1000, img.getWidth());
      assertEquals(500, img.getHeight());
      assertTrue(html.contains("href=\"" + png.getFileName() + "\""), png + " not linked");
    }
    // Every plot is also embedded, byte for byte, so the page stands alone.
    Matcher m = Pattern.compile("data:image/png;base64,([A-Za-z0-9+/=]+)").matcher(html);
    int embedded = 0;
    while (m.find()) {
      byte[] png = Base64.getDecoder().decode(m.group(1));
      assertTrue(java.util.Arrays.equals(png, Files.readAllBytes(r.pngs().get(embedded))), "embedded " + embedded);
      embedded++;
    }
    assertEquals(5, embedded);
    assertTrue(html.contains("a note about &lt;inputs&gt;"), "notes are escaped");
    assertTrue(html.contains("<span class=\"ok\">recovered</span>"), html);
    assertTrue(html.contains("<span class=\"bad\">not recovered</span>"), html);
    assertTrue(r.summary().contains("job: 100,000 events"), r.summary());
    assertTrue(r.summary().contains("back within 0.01 (>= 0.7400) at 95,000"), r.summary());
    assertTrue(r.summary().contains("NOT back within 0.01"), r.summary());
    assertTrue(r.summary().contains("snapshots: 5 (versions 1..5)"), r.summary());
    assertEquals(2, r.drifts().size());
  }

  @Test
  void shouldLeaveOutSnapshotPlotsWithoutSnapshotsAndSayWhy(@TempDir Path dir) throws Exception {
    ReportData data = new ReportData(List.of(Synthetic.driftCurve("learn", 0.6, 0.76)), List.of(), List.of());
    ReportResult r = Report.write(data, ReportConfig.of(dir, null, List.of(Path.of("unused"))));
    assertEquals(List.of(Report.AUC_PNG, Report.NE_PNG, Report.THROUGHPUT_PNG),
        r.pngs().stream().map(p -> p.getFileName().toString()).toList());
    assertTrue(Files.readString(r.html()).contains("No model snapshots in these inputs"));
    assertTrue(r.summary().contains("drift found near 50,000"), r.summary()); // no --drift-at: detected
  }
}
