package io.tinyrec.jobs.events;

import org.apache.flink.runtime.state.KeyGroupRangeAssignment;

/**
 * Keys that Flink assigns to a given subtask of a keyed operator: with one per learner subtask,
 * each decoder stamps its events with its own subtask's key, and the learners (a keyed operator,
 * for its timers) read the stream as keyed where it is, without a shuffle
 * ({@code DataStreamUtils.reinterpretAsKeyedStream}). Each learner then trains the events of the
 * Kafka partitions its own source subtask reads.
 */
public final class LearnerRoutes {
  private LearnerRoutes() {}

  /** A key that {@code parallelism} subtasks of max parallelism {@code maxParallelism} send to {@code subtask}. */
  public static String keyFor(int subtask, int parallelism, int maxParallelism) {
    if (subtask < 0 || subtask >= parallelism || parallelism > maxParallelism) {
      throw new IllegalArgumentException("no subtask " + subtask + " of " + parallelism + " (max parallelism "
          + maxParallelism + ")");
    }
    for (int i = 0; ; i++) {
      String key = "learner-" + subtask + "-" + i;
      if (KeyGroupRangeAssignment.assignKeyToParallelOperator(key, maxParallelism, parallelism) == subtask) {
        return key;
      }
    }
  }
}
