package io.tinyrec.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyrec.model.codec.SnapshotCodec;
import java.nio.file.Files;
import java.nio.file.Path;
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
