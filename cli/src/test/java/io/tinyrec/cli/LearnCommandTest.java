package io.tinyrec.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyrec.model.codec.SnapshotCodec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LearnCommandTest {
  static CliRun run(String... args) {
    return CliRun.of(args);
  }

  @Test
  void generateThenLearnShouldPrintOneJsonLineWithEveryField(@TempDir Path dir) throws Exception {
    Path data = dir.resolve("syn.tsv.gz");
    CliRun gen = run("generate", "--rows", "3000", "--seed", "3", "--out", data.toString());
    assertEquals(0, gen.code(), gen.err());
    assertTrue(gen.err().contains("teacher (best achievable): auc"), gen.err());
    Files.writeString(dir.resolve("bad.tsv"), "1\tnot\ta\trow\n");
    Path snap = dir.resolve("m.trsn");
    CliRun learn = run("learn", "--input", data.toString(), dir.resolve("bad.tsv").toString(), "--preset", "small",
        "--batch", "64", "--json", "--save-snapshot", snap.toString());
    assertEquals(0, learn.code(), learn.err());
    String json = learn.out().trim();
    for (String key : new String[] {"rows", "auc", "logloss", "ne", "calibration", "rows_per_s", "wall_rows_per_s",
        "seconds", "model_bytes", "skipped_lines"}) {
      assertTrue(json.contains("\"" + key + "\":"), key + " missing from " + json);
    }
    assertTrue(json.contains("\"rows\":3000,"), json);
    assertTrue(json.contains("\"skipped_lines\":1,"), json);
    assertTrue(learn.err().contains("bad.tsv:1"), learn.err());
    assertEquals(3000, SnapshotCodec.readHeader(Files.readAllBytes(snap)).rowsTrained());
  }

  @Test
  void jitWarmUpShouldLeaveTheRealModelBitIdenticalAndCountInWallTime(@TempDir Path dir) throws Exception {
    Path data = dir.resolve("syn.tsv");
    assertEquals(0, run("generate", "--rows", "3000", "--seed", "5", "--out", data.toString()).code());
    // Each run in a fresh JVM, so the one without warm-up really starts in the interpreter.
    String warm = learnInFreshJvm(data, dir.resolve("warm.trsn"));
    String cold = learnInFreshJvm(data, dir.resolve("cold.trsn"), "--no-warmup");
    assertArrayEquals(Files.readAllBytes(dir.resolve("cold.trsn")), Files.readAllBytes(dir.resolve("warm.trsn")));
    for (String key : new String[] {"rows", "auc", "logloss", "calibration", "window_auc"}) {
      assertEquals(field(cold, key), field(warm, key), key);
    }
    double warmup = Double.parseDouble(field(warm, "warmup_seconds"));
    assertTrue(warmup > 0 && warmup < 30, warm); // 2 s cap plus one step; generous for a loaded machine
    assertEquals(0.0, Double.parseDouble(field(cold, "warmup_seconds")), cold);
    assertTrue(Double.parseDouble(field(warm, "wall_seconds")) > warmup, warm);
    assertEquals(3000 / Double.parseDouble(field(warm, "wall_seconds")),
        Double.parseDouble(field(warm, "wall_rows_per_s")), 0.5, warm);
  }

  private static String learnInFreshJvm(Path data, Path snapshot, String... extra) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--add-modules=jdk.incubator.vector", "-Xmx1g", "-cp", System.getProperty("java.class.path"),
        "io.tinyrec.cli.Tinyrec", "learn", "--input", data.toString(), "--json", "--save-snapshot",
        snapshot.toString(), "--with-optimizer-state"));
    cmd.addAll(List.of(extra));
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertTrue(p.waitFor(5, TimeUnit.MINUTES), "learn did not finish");
    assertEquals(0, p.exitValue(), out);
    return out;
  }

  private static String field(String json, String key) {
    Matcher m = Pattern.compile("\"" + key + "\":([^,}]+)").matcher(json);
    assertTrue(m.find(), key + " missing from " + json);
    return m.group(1);
  }

  @Test
  void strictModeShouldFailNamingTheLine(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("bad.tsv"), "1\tnot\ta\trow\n");
    CliRun r = run("learn", "--input", dir.resolve("bad.tsv").toString(), "--preset", "small", "--strict");
    assertEquals(1, r.code());
    assertTrue(r.err().contains("bad.tsv:1"), r.err());
  }

  @Test
  void badFlagsAndValuesShouldExitTwoWithAClearMessage(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("x.tsv");
    Files.writeString(f, "");
    CliRun unknown = run("learn", "--input", f.toString(), "--frobnicate");
    assertEquals(2, unknown.code());
    assertTrue(unknown.err().contains("Unknown option: '--frobnicate'"), unknown.err());
    CliRun badValue = run("learn", "--input", f.toString(), "--robe-z", "5");
    assertEquals(2, badValue.code());
    assertTrue(badValue.err().contains("--robe-z must divide --dim=16, got 5"), badValue.err());
    CliRun badEnum = run("learn", "--input", f.toString(), "--optimizer", "adam");
    assertEquals(2, badEnum.code());
    assertTrue(badEnum.err().contains("--optimizer must be one of sgd, adagrad, got 'adam'"), badEnum.err());
    CliRun missing = run("learn", "--input", dir.resolve("nope.tsv").toString());
    assertEquals(2, missing.code());
    assertTrue(missing.err().contains("does not exist"), missing.err());
  }

  @Test
  void helpShouldListEverySubcommand() {
    CliRun r = run("--help");
    assertEquals(0, r.code());
    assertTrue(r.out().contains("generate") && r.out().contains("learn"), r.out());
    CliRun sub = run("learn", "--help");
    assertEquals(0, sub.code());
    assertTrue(sub.out().contains("--robe-size"), sub.out());
  }

  @Test
  void modelFlagsShouldResolveAgainstThePresetWithElementwiseEmbeddingAdagradByDefault() {
    ModelOptions robe = new ModelOptions();
    robe.preset = "kaggle";
    robe.compression = "1000x";
    io.tinyrec.model.ModelConfig c = robe.toConfig();
    assertEquals(io.tinyrec.model.ModelConfig.EmbeddingAdagrad.ELEMENTWISE, c.embeddingAdagrad());
    assertEquals(io.tinyrec.model.CriteoTableSizes.KAGGLE.robeSizeFor(1000, 16, 16), c.robeSize());
    ModelOptions hash = new ModelOptions();
    hash.preset = "kaggle";
    hash.embedding = "hash";
    hash.lr = 0.01f;
    hash.lrEmbedding = 0.05f;
    io.tinyrec.model.ModelConfig h = hash.toConfig();
    assertEquals(io.tinyrec.model.ModelConfig.EmbeddingAdagrad.ELEMENTWISE, h.embeddingAdagrad());
    assertEquals(0.01f, h.lrDense());
    assertEquals(0.05f, h.lrEmbedding());
    ModelOptions rowwise = new ModelOptions();
    rowwise.preset = "kaggle";
    rowwise.embeddingAdagrad = "rowwise";
    assertEquals(io.tinyrec.model.ModelConfig.EmbeddingAdagrad.ROWWISE, rowwise.toConfig().embeddingAdagrad());
  }
}
