package io.tinyrec.jobs.learner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyrec.jobs.TrainJob;
import io.tinyrec.jobs.TrainJobConfig;
import io.tinyrec.jobs.events.LearnerRoutes;
import io.tinyrec.jobs.events.TrainingEvent;
import io.tinyrec.jobs.events.TrainingEvents;
import io.tinyrec.model.Batch;
import io.tinyrec.model.Dlrm;
import io.tinyrec.model.ModelConfig;
import io.tinyrec.model.sync.LearnerUpdate;
import io.tinyrec.model.sync.ModelTensors;
import io.tinyrec.model.sync.SyncMerger;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.apache.flink.streaming.api.operators.co.CoBroadcastWithKeyedOperator;
import org.junit.jupiter.api.Test;

/** The Flink learner as an adapter over SyncLearner, in Flink's operator test harness. */
class LearnerOperatorTest {
  static final ModelConfig MODEL = ModelConfig.preset("small");
  static final int BATCH = 8;
  static final String ROUTE = LearnerRoutes.keyFor(0, 1, TrainJob.LEARNER_MAX_PARALLELISM);

  static TrainJobConfig config() {
    return TrainJobConfig.builder("localhost:9", MODEL).learners(1).batch(BATCH).maxWaitMs(0).syncEvery(3 * BATCH)
        .jitWarmup(false).build();
  }

  static KeyedBroadcastOperatorTestHarness<String, TrainingEvent, io.tinyrec.model.sync.SyncMessage, LearnerUpdate>
      harness() throws Exception {
    // Not opened yet (ProcessFunctionTestHarnesses opens its harness at once, before any restore).
    return new KeyedBroadcastOperatorTestHarness<>(
        new CoBroadcastWithKeyedOperator<>(new Learner(config()), List.of(Learner.GLOBAL_MODEL)), e -> e.route,
        Types.STRING, 1, 1, 0);
  }

  static List<TrainingEvent> events(int from, int n) {
    return TrainingEvents.generated(21, from, n, 1_000, ROUTE);
  }

  static List<LearnerUpdate> updates(KeyedBroadcastOperatorTestHarness<?, ?, ?, LearnerUpdate> h) {
    return h.extractOutputValues();
  }

  @Test
  void scoresEveryEventSendsAnUpdateEverySyncPeriodAndTrainsAsOneModel() throws Exception {
    SyncMerger merger = new SyncMerger(MODEL, 1, 0, 1, 50);
    try (var h = harness()) {
      h.open();
      h.processBroadcastElement(merger.full(false), 0);
      List<TrainingEvent> in = events(0, 6 * BATCH);
      for (TrainingEvent e : in) {
        h.processElement(e, e.eventTime);
      }
      List<LearnerUpdate> sent = updates(h);
      assertEquals(2, sent.size(), "one update per 3 batches");
      assertEquals(6 * BATCH, h.getSideOutput(Learner.SCORES).size(), "every event scored once");
      for (LearnerUpdate u : sent) {
        merger.merge(u);
      }
      // The merger's model is exactly one model trained on the same batches.
      Dlrm reference = new Dlrm(MODEL);
      Batch b = new Batch(BATCH);
      float[] scores = new float[BATCH];
      for (int i = 0; i < in.size(); i += BATCH) {
        b.clear();
        for (TrainingEvent e : in.subList(i, i + BATCH)) {
          b.add(e.dense, e.cats, e.label);
        }
        reference.trainStepInPlace(b, scores);
      }
      assertEquals(ModelTensors.of(reference).checksum(), merger.tensors().checksum());
      assertEquals(6L * BATCH, merger.eventsTrained());
    }
  }

  @Test
  void aCheckpointHoldsOnlyWhatTheMergerHasNotSeenAndARestoreSendsIt() throws Exception {
    SyncMerger merger = new SyncMerger(MODEL, 1, 0, 1, 50);
    OperatorSubtaskState state;
    try (var h = harness()) {
      h.open();
      h.processBroadcastElement(merger.full(false), 0);
      for (TrainingEvent e : events(0, 4 * BATCH)) {
        h.processElement(e, e.eventTime);
      }
      List<LearnerUpdate> sent = updates(h);
      assertEquals(1, sent.size());
      merger.merge(sent.get(0));
      state = h.snapshot(1, 0);
    }
    // Restored: it waits for the epoch's whole model, asking for it once; the events are buffered.
    try (var h = harness()) {
      h.initializeState(state);
      h.open();
      for (TrainingEvent e : events(4 * BATCH, BATCH)) {
        h.processElement(e, e.eventTime);
      }
      List<LearnerUpdate> out = updates(h);
      assertEquals(1, out.size());
      assertTrue(out.get(0).requestsFull);
      assertEquals(0, h.getSideOutput(Learner.SCORES) == null ? 0 : h.getSideOutput(Learner.SCORES).size(),
          "nothing is trained on a stale model");
      SyncMerger restored = new SyncMerger(merger.model(), merger.version(), merger.eventsTrained(), 0,
          merger.maxEventTime(), 1, 0, 1, 50);
      h.processBroadcastElement(restored.full(false), 0);
      out = updates(h);
      assertEquals(2, out.size(), "the request, then the restored unsent batch as an update");
      LearnerUpdate resent = out.get(1);
      assertEquals(BATCH, resent.eventsTrained, "the batch trained after the last update");
      assertEquals(BATCH, resent.scores.length);
      assertEquals(BATCH, h.getSideOutput(Learner.SCORES).size(), "the buffered batch is trained once the model is here");
    }
  }
}
