package io.tinyrec.model.synthetic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyrec.model.data.CriteoParser;
import io.tinyrec.model.metrics.ProgressiveMetrics;
import org.junit.jupiter.api.Test;

class SyntheticCriteoTest {
  @Test
  void rowsShouldDependOnlyOnSeedAndIndexAndRoundTripThroughTsv() {
    SyntheticCriteo a = new SyntheticCriteo(5, -1);
    SyntheticCriteo b = new SyntheticCriteo(5, -1);
    for (long i : new long[] {0, 1, 12345, 999_999}) {
      assertEquals(a.sample(i).row(), b.sample(i).row());
      assertEquals(a.sample(i).row(), CriteoParser.parse(a.sample(i).row().toTsv(), "gen", i + 1));
    }
    assertNotEquals(a.sample(7).row(), new SyntheticCriteo(6, -1).sample(7).row());
  }

  @Test
  void shouldHaveCriteoLikeClickRateMissingValuesAndALearnableTeacher() {
    SyntheticCriteo s = new SyntheticCriteo(1, -1);
    ProgressiveMetrics teacher = new ProgressiveMetrics(1000);
    int missingC22 = 0;
    int n = 20_000;
    java.util.Set<Integer> c1 = new java.util.HashSet<>();
    for (int i = 0; i < n; i++) {
      SyntheticCriteo.Sample x = s.sample(i);
      teacher.add((float) x.probability(), x.row().label() == 1);
      missingC22 += x.row().isCatMissing(21) ? 1 : 0;
      c1.add(x.row().cats()[0]);
    }
    double ctr = teacher.overall().ctr();
    assertTrue(ctr > 0.22 && ctr < 0.28, "click rate " + ctr);
    assertTrue(Math.abs(missingC22 / (double) n - 0.818) < 0.02, "C22 missing rate");
    assertTrue(teacher.overall().auc() > 0.8, "teacher auc " + teacher.overall().auc());
    assertTrue(c1.size() > 200 && c1.size() <= 1460, "C1 cardinality " + c1.size());
  }

  @Test
  void driftShouldChangeTheTeacherButNotTheFeatures() {
    SyntheticCriteo plain = new SyntheticCriteo(9, -1);
    SyntheticCriteo drift = new SyntheticCriteo(9, 100);
    assertEquals(plain.sample(50).probability(), drift.sample(50).probability());
    int differ = 0;
    for (int i = 100; i < 200; i++) {
      assertEquals(plain.sample(i).row().cats()[3], drift.sample(i).row().cats()[3]);
      differ += Math.abs(plain.sample(i).probability() - drift.sample(i).probability()) > 0.05 ? 1 : 0;
    }
    assertTrue(differ > 50, "rows whose click probability moved: " + differ);
  }
}
