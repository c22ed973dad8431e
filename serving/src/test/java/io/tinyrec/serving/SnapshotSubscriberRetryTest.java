package io.tinyrec.serving;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/** What the subscriber does when its consumer throws: Kafka's errors are retried, anything else stops it. */
class SnapshotSubscriberRetryTest {
  static final SnapshotSubscriber.Settings SETTINGS = new SnapshotSubscriber.Settings("localhost:9", "models", "ctr",
      Map.of(), Duration.ofMillis(20));

  static MockConsumer<byte[], byte[]> consumer() {
    MockConsumer<byte[], byte[]> c = new MockConsumer<>("earliest");
    TopicPartition tp = new TopicPartition("models", 0);
    c.updatePartitions("models", List.of(new PartitionInfo("models", 0, Node.noNode(), new Node[0], new Node[0])));
    c.updateBeginningOffsets(Map.of(tp, 0L));
    c.updateEndOffsets(Map.of(tp, 0L));
    return c;
  }

  static void await(java.util.function.BooleanSupplier done, String what) throws InterruptedException {
    long end = System.nanoTime() + 10_000_000_000L;
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("timed out waiting until " + what);
      }
      Thread.sleep(20);
    }
  }

  @Test
  void aKafkaErrorIsRetriedAndFollowingResumes() throws Exception {
    MockConsumer<byte[], byte[]> c = consumer();
    AtomicInteger polls = new AtomicInteger();
    c.schedulePollTask(() -> {
      polls.incrementAndGet();
      throw new KafkaException("the broker went away");
    });
    SnapshotSubscriber s = SnapshotSubscriber.start(SETTINGS, new ServingMetrics(), c);
    try {
      await(() -> polls.get() == 1, "the failing poll ran");
      await(s::following, "it follows again after the retry");
      assertTrue(s.running());
    } finally {
      s.close();
    }
  }

  @Test
  void anErrorThatIsNotKafkasStopsTheSubscriberOnceInsteadOfRetryingForever() throws Exception {
    MockConsumer<byte[], byte[]> c = consumer();
    AtomicInteger polls = new AtomicInteger();
    for (int i = 0; i < 5; i++) {
      c.schedulePollTask(() -> {
        polls.incrementAndGet();
        throw new IllegalStateException("a defect");
      });
    }
    SnapshotSubscriber s = SnapshotSubscriber.start(SETTINGS, new ServingMetrics(), c);
    try {
      await(() -> !s.running(), "the subscriber stopped");
      assertFalse(s.following());
      assertTrue(s.problem().contains("unexpected error") && s.problem().contains("a defect"), s.problem());
      Thread.sleep(1_500);
      assertTrue(polls.get() == 1, "not retried: " + polls.get() + " polls");
    } finally {
      s.close();
    }
  }
}
