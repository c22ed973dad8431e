package io.tinyrec.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class DriftAnalysisTest {
  @Test
  void shouldReadLevelBeforeLowestAfterAndFirstPointBackWithinTolerance() {
    RunCurve run = Synthetic.driftCurve("r", 0.6, 0.76);
    DriftAnalysis d = DriftAnalysis.at(run, 50_000, 0.01, false).orElseThrow();
    assertEquals(50_000, d.beforeAt());
    assertEquals(0.75, d.beforeAuc(), 1e-12);
    assertEquals(60_000, d.minAt());
    assertEquals(0.6, d.minAuc(), 1e-12);
    // low + 0.16 * (e - 60k) / 40k >= 0.74 first at e = 95,000
    assertEquals(95_000, d.recoveredAt());
    assertTrue(d.recovered());
    assertFalse(d.heldUp());
    assertEquals(100_000, d.endAt());
    assertTrue(Fmt.drift(d).contains("back within 0.01 (>= 0.7400) at 95,000, 45,000 events after the drift"),
        Fmt.drift(d));
  }

  @Test
  void shouldSayNotRecoveredWhenTheWindowAucStaysLow() {
    DriftAnalysis d = DriftAnalysis.at(Synthetic.driftCurve("r", 0.6, 0.70), 50_000, 0.01, false).orElseThrow();
    assertFalse(d.recovered());
    assertEquals(-1, d.recoveredAt());
    assertEquals(0.70, d.endAuc(), 1e-12);
    assertTrue(Fmt.drift(d).contains("NOT back within 0.01"), Fmt.drift(d));
  }

  @Test
  void shouldFindAnUnannouncedDriftAtThePeakBeforeTheFall() {
    DriftAnalysis d = DriftAnalysis.detect(Synthetic.driftCurve("r", 0.6, 0.76), 0.01).orElseThrow();
    assertTrue(d.detected());
    assertEquals(50_000, d.driftAt());
    assertEquals(95_000, d.recoveredAt());
  }

  @Test
  void shouldFindNoDriftInASteadyRun() {
    List<CurvePoint> pts = new java.util.ArrayList<>();
    for (long e = 1000; e <= 100_000; e += 1000) {
      double w = 0.7 + 0.005 * Math.sin(e / 3000.0); // noise well under the 0.02 it takes
      pts.add(new CurvePoint(e, Double.NaN, w, 0.9, 0.5, w, 0.9, 0.5, Double.NaN));
    }
    assertTrue(DriftAnalysis.detect(new RunCurve("steady", "t", 10_000, pts, List.of(), Double.NaN), 0.01).isEmpty());
  }

  @Test
  void shouldGiveNothingWhenTheRunEndsBeforeTheDrift() {
    assertTrue(DriftAnalysis.at(Synthetic.driftCurve("r", 0.6, 0.76), 200_000, 0.01, false).isEmpty());
  }
}
