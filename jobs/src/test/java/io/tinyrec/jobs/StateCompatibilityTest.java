package io.tinyrec.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyrec.jobs.events.TrainingEvent;
import io.tinyrec.jobs.events.TrainingEvents;
import io.tinyrec.jobs.learner.Learner;
import io.tinyrec.jobs.merger.Merger;
import io.tinyrec.model.Batch;
import io.tinyrec.model.ModelConfig;
import io.tinyrec.model.sync.LearnerUpdate;
import io.tinyrec.model.sync.SyncLearner;
import io.tinyrec.model.sync.SyncMerger;
import io.tinyrec.model.sync.SyncMessage;
import io.tinyrec.model.synthetic.SyntheticCriteo;
import io.tinyrec.schemas.ModelSync;
import io.tinyrec.schemas.SingleObjectCodec;
import io.tinyrec.schemas.SyncKind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.operators.co.CoBroadcastWithKeyedOperator;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OperatorSnapshotUtil;
import org.junit.jupiter.api.Test;

/**
 * A checkpoint of this release restores in the next: golden operator states of the learner and
 * the merger (state version 1), written once and kept in src/test/resources/state. A release that
 * changes a state layout adds a version and a new golden file, and keeps reading the old ones.
 * Regenerate a missing file with {@code -Dtinyrec.write-golden-state=true}.
 */
class StateCompatibilityTest {
  static final ModelConfig MODEL = ModelConfig.preset("small");
  static final int BATCH = 8;
  static final Path LEARNER_V1 = Path.of("src/test/resources/state/learner-state-v1.snapshot");
  static final Path MERGER_V1 = Path.of("src/test/resources/state/merger-state-v1.snapshot");
  static final boolean WRITE = Boolean.getBoolean("tinyrec.write-golden-state");

  static TrainJobConfig config() {
    return TrainJobConfig.builder("localhost:9", MODEL).learners(1).batch(BATCH).maxWaitMs(0).syncEvery(3 * BATCH)
        .jitWarmup(false).build();
  }

  static KeyedBroadcastOperatorTestHarness<String, TrainingEvent, SyncMessage, LearnerUpdate> learner()
      throws Exception {
    return new KeyedBroadcastOperatorTestHarness<>(
        new CoBroadcastWithKeyedOperator<>(new Learner(config()), List.of(Learner.GLOBAL_MODEL)), e -> e.route,
        Types.STRING, 1, 1, 0);
  }

  static KeyedOneInputStreamOperatorTestHarness<Integer, LearnerUpdate, io.tinyrec.jobs.kafka.KafkaOut> merger()
      throws Exception {
    return new KeyedOneInputStreamOperatorTestHarness<>(new KeyedProcessOperator<>(new Merger(config())), u -> 0,
        Types.INT);
  }

  static List<TrainingEvent> events(int from, int n) {
    return TrainingEvents.generated(31, from, n, 5_000, "r");
  }

  @Test
  void aLearnerCheckpointOfStateVersion1Restores() throws Exception {
    if (WRITE && !Files.exists(LEARNER_V1)) {
      try (var h = learner()) {
        h.open();
        h.processBroadcastElement(new SyncMerger(MODEL, 1, 0, 1, 50).full(false), 0);
        for (TrainingEvent e : events(0, 4 * BATCH)) {
          h.processElement(e, e.eventTime);
        }
        Files.createDirectories(LEARNER_V1.getParent());
        OperatorSnapshotUtil.writeStateHandle(h.snapshot(1, 0), LEARNER_V1.toString());
      }
    }
    assertTrue(Files.exists(LEARNER_V1), "golden file " + LEARNER_V1);
    OperatorSubtaskState golden = OperatorSnapshotUtil.readStateHandle(LEARNER_V1.toString());
    try (var h = learner()) {
      h.initializeState(golden);
      h.open();
      h.processBroadcastElement(new SyncMerger(MODEL, 1, 0, 1, 50).full(false), 0);
      List<LearnerUpdate> out = h.extractOutputValues();
      assertEquals(1, out.size(), "the unsent batch of the golden state goes out as an update");
      LearnerUpdate u = out.get(0);
      assertEquals(BATCH, u.eventsTrained);
      assertEquals(BATCH, u.scores.length);
      assertEquals(5_000 + 4 * BATCH - 1, u.maxEventTime);
    }
  }

  @Test
  void aMergerCheckpointOfStateVersion1Restores() throws Exception {
    if (WRITE && !Files.exists(MERGER_V1)) {
      try (var h = merger()) {
        h.open();
        SyncLearner l = new SyncLearner(MODEL, 0, 0);
        l.startIfFresh(0);
        SyntheticCriteo gen = new SyntheticCriteo(32, -1);
        for (int k = 0; k < 2; k++) {
          Batch b = new Batch(16);
          for (int i = 0; i < 16; i++) {
            b.add(gen.sample(k * 16 + i).row());
          }
          l.train(b, new float[16]);
          l.handled(16, 7_000 + k);
          h.processElement(l.send(false, 0), 0);
        }
        OperatorSnapshotUtil.writeStateHandle(h.snapshot(1, 0), MERGER_V1.toString());
      }
    }
    assertTrue(Files.exists(MERGER_V1), "golden file " + MERGER_V1);
    OperatorSubtaskState golden = OperatorSnapshotUtil.readStateHandle(MERGER_V1.toString());
    try (var h = merger()) {
      h.initializeState(golden);
      h.open();
      LearnerUpdate ask = new LearnerUpdate();
      ask.requestsFull = true;
      ask.seq = -1;
      ask.delta = new byte[0];
      ask.scores = new float[0];
      ask.labels = new byte[0];
      h.processElement(ask, 0);
      SingleObjectCodec<ModelSync> codec = SingleObjectCodec.of(ModelSync.class);
      List<ModelSync> sent = h.extractOutputValues().stream().map(k -> codec.decode(k.value)).toList();
      assertEquals(1, sent.size());
      ModelSync full = sent.get(0);
      assertEquals(SyncKind.FULL, full.getKind());
      assertEquals(2L, full.getVersion(), "the golden merger had merged two updates");
      assertEquals(32L, full.getEventsTrained());
    }
  }
}
