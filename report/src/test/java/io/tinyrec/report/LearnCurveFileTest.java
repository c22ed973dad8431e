package io.tinyrec.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyrec.model.metrics.ProgressiveMetrics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LearnCurveFileTest {
  @Test
  void shouldReadBackWhatTheWriterWroteWithTheSameMetrics(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("sub/run-a.jsonl");
    ProgressiveMetrics m = new ProgressiveMetrics(500);
    SplittableRandom rnd = new SplittableRandom(1);
    try (LearnCurveWriter w = new LearnCurveWriter(f, 1000)) {
      long rows = 0;
      for (int batch = 0; batch < 40; batch++) {
        for (int i = 0; i < 128; i++) {
          boolean y = rnd.nextDouble() < 0.3;
          m.add(Synthetic.score(rnd, y, 1.0), y);
        }
        rows += 128;
        w.afterBatch(rows, m);
      }
      w.finish(rows, m);
    }
    List<String> lines = Files.readAllLines(f);
    // 1,000-row steps land on the first batch end past them: 1024, 2048, 3072, 4096, then 5120 (past 5000,
    // and the end, written once).
    assertEquals(5, lines.size(), String.join("\n", lines));
    RunCurve c = LearnCurveFile.read(f);
    assertEquals("run-a", c.label());
    assertEquals(500, c.metricsWindow());
    assertEquals(List.of(1024L, 2048L, 3072L, 4096L, 5120L), c.points().stream().map(CurvePoint::events).toList());
    assertEquals(m.overall().auc(), c.last().auc(), 1e-5);
    assertEquals(m.windowed().auc(), c.last().windowAuc(), 1e-5);
    assertEquals(m.windowed().ne(), c.last().windowNe(), 1e-5);
    assertEquals(m.overall().logloss(), c.last().logloss(), 1e-5);
  }

  @Test
  void shouldAcceptALearnJsonLineAsOnePoint(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("final.json");
    Files.writeString(f, "{\"rows\":300000,\"auc\":0.693979,\"auc_error_bound\":0.0003,\"logloss\":0.539,\"ne\":0.953,"
        + "\"calibration\":1.0,\"window_auc\":0.7288,\"window_ne\":0.886,\"rows_per_s\":20518.8,"
        + "\"wall_rows_per_s\":17019.4,\"seconds\":14.6,\"wall_seconds\":17.627,\"embedding\":\"robe\"}\n");
    RunCurve c = LearnCurveFile.read(f);
    assertEquals(1, c.points().size());
    assertEquals(0.7288, c.last().windowAuc(), 1e-12);
    assertEquals(300000 / 17.627, c.eventsPerSecond(), 1e-6);
  }

  @Test
  void shouldNameTheFileAndLineOfAMalformedLine(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("bad.jsonl");
    Files.writeString(f, "{\"rows\":1000,\"auc\":0.6}\n{\"rows\":2000,\"auc\":0.6\n");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LearnCurveFile.read(f));
    assertTrue(e.getMessage().startsWith(f + " line 2: not JSON"), e.getMessage());

    Files.writeString(f, "{\"rows\":1000}\n\n{\"auc\":0.6}\n");
    e = assertThrows(IllegalArgumentException.class, () -> LearnCurveFile.read(f));
    assertTrue(e.getMessage().startsWith(f + " line 3: no \"rows\""), e.getMessage());

    Files.writeString(f, "{\"rows\":2000}\n{\"rows\":1000}\n");
    e = assertThrows(IllegalArgumentException.class, () -> LearnCurveFile.read(f));
    assertTrue(e.getMessage().contains("line 2: rows 1000 after 2000"), e.getMessage());

    Files.writeString(f, "{\"rows\":1000,\"auc\":\"high\"}\n");
    e = assertThrows(IllegalArgumentException.class, () -> LearnCurveFile.read(f));
    assertTrue(e.getMessage().contains("line 1: field \"auc\" is \"high\""), e.getMessage());

    Path missing = dir.resolve("nope.jsonl");
    e = assertThrows(IllegalArgumentException.class, () -> LearnCurveFile.read(missing));
    assertEquals(missing + ": no such file", e.getMessage());
  }

  @Test
  void runShouldOverlayCurveFilesLabelledByFileName(@TempDir Path dir) throws Exception {
    Path a = dir.resolve("adagrad.jsonl");
    Path b = dir.resolve("sgd.jsonl");
    Files.writeString(a, "{\"rows\":1000,\"wall_seconds\":1.0,\"auc\":0.6,\"window_auc\":0.6,\"metrics_window\":500}\n"
        + "{\"rows\":2000,\"wall_seconds\":2.0,\"auc\":0.65,\"window_auc\":0.7,\"metrics_window\":500}\n");
    Files.writeString(b, "{\"rows\":1000,\"wall_seconds\":0.5,\"auc\":0.55,\"window_auc\":0.55}\n"
        + "{\"rows\":2000,\"wall_seconds\":1.0,\"auc\":0.6,\"window_auc\":0.62}\n");
    ReportResult r = Report.run(ReportConfig.of(dir.resolve("out"), null, List.of(a, b)), w -> { });
    assertEquals(List.of("adagrad", "sgd"), r.data().runs().stream().map(RunCurve::label).toList());
    assertTrue(r.summary().contains("adagrad: 2,000 events, AUC 0.6500 (window 0.7000)"), r.summary());
    assertTrue(r.summary().contains("sgd: 2,000 events, AUC 0.6000 (window 0.6200)"), r.summary());
    assertTrue(Files.exists(dir.resolve("out/report.html")));
  }
}
