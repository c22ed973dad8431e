package io.tinyrec.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tinyrec.jobs.events.EventDecoderFuzzTest;
import io.tinyrec.schemas.ModelSnapshot;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * 100,000 mutated events and the crafted lying-length one through the whole job: each is trained,
 * scored (no label) or on the dlq, as the decode operator classifies it on its own, and the job
 * runs to its end without a restart.
 */
class HostileEventsIT {
  static JobTestKit kit;

  @BeforeAll
  static void startBroker() {
    kit = new JobTestKit();
  }

  @AfterAll
  static void stopBroker() {
    if (kit != null) {
      kit.close();
    }
  }

  @Test
  void everyHostileRecordIsTrainedScoredOrADeadLetterAndTheJobStaysUp() throws Exception {
    List<byte[]> values = new ArrayList<>(EventDecoderFuzzTest.mutants(77L, 100_000));
    values.add(50_000, EventDecoderFuzzTest.lyingDenseLength());
    long[] expected = EventDecoderFuzzTest.classify(values); // labelled, unlabelled, dead letters
    TrainJobConfig c = kit.boundedJob("hostile", 1, TrainJobIT.MODEL, TrainJobIT.BATCH).build();
    List<java.util.concurrent.Future<?>> sent = new ArrayList<>(values.size());
    try (KafkaProducer<byte[], byte[]> p = kit.producer()) {
      for (int i = 0; i < values.size(); i++) {
        sent.add(p.send(new ProducerRecord<>(c.eventsTopic, ("m" + i).getBytes(StandardCharsets.UTF_8),
            values.get(i))));
      }
      p.flush();
      for (var f : sent) {
        f.get();
      }
    }
    // No restarts: any exception in the job fails the run instead of being retried away.
    JobExecutionResult result = LocalTrainRunner.start(c, new LocalTrainRunner.Options(JobTestKit.tempDir("hostile"),
        null, -1, 0)).getJobExecutionResult().get(4, java.util.concurrent.TimeUnit.MINUTES);

    ModelSnapshot last = TrainJobIT.last(kit.snapshots(c.modelsTopic));
    System.out.printf("hostile: %d records: %d trained, %d scored without a label, %d on the dlq%n", values.size(),
        expected[0], expected[1], expected[2]);
    assertEquals(expected[0], last.getEventsTrained(), "labelled events trained");
    assertEquals(expected[2], (long) result.<Long>getAccumulatorResult(
        io.tinyrec.jobs.events.EventDecoder.DLQ_ACCUMULATOR), "records sent to the dlq");
    assertEquals(expected[2], kit.readCommitted(c.dlqTopic).size(), "records on the dlq topic");
    assertEquals(values.size(), expected[0] + expected[1] + expected[2]);
  }
}
