package io.tinyrec.model.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyrec.model.Batch;
import io.tinyrec.model.Dlrm;
import io.tinyrec.model.ModelConfig;
import io.tinyrec.model.data.CriteoRow;
import io.tinyrec.model.synthetic.SyntheticCriteo;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The sync protocol's two halves, driven by hand without Flink or Kafka. */
class SyncProtocolTest {
  private static final ModelConfig SMALL = ModelConfig.preset("small");
  private static final int BATCH = 32;

  private static List<Batch> batches(int count, long seed) {
    SyntheticCriteo gen = new SyntheticCriteo(seed, -1);
    List<Batch> out = new ArrayList<>();
    for (int b = 0; b < count; b++) {
      Batch batch = new Batch(BATCH);
      for (int i = 0; i < BATCH; i++) {
        CriteoRow row = gen.sample((long) b * BATCH + i).row();
        batch.add(row);
      }
      out.add(batch);
    }
    return out;
  }

  @Test
  void oneLearnerAndTheMergerTrainExactlyAsOneModel() {
    List<Batch> data = batches(40, 3);
    Dlrm sequential = new Dlrm(SMALL);
    float[] s = new float[BATCH];
    for (Batch b : data) {
      sequential.trainStepInPlace(b, s);
    }
    SyncMerger merger = new SyncMerger(SMALL, 1, 0, 1, 50);
    SyncLearner learner = new SyncLearner(SMALL, 0, 0);
    assertEquals(SyncLearner.Outcome.APPLIED, learner.onSync(merger.full(false), 0));
    float[] scores = new float[BATCH];
    int sent = 0;
    for (Batch b : data) {
      learner.train(b, scores);
      learner.handled(b.size(), 0);
      if (learner.sendDue(0, 3 * BATCH, Long.MAX_VALUE)) {
        assertTrue(merger.merge(learner.send(false, 0)));
        sent++;
        assertTrue(merger.publishDue(), "with publishEvery 1 each update is answered at once");
        learner.onSync(merger.publish(), 0);
      }
    }
    merger.merge(learner.send(true, 0));
    SyncMessage last = merger.full(true);
    learner.onSync(last, 0);
    assertTrue(sent >= 10);
    long expected = ModelTensors.of(sequential).checksum();
    assertEquals(expected, merger.tensors().checksum(), "the merged model is the sequential one, bit for bit");
    assertEquals(expected, learner.globalChecksum());
    assertEquals(40L * BATCH, merger.eventsTrained());
  }

  @Test
  void theMergerCoalescesOneMessagePerRoundAndEveryReplicaEndsIdentical() {
    int n = 3;
    SyncMerger merger = new SyncMerger(SMALL, n, 0, n, 1000);
    SyncLearner[] ls = new SyncLearner[n];
    SyncMessage first = merger.full(false);
    for (int k = 0; k < n; k++) {
      ls[k] = new SyncLearner(SMALL, k, 0);
      ls[k].onSync(first, 0);
    }
    List<Batch> data = batches(60, 5);
    float[] scores = new float[BATCH];
    int messages = 0;
    int acks = 0;
    for (int round = 0; round < 20; round++) {
      for (int k = 0; k < n; k++) {
        Batch b = data.get(round * n + k);
        ls[k].train(b, scores);
        ls[k].handled(b.size(), round);
        merger.merge(ls[k].send(false, round));
        if (k < n - 1) {
          assertTrue(!merger.publishDue(), "a message waits for one update per learner");
        }
      }
      assertTrue(merger.publishDue());
      SyncMessage m = merger.publish();
      assertTrue(!m.full);
      messages++;
      for (int k = 0; k < n; k++) {
        assertEquals(round, m.mergedSeqOf(k), "each learner's update of this round is acknowledged");
        if (ls[k].onSync(m, round) == SyncLearner.Outcome.ACKNOWLEDGED) {
          acks++;
        }
      }
    }
    assertEquals(20, messages);
    assertEquals(20 * n, acks);
    long merged = merger.tensors().checksum();
    for (SyncLearner l : ls) {
      assertEquals(merged, l.globalChecksum(), "every learner holds the merger's model");
      assertEquals(merged, ModelTensors.of(l.replica()).checksum(), "with nothing unsent the replica is the model");
    }
    // Each learner's bytes in: one message per round, whatever n is.
    assertEquals(merger.stats().bytesOut, ls[0].stats().bytesIn);
  }

