package io.tinyrec.jobs.learner;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyrec.jobs.TrainJobConfig;
import io.tinyrec.model.ModelConfig;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.junit.jupiter.api.Test;

class TaskManagerHeapTest {
  @Test
  void flinksDefaultHeapIsRefusedForTwoKaggleLearnersWithWhatToSet() {
    TrainJobConfig c = TrainJobConfig.builder("localhost:9", ModelConfig.preset("kaggle")).learners(2).build();
    SuppressRestartsException e = assertThrows(SuppressRestartsException.class,
        () -> TaskManagerHeap.check(c, 2, 512L << 20));
    String why = e.getCause().getMessage();
    assertTrue(why.contains("512 MB for 2 slot(s)") && why.contains("taskmanager.memory.task.heap.size")
        && why.contains("taskmanager.memory.managed.fraction: 0.1"), why);
    String ok = TaskManagerHeap.check(c, 2, 896L << 20);
    assertTrue(ok.contains("896 MB of heap for 2 slot(s)"), ok);
    // One slot holds one learner: the same heap that refuses two takes one.
    assertTrue(TaskManagerHeap.check(c, 1, 512L << 20).contains("1 slot(s)"));
  }
}
