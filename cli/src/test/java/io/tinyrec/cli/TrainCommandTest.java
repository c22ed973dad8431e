package io.tinyrec.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What train says when it cannot start: once, what happened and what to check. */
class TrainCommandTest {
  @Test
  void anUnreachableBrokerIsNamedWithWhatToCheckNotARawTimeout(@TempDir Path dir) {
    long t0 = System.nanoTime();
    CliRun r = CliRun.of("train", "--bootstrap-servers", "127.0.0.1:1", "--bounded", "--web-ui-port", "-1",
        "--checkpoint-dir", dir.toString());
    double seconds = (System.nanoTime() - t0) / 1e9;
    assertEquals(1, r.code(), r.err());
    assertTrue(r.err().contains("cannot reach Kafka at 127.0.0.1:1 (is the broker up, and are --bootstrap-servers"),
        r.err());
    assertFalse(r.err().contains("TimeoutException"), r.err());
    assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
    assertTrue(seconds < 30, "took " + seconds + " s");
  }
}