  @Test
  void aMessageWithoutThisLearnersUpdateMovesItsReplicaAndKeepsItsOwnWork() {
    SyncMerger merger = new SyncMerger(SMALL, 2, 0, 1, 1000);
    SyncLearner a = new SyncLearner(SMALL, 0, 0);
    SyncLearner b = new SyncLearner(SMALL, 1, 0);
    SyncMessage first = merger.full(false);
    a.onSync(first, 0);
    b.onSync(first, 0);
    List<Batch> data = batches(2, 7);
    float[] scores = new float[BATCH];
    a.train(data.get(0), scores);
    a.handled(BATCH, 0);
    b.train(data.get(1), scores);
    b.handled(BATCH, 0);
    LearnerUpdate fromB = b.send(false, 0);
    UnsentWork beforeMessage = a.unsentWork();
    merger.merge(fromB);
    SyncMessage m = merger.publish();
    assertEquals(SyncLearner.Outcome.APPLIED, a.onSync(m, 0));
    assertEquals(SyncLearner.Outcome.ACKNOWLEDGED, b.onSync(m, 0));
    // a's own change since its base survives the rebase: it is still unsent, and now sits on b's.
    UnsentWork after = a.unsentWork();
    assertEquals(beforeMessage.scores().length, after.scores().length);
    assertTrue(!ChunkDelta.decode(after.delta(), merger.tensors()).isEmpty());
    assertEquals(merger.tensors().checksum(), a.globalChecksum());
    assertNotEquals(merger.tensors().checksum(), ModelTensors.of(a.replica()).checksum());
  }

  @Test
  void aRestoredLearnerWaitsForItsEpochsModelThenSendsWhatItHadNotSent() throws Exception {
    SyncMerger merger = new SyncMerger(SMALL, 1, 0, 1, 1000);
    SyncLearner before = new SyncLearner(SMALL, 0, 0);
    before.onSync(merger.full(false), 0);
    float[] scores = new float[BATCH];
    for (Batch b : batches(4, 9)) {
      before.train(b, scores);
      before.handled(b.size(), 17);
    }
    merger.merge(before.send(false, 0));
    for (Batch b : batches(3, 10)) {
      before.train(b, scores);
      before.handled(b.size(), 18);
    }
    // The checkpoint: the merger's model and the learner's unsent work, through its byte form.
    UnsentWork unsent = before.unsentWork();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    unsent.writeTo(new DataOutputStream(bytes));
    UnsentWork read = UnsentWork.readFrom(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())),
        bytes.size());
    assertEquals(3 * BATCH, read.trained());
    assertEquals(18, read.maxEventTime());
    long epoch = 7;
    SyncMerger restoredMerger = new SyncMerger(merger.model(), merger.version(), merger.eventsTrained(), 0,
        merger.maxEventTime(), 1, epoch, 1, 1000);
    SyncLearner l = SyncLearner.restored(SMALL, 0, epoch, List.of(read));
    assertTrue(l.awaitingModel() && !l.ready());
    LearnerUpdate ask = l.requestFull();
    assertNotNull(ask);
    assertTrue(ask.requestsFull);
    assertNull(l.requestFull(), "asked once");
    assertTrue(!restoredMerger.merge(ask), "a request is not a change");
    assertTrue(restoredMerger.needsFull());
    // A delta, or anything of the old epoch, cannot be the base.
    SyncMessage old = merger.full(false);
    assertEquals(SyncLearner.Outcome.DROPPED, l.onSync(old, 0));
    assertEquals(SyncLearner.Outcome.RESUMED, l.onSync(restoredMerger.full(false), 0));
    List<LearnerUpdate> resent = l.takeResumed();
    assertEquals(1, resent.size());
    assertEquals(3L * BATCH, resent.get(0).eventsTrained);
    assertEquals(epoch, resent.get(0).epoch);
    restoredMerger.merge(resent.get(0));
    assertEquals(ModelTensors.of(before.replica()).checksum(), restoredMerger.tensors().checksum(),
        "after the restore the merger holds exactly what the learner had learned");
    assertEquals(7L * BATCH, restoredMerger.eventsTrained());
  }

  @Test
  void aModelOfAnotherConfigIsRefusedWithBothConfigsNamed() {
    SyncMerger other = new SyncMerger(ModelConfig.preset("small").withLearningRates(0.5f, 0.5f), 1, 0, 1, 10);
    SyncLearner l = new SyncLearner(SMALL, 0, 0);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> l.onSync(other.full(false), 0));
    assertTrue(e.getMessage().contains("another config"), e.getMessage());
  }

  @Test
  void theHarnessRunsTheProtocolAndCountsItsTraffic() {
    SyntheticCriteo gen = new SyntheticCriteo(4, -1);
    List<CriteoRow> rows = new ArrayList<>();
    for (int i = 0; i < 4000; i++) {
      rows.add(gen.sample(i).row());
    }
    SyncHarness.Settings s = new SyncHarness.Settings(SMALL, BATCH, 128, 128, 2, 50, 10_000);
    SyncHarness.Result one = SyncHarness.run(rows, 1, s);
    SyncHarness.Result four = SyncHarness.run(rows, 4, s);
    assertEquals(4000, one.events());
    assertEquals(4000, four.events());
    assertTrue(one.metrics().auc() > 0.55, "one learner learns: " + one.metrics().auc());
    // Coalesced: four learners' updates take about a quarter of the messages each.
    assertTrue(four.messages() * 2 < four.updates(), four.messages() + " messages for " + four.updates() + " updates");
    assertTrue(four.bytesInPerLearnerEvent() > 0 && four.mergerCpuNsPerEvent() > 0);
  }
}
