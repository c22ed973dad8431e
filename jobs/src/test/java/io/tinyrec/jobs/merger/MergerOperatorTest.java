package io.tinyrec.jobs.merger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyrec.jobs.TrainJobConfig;
import io.tinyrec.jobs.kafka.KafkaOut;
import io.tinyrec.model.Batch;
import io.tinyrec.model.ModelConfig;
import io.tinyrec.model.sync.LearnerUpdate;
import io.tinyrec.model.sync.SyncLearner;
import io.tinyrec.model.synthetic.SyntheticCriteo;
import io.tinyrec.schemas.ModelSync;
import io.tinyrec.schemas.SingleObjectCodec;
import io.tinyrec.schemas.SyncKind;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.Test;

/** The Flink merger as an adapter over SyncMerger, in Flink's operator test harness. */
class MergerOperatorTest {
  static final ModelConfig MODEL = ModelConfig.preset("small");
  static final SingleObjectCodec<ModelSync> SYNC = SingleObjectCodec.of(ModelSync.class);

  static KeyedOneInputStreamOperatorTestHarness<Integer, LearnerUpdate, KafkaOut> harness(int learners, long coalesceMs)
      throws Exception {
    TrainJobConfig c = TrainJobConfig.builder("localhost:9", MODEL).learners(learners).syncCoalesceMs(coalesceMs)
        .jitWarmup(false).build();
    return ProcessFunctionTestHarnesses.forKeyedProcessFunction(new Merger(c), u -> 0, Types.INT);
  }

  static LearnerUpdate trainedUpdate(SyncLearner l, long seed) {
    SyntheticCriteo gen = new SyntheticCriteo(seed, -1);
    Batch b = new Batch(16);
    for (int i = 0; i < 16; i++) {
      b.add(gen.sample(i).row());
    }
    l.train(b, new float[16]);
    l.handled(16, 5);
    return l.send(false, 0);
  }

  static List<ModelSync> sent(KeyedOneInputStreamOperatorTestHarness<Integer, LearnerUpdate, KafkaOut> h) {
    return h.extractOutputValues().stream().map(k -> SYNC.decode(k.value)).toList();
  }

  @Test
  void withSeveralLearnersOneMessageCarriesEveryUpdateOfTheRound() throws Exception {
    try (var h = harness(2, 20)) {
      h.open();
      SyncLearner a = new SyncLearner(MODEL, 0, 0);
      SyncLearner b = new SyncLearner(MODEL, 1, 0);
      a.startIfFresh(0);
      b.startIfFresh(0);
      h.setProcessingTime(0);
      h.processElement(trainedUpdate(a, 1), 0);
      List<ModelSync> out = sent(h);
      assertEquals(1, out.size(), "the epoch's whole model first; the update waits for the other learner's");
      assertEquals(SyncKind.FULL, out.get(0).getKind());
      h.processElement(trainedUpdate(b, 2), 0);
      out = sent(h);
      assertEquals(2, out.size());
      ModelSync delta = out.get(1);
      assertEquals(SyncKind.DELTA, delta.getKind());
      assertEquals(2L, delta.getVersion());
      assertEquals(List.of(0L, 0L), delta.getMergedSeq(), "both updates acknowledged in one message");
      assertEquals(32L, delta.getEventsTrained());
    }
  }

  @Test
  void anUpdateWithoutCompanyGoesOutAfterTheCoalescingWindow() throws Exception {
    try (var h = harness(2, 20)) {
      h.open();
      SyncLearner a = new SyncLearner(MODEL, 0, 0);
      a.startIfFresh(0);
      h.setProcessingTime(100);
      h.processElement(trainedUpdate(a, 1), 0);
      assertEquals(1, sent(h).size());
      h.setProcessingTime(119);
      assertEquals(1, sent(h).size(), "still inside the window");
      h.setProcessingTime(120);
      List<ModelSync> out = sent(h);
      assertEquals(2, out.size(), "sent when the window closed");
      assertEquals(List.of(0L, -1L), out.get(1).getMergedSeq());
    }
  }

  @Test
  void withOneLearnerEachUpdateIsAnsweredAtOnce() throws Exception {
    try (var h = harness(1, 20)) {
      h.open();
      SyncLearner a = new SyncLearner(MODEL, 0, 0);
      a.startIfFresh(0);
      h.processElement(trainedUpdate(a, 1), 0);
      h.processElement(trainedUpdate(a, 2), 0);
      List<ModelSync> out = sent(h);
      assertEquals(3, out.size());
      assertEquals(SyncKind.FULL, out.get(0).getKind());
      assertTrue(out.subList(1, 3).stream().allMatch(m -> m.getKind() == SyncKind.DELTA));
      assertEquals(List.of(1L), out.get(2).getMergedSeq());
    }
  }
}
