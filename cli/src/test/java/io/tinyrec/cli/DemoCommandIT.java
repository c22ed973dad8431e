package io.tinyrec.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tinyrec demo} on a file shorter than {@code --events}: the replay ends first, and the demo
 * stops once every event it delivered is scored and trained, instead of waiting for events that
 * never come.
 */
class DemoCommandIT {
  @Test
  void aReplayThatEndsBeforeEventsStopsTheDemoWithEverythingTrained(@TempDir Path dir) throws Exception {
    Path rows = dir.resolve("rows.tsv");
    assertEquals(0, CliRun.of("generate", "--rows", "3000", "--seed", "4", "--out", rows.toString()).code());
    CliRun demo = assertTimeoutPreemptively(Duration.ofSeconds(240), () -> CliRun.of("demo", "--input",
        rows.toString(), "--events", "50000", "--port", "0", "--web-ui-port", "-1", "--preset", "small",
        "--snapshot-interval", "1s", "--out", dir.resolve("run").toString()));
    assertEquals(0, demo.code(), demo.err());
    assertTrue(demo.err().contains("demo: the replay ended after 3,000 events (fewer than --events 50,000); all of "
        + "them are scored and trained"), demo.err());
    assertTrue(Files.exists(dir.resolve("run").resolve("report").resolve("report.html")), "the report is written");
  }
}
