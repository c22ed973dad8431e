package io.tinyrec.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BenchSyncCommandTest {
  static CliRun run(String... args) {
    return CliRun.of(args);
  }

  @Test
  void benchSyncRunsTheProtocolAndRefusesBadCounts() {
    CliRun ok = run("bench-sync", "--rows", "3000", "--learners", "1,2", "--preset", "small", "--batch", "32",
        "--sync-every", "256");
    assertEquals(0, ok.code(), ok.err());
    String[] lines = ok.out().trim().split("\n");
    assertEquals(2, lines.length, ok.out());
    assertTrue(lines[1].contains("\"learners\":2") && lines[1].contains("\"events_trained\":3000")
        && lines[1].contains("\"sync_bytes_in_per_learner_event\":"), lines[1]);
    CliRun bad = run("bench-sync", "--rows", "10", "--learners", "0");
    assertEquals(2, bad.code(), bad.err());
    assertTrue(bad.err().contains("--learners must be between 1 and 1024, got 0"), bad.err());
  }
}
