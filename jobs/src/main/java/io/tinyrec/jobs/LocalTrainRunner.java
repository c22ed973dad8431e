package io.tinyrec.jobs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Runs the training job on a local MiniCluster (the embedded default of {@code tinyrec train}):
 * hashmap state backend, checkpoints retained on cancellation in a directory of the caller's, a
 * fixed-delay restart strategy, and optionally the Flink web UI.
 */
public final class LocalTrainRunner {
  private LocalTrainRunner() {}

  /**
   * How the local cluster runs the job.
   *
   * @param checkpointDir where checkpoints go (one sub-directory per job id)
   * @param restoreFrom a retained checkpoint or savepoint to start from, or null for a fresh start
   * @param webUiPort port of the Flink web UI, 0 for any free port, negative for none
   * @param restartAttempts restarts after a failure before the job fails for good
   */
  public record Options(Path checkpointDir, Path restoreFrom, int webUiPort, int restartAttempts) {}

  /** The Flink configuration the local cluster and the job run with. */
  public static Configuration configuration(TrainJobConfig c, Options o) {
    Configuration conf = new Configuration();
    conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, c.checkpointInterval);
    conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, o.checkpointDir().toAbsolutePath().toUri().toString());
    conf.set(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION, ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
    conf.set(CheckpointingOptions.MAX_RETAINED_CHECKPOINTS, 3);
    conf.set(StateBackendOptions.STATE_BACKEND, "hashmap");
    conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
    conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, o.restartAttempts());
    conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofSeconds(1));
    if (o.restoreFrom() != null) {
      conf.set(StateRecoveryOptions.SAVEPOINT_PATH, o.restoreFrom().toAbsolutePath().toUri().toString());
    }
    if (o.webUiPort() >= 0) {
      conf.set(RestOptions.PORT, o.webUiPort());
    }
    return conf;
  }

  /** Starts the job and returns at once; the caller waits on or cancels the returned client. */
  public static JobClient start(TrainJobConfig c, Options o) throws Exception {
    Configuration conf = configuration(c, o);
    StreamExecutionEnvironment env = o.webUiPort() >= 0
        ? StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(conf)
        : StreamExecutionEnvironment.createLocalEnvironment(c.learners, conf);
    env.setParallelism(c.learners);
    TrainJob.build(env, c);
    return env.executeAsync("tinyrec train " + c.modelName);
  }

  /** Cancels the job and waits until it has really stopped (cancel() returns before it has). */
  public static void cancelAndWait(JobClient client, Duration timeout) throws Exception {
    client.cancel().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    awaitTerminal(client, timeout);
  }

  /** Waits until the job is globally terminal and returns that status. */
  public static JobStatus awaitTerminal(JobClient client, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      JobStatus s;
      try {
        s = client.getJobStatus().get(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        // The mini cluster goes away with the job, and then its result is in. Until it is, a failed
        // status call says nothing: look again, within the timeout.
        var result = client.getJobExecutionResult();
        if (result.isDone()) {
          return statusOf(result);
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the job's status is unknown after " + timeout + ": " + e, e);
        }
        Thread.sleep(100);
        continue;
      }
      if (s.isGloballyTerminalState()) {
        return s;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("job still " + s + " after " + timeout);
      }
      Thread.sleep(100);
    }
  }

  /** The terminal status a completed job result stands for. */
  private static JobStatus statusOf(java.util.concurrent.CompletableFuture<?> result) {
    try {
      result.getNow(null);
      return JobStatus.FINISHED;
    } catch (java.util.concurrent.CompletionException | java.util.concurrent.CancellationException e) {
      for (Throwable t = e; t != null; t = t.getCause()) {
        if (t instanceof org.apache.flink.runtime.client.JobCancellationException) {
          return JobStatus.CANCELED;
        }
      }
      return JobStatus.FAILED;
    }
  }

  /** The newest completed checkpoint (a chk-N directory with _metadata) under a checkpoint directory. */
  public static Optional<Path> latestCheckpoint(Path checkpointDir) throws IOException {
    if (!Files.isDirectory(checkpointDir)) {
      return Optional.empty();
    }
    try (Stream<Path> s = Files.walk(checkpointDir, 2)) {
      return s.filter(p -> p.getFileName().toString().startsWith("chk-"))
          .filter(p -> Files.exists(p.resolve("_metadata")))
          .max(Comparator.comparingLong((Path p) -> p.toFile().lastModified())
              .thenComparingLong(p -> Long.parseLong(p.getFileName().toString().substring(4))));
    }
  }
}
