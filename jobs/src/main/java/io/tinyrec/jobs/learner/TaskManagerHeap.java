package io.tinyrec.jobs.learner;

import io.tinyrec.jobs.TrainJob;
import io.tinyrec.jobs.TrainJobConfig;
import org.apache.flink.runtime.execution.SuppressRestartsException;

/**
 * Whether a TaskManager's heap can hold a learner in every slot (and the merger) with the headroom
 * the garbage collector needs; if not, the job fails at once, saying what to set, instead of running
 * out of heap later. Measured on the kaggle preset (12.8 MB of weights and Adagrad state): two
 * learners and the merger on one TaskManager keep about 360 MB live; Flink's default TaskManager has
 * a 512 MB heap and ran out of it, with 896 MB (managed fraction 0.1) it ran.
 */
final class TaskManagerHeap {
  /** Copies of the model a learner holds at most: replica, global, base, in flight, checkpoint buffers. */
  static final int MODEL_COPIES_PER_LEARNER = 10;
  /** ... and the merger: its model, full-model and snapshot encodings, checkpoint buffers. */
  static final int MODEL_COPIES_PER_MERGER = 4;

  private TaskManagerHeap() {}

  /**
   * Checks a TaskManager of {@code slots} slots and {@code heapBytes} of heap; returns what it found,
   * for the log.
   *
   * @throws SuppressRestartsException when the heap is too small (no restart can fix it)
   */
  static String check(TrainJobConfig config, int slots, long heapBytes) {
    long model = TrainJob.fullModelBytes(config);
    int learnersHere = Math.min(slots, config.learners);
    long need = (long) learnersHere * MODEL_COPIES_PER_LEARNER * model + MODEL_COPIES_PER_MERGER * model
        + (96L << 20);
    long wanted = need * 10 / 7; // G1 needs headroom: about 70% of the heap live at most
    if (wanted > heapBytes) {
      throw new SuppressRestartsException(new IllegalStateException(String.format(
          "this TaskManager's heap (%d MB for %d slot(s)) is too small for %d learner(s) of this model: each holds "
              + "about %d copies of its %d MB of weights and optimizer state, and the merger %d. Give each "
              + "TaskManager at least %d MB of heap: set taskmanager.memory.task.heap.size: %dm, or "
              + "taskmanager.memory.managed.fraction: 0.1 (the hashmap state backend keeps state on the heap and "
              + "uses no managed memory), or give TaskManagers fewer slots", heapBytes >> 20, slots, learnersHere,
          MODEL_COPIES_PER_LEARNER, model >> 20, MODEL_COPIES_PER_MERGER, wanted >> 20, (wanted >> 20) + 64)));
    }
    return String.format("model %d MB; this TaskManager has %d MB of heap for %d slot(s); about %d MB needed",
        model >> 20, heapBytes >> 20, slots, wanted >> 20);
  }
}
