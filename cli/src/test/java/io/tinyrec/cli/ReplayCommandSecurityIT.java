package io.tinyrec.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyrec.replay.LocalKafkaBroker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tinyrec replay --producer-config} as a user runs it, against a broker whose listener wants
 * SASL/PLAIN credentials: the right ones replay and exit 0, a wrong password exits 1 at once with a
 * message that says what to check. (ReplaySecurityIT in replay/ covers SASL and TLS in depth.)
 */
class ReplayCommandSecurityIT {
  private static final String LOGIN = "org.apache.kafka.common.security.plain.PlainLoginModule required";

  @Test
  void shouldReplayWithTheRightCredentialsAndExitOneAtOnceWithAWrongPassword(@TempDir Path dir) throws Exception {
    try (LocalKafkaBroker broker = LocalKafkaBroker.start(0, null, Map.of(
        "sasl.enabled.mechanisms", "PLAIN",
        "listener.name.sasl_plaintext.plain.sasl.jaas.config", LOGIN + " user_bob=\"bob-secret\";"),
        List.of(new LocalKafkaBroker.Listener("SASL_PLAINTEXT", "SASL_PLAINTEXT")))) {
      String bs = broker.bootstrapServers("SASL_PLAINTEXT");
      Path good = dir.resolve("good.properties");
      Files.writeString(good, "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\n"
          + "sasl.jaas.config=" + LOGIN + " username=\"bob\" password=\"bob-secret\";\n");
      Path wrong = dir.resolve("wrong.properties");
      Files.writeString(wrong, Files.readString(good).replace("bob-secret", "guess"));

      CliRun ok = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> CliRun.of("replay", "--bootstrap-servers",
          bs, "--topic", "secured", "--synthetic", "200", "--producer-config", good.toString(), "--no-progress"));
      assertEquals(0, ok.code(), ok.err());
      assertTrue(ok.out().contains("200 acknowledged"), ok.out());

      long start = System.nanoTime();
      CliRun denied = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> CliRun.of("replay",
          "--bootstrap-servers", bs, "--topic", "secured", "--synthetic", "200", "--producer-config", wrong.toString(),
          "--no-progress"));
      double seconds = (System.nanoTime() - start) / 1e9;
      assertEquals(1, denied.code(), denied.err());
      assertTrue(denied.err().contains("refused to authenticate this client")
          && denied.err().contains("Authentication failed: Invalid username or password"), denied.err());
      assertTrue(seconds < 15, "no retrying until a timeout: took " + seconds + " s");
    }
  }
}
