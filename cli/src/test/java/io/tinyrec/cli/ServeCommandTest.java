package io.tinyrec.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyrec.model.Dlrm;
import io.tinyrec.model.ModelConfig;
import io.tinyrec.model.codec.SnapshotCodec;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Flags of serve and snapshot inspect: help, exit code 2 with a message for bad values, inspect of files. */
class ServeCommandTest {
  private static void assertUsageError(String expected, String... args) {
    CliRun r = CliRun.of(args);
    assertEquals(2, r.code(), String.join(" ", args) + " -> " + r.err());
    assertTrue(r.err().contains(expected), "expected '" + expected + "' in: " + r.err());
  }

  @Test
  void shouldDescribeEveryFlagInHelp() {
    CliRun serve = CliRun.of("serve", "--help");
    assertEquals(0, serve.code());
    for (String flag : new String[] {"--bootstrap-servers", "--models-topic", "--model", "--port", "--bind",
        "--snapshot-file", "--threads", "--max-body-bytes", "--kafka-config"}) {
      assertTrue(serve.out().contains(flag), flag + " missing from serve --help");
    }
    CliRun inspect = CliRun.of("snapshot", "inspect", "--help");
    for (String flag : new String[] {"FILE", "--bootstrap-servers", "--models-topic", "--model", "--json"}) {
      assertTrue(inspect.out().contains(flag), flag + " missing from snapshot inspect --help");
    }
  }

  @Test
  void shouldRejectBadServeFlagsWithExitCode2(@TempDir Path dir) throws Exception {
    Path model = dir.resolve("m.trsn");
    Files.write(model, SnapshotCodec.encode(new Dlrm(ModelConfig.preset("small")), false));
    String file = model.toString();
    assertUsageError("give --bootstrap-servers HOST:PORT to follow the models topic, or --snapshot-file", "serve");
    assertUsageError("are alternatives", "serve", "--bootstrap-servers", "localhost:1", "--snapshot-file", file);
    assertUsageError("--snapshot-file " + dir.resolve("nope") + " cannot be read", "serve", "--snapshot-file",
        dir.resolve("nope").toString());
    assertUsageError("--port must be between 0 and 65535", "serve", "--snapshot-file", file, "--port", "70000");
    assertUsageError("--threads must be between 1 and 1024", "serve", "--snapshot-file", file, "--threads", "0");
    assertUsageError("--max-body-bytes must be at least 1024", "serve", "--snapshot-file", file,
        "--max-body-bytes", "10");
    assertUsageError("is not a size", "serve", "--snapshot-file", file, "--max-body-bytes", "lots");
    assertUsageError("--models-topic must not be blank", "serve", "--bootstrap-servers", "localhost:1",
        "--models-topic", " ");
    Path props = dir.resolve("client.properties");
    Files.writeString(props, "security.protocol=PLAINTEXT\n");
    assertUsageError("--kafka-config applies to --bootstrap-servers", "serve", "--snapshot-file", file,
        "--kafka-config", props.toString());
  }

  @Test
  void aSnapshotFileThatDoesNotDecodeFailsWithExitCode1AsInspectDoes(@TempDir Path dir) throws Exception {
    Path bad = dir.resolve("bad.trsn");
    Files.writeString(bad, "TRSN and then nothing useful");
    CliRun serve = CliRun.of("serve", "--snapshot-file", bad.toString());
    assertEquals(1, serve.code(), serve.err());
    assertTrue(serve.err().contains("bad snapshot") && serve.err().contains("file " + bad + ": the codec bytes do "
        + "not decode"), serve.err());
    CliRun inspect = CliRun.of("snapshot", "inspect", bad.toString());
    assertEquals(1, inspect.code(), inspect.err());
  }

  @Test
  void inspectShouldPrintAFilesMetadataOrSayWhyItIsBad(@TempDir Path dir) throws Exception {
    Dlrm m = new Dlrm(ModelConfig.preset("small"));
    m.setCounters(1234, 0);
    Path model = dir.resolve("m.trsn");
    Files.write(model, SnapshotCodec.encode(m, true));
    CliRun r = CliRun.of("snapshot", "inspect", model.toString());
    assertEquals(0, r.code(), r.err());
    for (String want : new String[] {"model           tinyrec", "version         0", "events trained  1,234",
        "format version 1, with optimizer state", "config          dlrm(d=8", "source          file " + model}) {
      assertTrue(r.out().contains(want), want + " in:\n" + r.out());
    }
    CliRun j = CliRun.of("snapshot", "inspect", model.toString(), "--json", "--model", "ctr");
    assertEquals(0, j.code(), j.err());
    assertTrue(j.out().startsWith("{\"model\":\"ctr\",\"version\":0,"), j.out());
    assertTrue(j.out().contains("\"eventsTrained\":1234"), j.out());

    byte[] bytes = Files.readAllBytes(model);
    bytes[bytes.length / 2] ^= 1;
    Path corrupt = dir.resolve("corrupt.trsn");
    Files.write(corrupt, bytes);
    CliRun c = CliRun.of("snapshot", "inspect", corrupt.toString());
    assertEquals(1, c.code(), c.out());
    assertTrue(c.err().contains("bad snapshot (format)") && c.err().contains("checksum mismatch"), c.err());

    assertUsageError("give a snapshot FILE, or --bootstrap-servers", "snapshot", "inspect");
    assertUsageError("not both", "snapshot", "inspect", model.toString(), "--bootstrap-servers", "localhost:1");
    assertUsageError("tinyrec snapshot inspect: snapshot file", "snapshot", "inspect", dir.resolve("x").toString());
  }
}
