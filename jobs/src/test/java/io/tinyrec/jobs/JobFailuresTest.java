package io.tinyrec.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import org.apache.flink.runtime.checkpoint.CheckpointException;
import org.apache.flink.runtime.checkpoint.CheckpointFailureReason;
import org.junit.jupiter.api.Test;

/** A failed job's exception, as a person reads it: one line, what happened, what to do. */
class JobFailuresTest {
  static final Path DIR = Path.of("/data/checkpoints");

  @Test
  void aFullCheckpointDiskIsNamedUnderFlinksThresholdMessage() {
    // The shape Flink gives it: the job's failure, the tolerable-failure threshold, the I/O error deep inside.
    Throwable disk = new IOException("No space left on device");
    Throwable chain = new java.util.concurrent.ExecutionException(new RuntimeException("Job execution failed.",
        new org.apache.flink.util.FlinkRuntimeException("Exceeded checkpoint tolerable failure threshold.",
            new CheckpointException(CheckpointFailureReason.CHECKPOINT_ASYNC_EXCEPTION, new RuntimeException(
                "Could not materialize checkpoint 7", disk)))));
    String why = JobFailures.explain(chain, DIR, Optional.of(DIR.resolve("job/chk-6"))).orElseThrow();
    assertEquals("the job stopped: writing a checkpoint to /data/checkpoints failed: the disk is full (No space left "
        + "on device). Free space there, or give --checkpoint-dir a larger disk. Then resume with --restore-from "
        + "/data/checkpoints/job/chk-6.", why);
  }

  /** As `tinyrec train` met it on a full tmpfs: the threshold failure carries no cause. */
  @Test
  void flinksThresholdFailureOnAFullDiskSaysTheDiskIsFull() {
    Throwable chain = new java.util.concurrent.ExecutionException(new RuntimeException("Job execution failed.",
        new org.apache.flink.runtime.JobException("Recovery is suppressed by FixedDelayRestartBackoffTimeStrategy",
            new org.apache.flink.util.FlinkRuntimeException("Exceeded checkpoint tolerable failure threshold. The "
                + "latest checkpoint failed due to Asynchronous task checkpoint failed., view the Checkpoint History "
                + "tab or the Job Manager log to find out why continuous checkpoints failed."))));
    assertEquals("the job stopped: its checkpoints to /data/checkpoints kept failing because the disk is full. Free "
        + "space there, or give --checkpoint-dir a larger disk.", JobFailures.explain(chain, DIR, Optional.empty(),
            true).orElseThrow());
    assertTrue(JobFailures.explain(chain, DIR, Optional.empty(), false).orElseThrow().contains("kept failing (the log"));
  }

  @Test
  void aFailureThatNoRestartFixesGivesItsOwnReason() {
    Throwable chain = new RuntimeException("Job execution failed.", new org.apache.flink.runtime.execution
        .SuppressRestartsException(new IllegalStateException("merger state of an unknown format (magic 0)\nmore")));
    assertEquals("the job stopped: merger state of an unknown format (magic 0)",
        JobFailures.explain(chain, DIR, Optional.empty()).orElseThrow());
  }

  @Test
  void anythingElseIsLeftAsItIs() {
    assertTrue(JobFailures.explain(new RuntimeException("boom", new IllegalArgumentException("x")), DIR,
        Optional.empty()).isEmpty());
  }
}
