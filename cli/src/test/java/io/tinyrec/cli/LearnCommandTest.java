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
  void learnOnAnEmptyInputFailsAndSaysSo(@TempDir Path dir) throws Exception {
    Path empty = dir.resolve("empty.tsv");
    Files.writeString(empty, "");
    Path snap = dir.resolve("m.trsn");
    CliRun learn = run("learn", "--input", empty.toString(), "--preset", "small", "--save-snapshot", snap.toString());
    assertEquals(1, learn.code(), learn.err());
    assertTrue(learn.err().contains("no rows to learn from") && learn.err().contains("empty.tsv")
        && learn.err().contains("the input is empty"), learn.err());
    assertTrue(!Files.exists(snap), "no untrained snapshot is written");
    Files.writeString(empty, "1\tnot\ta\trow\n");
    learn = run("learn", "--input", empty.toString(), "--preset", "small");
    assertEquals(1, learn.code(), learn.err());
    assertTrue(learn.err().contains("1 malformed lines skipped"), learn.err());
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

  @Test
  void int8LearnShouldReportItsMemoryAndSaveASnapshotThatScores(@TempDir Path dir) throws Exception {
    Path data = dir.resolve("syn.tsv");
    assertEquals(0, run("generate", "--rows", "3000", "--seed", "4", "--out", data.toString()).code());
    Path snap = dir.resolve("int8.trsn");
    CliRun fp32 = run("learn", "--input", data.toString(), "--preset", "small", "--batch", "64", "--json",
        "--no-warmup");
    CliRun int8 = run("learn", "--input", data.toString(), "--preset", "small", "--batch", "64", "--json",
        "--no-warmup", "--precision", "int8", "--quant-group", "8", "--cache-fraction", "0.1", "--cache-policy", "lru",
        "--save-snapshot", snap.toString());
    assertEquals(0, int8.code(), int8.err());
    String json = int8.out().trim();
    for (String key : new String[] {"embedding_bytes", "embedding_state_bytes", "model_bytes", "quant_group",
        "cache_evictions"}) {
      assertTrue(json.contains("\"" + key + "\":"), key + " missing from " + json);
    }
    assertTrue(json.contains("\"precision\":\"int8\""), json);
    assertTrue(json.contains("\"quant_group\":8,"), json);
    assertTrue(json.contains("\"cache_policy\":\"lru\""), json);
    long q = Long.parseLong(field(json, "embedding_bytes"));
    long f = Long.parseLong(field(fp32.out().trim(), "embedding_bytes"));
    assertEquals(4L * 16384, f);
    assertTrue(3 * q < 2 * f, q + " bytes against fp32's " + f);
    assertEquals(2, SnapshotCodec.readHeader(Files.readAllBytes(snap)).formatVersion());
    CliRun scored = run("score", "--snapshot", snap.toString(), "--input", data.toString(), "--limit", "5");
    assertEquals(0, scored.code(), scored.err());
    assertEquals(5, scored.out().trim().lines().count());
  }

  @Test
  void quantizationFlagsShouldExitTwoWithAClearMessage(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("x.tsv");
    Files.writeString(f, "");
    String[][] cases = {
        {"--precision", "int9"}, {"--precision must be one of fp32, int8, int4, got 'int9'"},
        {"--precision", "int8", "--cache-fraction", "1.5"}, {"--cache-fraction must be between 0 and 1"},
        {"--precision", "int8", "--quant-group", "24"}, {"--quant-group must be a multiple or a divisor of --robe-z=16"},
        {"--precision", "int8", "--quant-group", "one"}, {"--quant-group must be 'block' or a group size"},
        {"--precision", "int4", "--embedding", "hash"}, {"hash tables stay fp32"},
        {"--cache-fraction", "0.1"}, {"apply to --precision int8 or int4"},
        {"--precision", "int8", "--cache-policy", "fifo"}, {"--cache-policy must be one of lfu, lru, got 'fifo'"},
    };
    for (int i = 0; i < cases.length; i += 2) {
      List<String> args = new ArrayList<>(List.of("learn", "--input", f.toString()));
      args.addAll(List.of(cases[i]));
      CliRun r = run(args.toArray(new String[0]));
      assertEquals(2, r.code(), String.join(" ", cases[i]) + ": " + r.err());
      assertTrue(r.err().contains(cases[i + 1][0]), String.join(" ", cases[i]) + ": " + r.err());
    }
    CliRun help = run("learn", "--help");
    for (String flag : new String[] {"--precision", "--quant-group", "--quant-scale", "--cache-fraction",
        "--cache-policy"}) {
      assertTrue(help.out().contains(flag), flag + " missing from learn --help");
    }
    assertTrue(run("train", "--help").out().contains("--cache-fraction"), "train takes the quantization flags");
  }

  /**
   * tools/score_snapshot.py decodes INT8 and INT4 snapshots from docs/snapshot-format.md alone and
   * scores as the JVM does (to 1e-6), with and without the FP32 cache. Skipped without python3 and numpy.
   */
  @Test
  void thePythonScorerShouldMatchJavaOnQuantizedSnapshots(@TempDir Path dir) throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(pythonWithNumpy(), "python3 with numpy is not available");
    Path data = dir.resolve("syn.tsv");
    assertEquals(0, run("generate", "--rows", "4000", "--seed", "6", "--out", data.toString()).code());
    List<String> rows = Files.readAllLines(data).subList(3000, 3200);
    Path tail = dir.resolve("tail.tsv");
    Files.write(tail, rows);
    String[][] variants = {
        {"--precision", "int8"},
        {"--precision", "int4", "--quant-scale", "fp32", "--cache-fraction", "0.01", "--quant-group", "16"},
        {"--precision", "int8", "--with-optimizer-state", "--cache-fraction", "0.2"},
    };
    for (String[] v : variants) {
      Path snap = dir.resolve("m.trsn");
      List<String> args = new ArrayList<>(List.of("learn", "--input", data.toString(), "--preset", "small",
          "--batch", "64", "--no-warmup", "--limit", "3000", "--save-snapshot", snap.toString()));
      args.addAll(List.of(v));
      CliRun learn = run(args.toArray(new String[0]));
      assertEquals(0, learn.code(), learn.err());
      CliRun scored = run("score", "--snapshot", snap.toString(), "--input", tail.toString());
      assertEquals(0, scored.code(), scored.err());
      List<String> scores = scored.out().trim().lines().toList();
      assertEquals(rows.size(), scores.size());
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < rows.size(); i++) {
        String row = rows.get(i);
        expected.add(scores.get(i) + "\t" + row.substring(row.indexOf('\t') + 1));
      }
      Path check = dir.resolve("expected.tsv");
      Files.write(check, expected);
      Process p = new ProcessBuilder("python3", Path.of("..", "tools", "score_snapshot.py").toString(),
          snap.toString(), check.toString()).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(p.waitFor(5, TimeUnit.MINUTES), "score_snapshot.py did not finish");
      assertEquals(0, p.exitValue(), String.join(" ", v) + ": " + out.lines().reduce((a, b) -> b).orElse(out));
    }
  }

  private static boolean pythonWithNumpy() {
    try {
      Process p = new ProcessBuilder("python3", "-c", "import numpy").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (Exception e) {
      return false;
    }
  }
}
