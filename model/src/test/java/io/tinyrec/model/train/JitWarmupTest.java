package io.tinyrec.model.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyrec.model.Batch;
import io.tinyrec.model.Dlrm;
import io.tinyrec.model.ModelConfig;
import io.tinyrec.model.synthetic.SyntheticCriteo;
import org.junit.jupiter.api.Test;

class JitWarmupTest {
  static final ModelConfig CONFIG = ModelConfig.preset("kaggle").withBottom(new int[] {64, 16})
      .withTop(new int[] {64, 1}).withRobeSize(1 << 16).withLearningRates(0.01f, 0.01f);

  /** Trains a fresh model on rows 0..rows of a synthetic stream; returns it and its scores. */
  static Dlrm train(ModelConfig c, int rows, float[] scoresOut) {
    Dlrm m = new Dlrm(c);
    SyntheticCriteo s = new SyntheticCriteo(11, -1);
    Batch b = new Batch(64);
    float[] scores = new float[64];
    for (int i = 0; i < rows; i += 64) {
      b.clear();
      for (int j = i; j < i + 64; j++) {
        b.add(s.sample(j).row());
      }
      m.trainStepInPlace(b, scores);
      System.arraycopy(scores, 0, scoresOut, i, 64);
    }
    return m;
  }

  @Test
  void aWarmUpShouldLeaveWhatTheRealModelLearnsBitIdentical() {
    float[] coldScores = new float[1280];
    Dlrm cold = train(CONFIG, 1280, coldScores);
    JitWarmup.Result w = JitWarmup.run(CONFIG, 64, 0.5, 40);
    assertTrue(w.batches() > 0, w.toString());
    float[] warmScores = new float[1280];
    Dlrm warm = train(CONFIG, 1280, warmScores);
    assertArrayEquals(coldScores, warmScores);
    assertArrayEquals(cold.embedding().weights(), warm.embedding().weights());
    assertArrayEquals(cold.embedding().optimizerState(), warm.embedding().optimizerState());
    for (int i = 0; i < cold.denseParams().size(); i++) {
      assertArrayEquals(cold.denseParams().get(i).value(), warm.denseParams().get(i).value());
      assertArrayEquals(cold.denseParams().get(i).state(), warm.denseParams().get(i).state());
    }
  }

  @Test
  void aWarmUpOnTheInputsOwnRowsShouldLeaveThemAndTheRealModelUntouched() {
    SyntheticCriteo s = new SyntheticCriteo(11, -1);
    java.util.List<io.tinyrec.model.data.CriteoRow> head = new java.util.ArrayList<>();
    for (int i = 0; i < 128; i++) {
      head.add(s.sample(i).row());
    }
    java.util.List<String> before = head.stream().map(io.tinyrec.model.data.CriteoRow::toTsv).toList();
    float[] coldScores = new float[1280];
    Dlrm cold = train(CONFIG, 1280, coldScores);
    JitWarmup.Result w = JitWarmup.run(CONFIG, 64, 30.0, 40, head);
    assertEquals(40, w.batches(), w.toString());
    assertEquals(before, head.stream().map(io.tinyrec.model.data.CriteoRow::toTsv).toList());
    float[] warmScores = new float[1280];
    Dlrm warm = train(CONFIG, 1280, warmScores);
    assertArrayEquals(coldScores, warmScores);
    assertArrayEquals(cold.embedding().weights(), warm.embedding().weights());
  }

  @Test
  void aWarmUpShouldStopAtItsBatchOrTimeCap() {
    JitWarmup.Result byCount = JitWarmup.run(CONFIG, 32, 30.0, 7);
    assertEquals(7, byCount.batches());
    assertTrue(byCount.rows() >= 7 * 4 && byCount.rows() <= 7 * 32, byCount.toString());
    long start = System.nanoTime();
    JitWarmup.Result byTime = JitWarmup.run(CONFIG, 32, 0.5, Long.MAX_VALUE);
    double took = (System.nanoTime() - start) / 1e9;
    // The cap covers building the throwaway model too; past it, at most one (small) step runs.
    // A loaded test machine gets generous slack.
    assertTrue(took < 5.0 && byTime.seconds() <= took, byTime + " took " + took + " s");
    assertEquals(byTime.rows() == 0, byTime.batches() == 0, byTime.toString());
  }
}
