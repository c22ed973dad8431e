package io.tinyrec.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportCommandTest {
  @Test
  void learnCurveThenReportShouldWriteThePageAndPrintTheSummary(@TempDir Path dir) throws Exception {
    Path data = dir.resolve("drift.tsv");
    assertEquals(0, CliRun.of("generate", "--rows", "4000", "--seed", "2", "--drift-at", "2000", "--out",
        data.toString()).code());
    Path curve = dir.resolve("curves/small.jsonl");
    CliRun learn = CliRun.of("learn", "--input", data.toString(), "--preset", "small", "--batch", "64",
        "--metrics-window", "500", "--curve", curve.toString(), "--curve-every", "250", "--no-warmup", "--json");
    assertEquals(0, learn.code(), learn.err());
    List<String> lines = Files.readAllLines(curve);
    assertEquals(16, lines.size(), String.join("\n", lines)); // 250, 500, ... 4000 (batch ends every 64 rows)
    assertTrue(lines.get(lines.size() - 1).startsWith("{\"rows\":4000,"), lines.get(lines.size() - 1));
    assertTrue(lines.get(0).contains("\"metrics_window\":500"), lines.get(0));

    Path out = dir.resolve("report");
    CliRun report = CliRun.of("report", "--learn-json", curve.toString(), "--drift-at", "2000", "--out",
        out.toString());
    assertEquals(0, report.code(), report.err());
    assertTrue(report.out().contains("report: " + out.resolve("report.html")), report.out());
    assertTrue(report.out().contains("small: 4,000 events"), report.out());
    assertTrue(report.out().contains("drift at 2,000: window AUC"), report.out());
    for (String f : new String[] {"report.html", "auc.png", "ne.png", "throughput.png"}) {
      assertTrue(Files.size(out.resolve(f)) > 1000, f);
    }
  }

  @Test
  void badInputsShouldExitOneNamingTheFileAndLineAndMissingInputsTwo(@TempDir Path dir) throws Exception {
    Path bad = dir.resolve("bad.jsonl");
    Files.writeString(bad, "{\"rows\":10,\"auc\":0.5}\n{oops\n");
    CliRun r = CliRun.of("report", "--learn-json", bad.toString(), "--out", dir.resolve("o").toString());
    assertEquals(1, r.code(), r.err());
    assertTrue(r.err().contains(bad + " line 2: not JSON"), r.err());

    r = CliRun.of("report", "--out", dir.resolve("o").toString());
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("nothing to report"), r.err());
  }
}
