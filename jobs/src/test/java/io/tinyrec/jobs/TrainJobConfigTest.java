package io.tinyrec.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyrec.model.ModelConfig;
import org.junit.jupiter.api.Test;

class TrainJobConfigTest {
  static TrainJobConfig.Builder builder() {
    return TrainJobConfig.builder("localhost:9", ModelConfig.preset("small"));
  }

  @Test
  void theDefaultSyncPeriodKeepsAMergerRoundAtAbout8192Events() {
    assertEquals(65_536, TrainJobConfig.defaultSyncEvery(1));
    assertEquals(4096, TrainJobConfig.defaultSyncEvery(2));
    assertEquals(2048, TrainJobConfig.defaultSyncEvery(4));
    assertEquals(1024, TrainJobConfig.defaultSyncEvery(8));
    assertEquals(256, TrainJobConfig.defaultSyncEvery(32));
    assertEquals(256, TrainJobConfig.defaultSyncEvery(128));
    TrainJobConfig three = builder().learners(3).build();
    assertEquals(2730, three.syncEvery);
    assertEquals(2730, three.maxStaleness, "the staleness bound follows the period");
    assertEquals(500, builder().learners(3).syncEvery(500).build().syncEvery);
  }

  @Test
  void learnersAreBoundedByTheirMaxParallelism() {
    assertEquals(128, builder().learners(128).build().learners);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> builder().learners(129).build());
    assertTrue(e.getMessage().contains("at most 128"), e.getMessage());
  }
}
