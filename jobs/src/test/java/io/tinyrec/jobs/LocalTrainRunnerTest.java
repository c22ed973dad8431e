package io.tinyrec.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.JobClient;
import org.junit.jupiter.api.Test;

/** Waiting for a job's end: a status call that fails is not the end of the job. */
class LocalTrainRunnerTest {
  /** A client whose status calls fail, with a result that is done or not. */
  static JobClient client(CompletableFuture<JobExecutionResult> result) {
    return (JobClient) Proxy.newProxyInstance(JobClient.class.getClassLoader(), new Class<?>[] {JobClient.class},
        (proxy, method, args) -> switch (method.getName()) {
          case "getJobStatus" -> CompletableFuture.failedFuture(new IllegalStateException("no answer"));
          case "getJobExecutionResult" -> result;
          default -> throw new UnsupportedOperationException(method.getName());
        });
  }

  @Test
  void aFailingStatusCallWithTheJobStillRunningWaitsUntilTheTimeout() {
    long t0 = System.nanoTime();
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> LocalTrainRunner.awaitTerminal(client(new CompletableFuture<>()), Duration.ofMillis(800)));
    assertTrue(e.getMessage().contains("status is unknown"), e.getMessage());
    assertTrue(System.nanoTime() - t0 >= Duration.ofMillis(800).toNanos(), "returned before the timeout");
  }

  @Test
  void aFailingStatusCallAfterTheJobEndedReportsHowItEnded() throws Exception {
    assertEquals(JobStatus.FINISHED, LocalTrainRunner.awaitTerminal(
        client(CompletableFuture.completedFuture(new JobExecutionResult(null, 1, java.util.Map.of()))),
        Duration.ofSeconds(5)));
    assertEquals(JobStatus.FAILED, LocalTrainRunner.awaitTerminal(
        client(CompletableFuture.failedFuture(new RuntimeException("boom"))), Duration.ofSeconds(5)));
    assertEquals(JobStatus.CANCELED, LocalTrainRunner.awaitTerminal(client(CompletableFuture.failedFuture(
        new org.apache.flink.runtime.client.JobCancellationException(null, "cancelled", null))),
        Duration.ofSeconds(5)));
  }
}
