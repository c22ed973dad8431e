package io.tinyrec.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Flag handling of bench-train: its flags in help, exit code 2 and a message before anything starts. */
class BenchTrainCommandTest {
  @Test
  void shouldDescribeEveryFlagInHelp() {
    CliRun help = CliRun.of("bench-train", "--help");
    assertEquals(0, help.code());
    for (String flag : new String[] {"--events", "--learners", "--rate", "--latency-seconds", "--checkpoint-interval",
        "--sync-every", "--max-staleness", "--rounds"}) {
      assertTrue(help.out().contains(flag), flag + " missing from bench-train --help");
    }
  }

  @Test
  void shouldRefuseRoundsOrEventsBelowOneWithExitCode2() {
    for (String[] args : new String[][] {{"bench-train", "--rounds", "0"}, {"bench-train", "--events", "0"}}) {
      CliRun r = CliRun.of(args);
      assertEquals(2, r.code(), String.join(" ", args) + " -> " + r.err());
      assertTrue(r.err().contains(args[1] + " must be >= 1"), r.err());
    }
  }
}
