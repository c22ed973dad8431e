package io.tinyrec.model.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyrec.model.Batch;
import io.tinyrec.model.Dlrm;
import io.tinyrec.model.ModelConfig;
import io.tinyrec.model.data.CriteoParser;
import io.tinyrec.model.synthetic.SyntheticCriteo;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class SnapshotCodecTest {
  static Dlrm trained(ModelConfig c, int rows) {
    Dlrm m = new Dlrm(c);
    SyntheticCriteo s = new SyntheticCriteo(8, -1);
    Batch b = new Batch(32);
    for (int i = 0; i < rows; i += 32) {
      b.clear();
      for (int j = i; j < i + 32; j++) {
        b.add(s.sample(j).row());
      }
      m.trainStepInPlace(b, null);
    }
    return m;
  }

  static float[] scores(Dlrm m, int from) {
    SyntheticCriteo s = new SyntheticCriteo(8, -1);
    Batch b = new Batch(50);
    for (int i = from; i < from + 50; i++) {
      b.add(s.sample(i).row());
    }
    float[] out = new float[50];
    m.score(b, out);
    return out;
  }

  @Test
  void roundTripShouldGiveIdenticalScoresForEveryEmbeddingAndOptimizer() {
    for (ModelConfig.EmbeddingKind e : ModelConfig.EmbeddingKind.values()) {
      for (ModelConfig.OptimizerKind o : ModelConfig.OptimizerKind.values()) {
       for (ModelConfig.EmbeddingAdagrad mode : ModelConfig.EmbeddingAdagrad.values()) {
        Dlrm m = trained(ModelConfig.preset("small").withEmbedding(e).withOptimizer(o).withEmbeddingAdagrad(mode), 640);
        for (boolean state : new boolean[] {false, true}) {
          byte[] bytes = SnapshotCodec.encode(m, state);
          Dlrm back = SnapshotCodec.decode(bytes);
          assertEquals(m.config(), back.config());
          assertEquals(m.rowsTrained(), back.rowsTrained());
          assertArrayEquals(scores(m, 10_000), scores(back, 10_000), e + "/" + o + "/" + mode + "/state=" + state);
          if (state && o == ModelConfig.OptimizerKind.ADAGRAD) {
            assertArrayEquals(m.embedding().optimizerState(), back.embedding().optimizerState());
          }
          SnapshotCodec.Header h = SnapshotCodec.readHeader(bytes);
          assertEquals(state, h.hasOptimizerState());
          assertEquals(640, h.rowsTrained());
        }
       }
      }
    }
  }

  @Test
  void trainingShouldResumeBitIdenticallyFromASnapshotWithOptimizerState() {
    ModelConfig c = ModelConfig.preset("small").withOptimizer(ModelConfig.OptimizerKind.ADAGRAD);
    Dlrm straight = trained(c, 640);
    Dlrm resumed = SnapshotCodec.decode(SnapshotCodec.encode(trained(c, 320), true));
    SyntheticCriteo s = new SyntheticCriteo(8, -1);
    Batch b = new Batch(32);
    for (int i = 320; i < 640; i += 32) {
      b.clear();
      for (int j = i; j < i + 32; j++) {
        b.add(s.sample(j).row());
      }
      resumed.trainStepInPlace(b, null);
    }
    assertArrayEquals(straight.embedding().weights(), resumed.embedding().weights());
    assertArrayEquals(straight.denseParams().get(0).value(), resumed.denseParams().get(0).value());
  }

  @Test
  void decoderShouldSayWhatIsWrong() {
    byte[] good = SnapshotCodec.encode(new Dlrm(ModelConfig.preset("small")), false);
    byte[] flipped = good.clone();
    flipped[good.length / 2] ^= 1;
    assertTrue(assertThrows(SnapshotFormatException.class, () -> SnapshotCodec.decode(flipped)).getMessage()
        .contains("checksum mismatch"));
    byte[] cut = Arrays.copyOf(good, good.length - 100);
    assertThrows(SnapshotFormatException.class, () -> SnapshotCodec.decode(cut));
    byte[] magic = good.clone();
    magic[0] = 'X';
    assertTrue(assertThrows(SnapshotFormatException.class, () -> SnapshotCodec.decode(magic)).getMessage()
        .contains("not a tinyrec snapshot"));
    byte[] version = good.clone();
    version[4] = 9;
    assertTrue(assertThrows(SnapshotFormatException.class, () -> SnapshotCodec.decode(version)).getMessage()
        .contains("format version 9 is not supported"));
    assertThrows(SnapshotFormatException.class, () -> SnapshotCodec.decode(new byte[3]));
  }

  @Test
  void decoderShouldNotTrustALengthItReads() {
    // A robe size far beyond the snapshot's bytes must be refused before anything is allocated.
    byte[] good = SnapshotCodec.encode(new Dlrm(ModelConfig.preset("small")), false);
    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(good).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    int robeSizeAt = 8 + 4 + 1 + 4 * 2 + 1 + 4 * 2 + 1 + 1;
    b.putInt(robeSizeAt, 1 << 30);
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update(good, 0, good.length - 4);
    b.putInt(good.length - 4, (int) crc.getValue());
    String msg = assertThrows(SnapshotFormatException.class, () -> SnapshotCodec.decode(good)).getMessage();
    assertTrue(msg.contains("needs at least"), msg);
  }

  @Test
  void goldenSnapshotFromFormatVersionOneShouldStillDecodeAndScore() throws IOException {
    byte[] golden;
    List<String> expected;
    try (InputStream in = getClass().getResourceAsStream("/golden/small-robe-adagrad-v1.trsn");
         InputStream rows = getClass().getResourceAsStream("/golden/small-robe-adagrad-v1.scores.tsv")) {
      golden = in.readAllBytes();
      expected = new String(rows.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
    }
    Dlrm m = SnapshotCodec.decode(golden);
    assertEquals(1, SnapshotCodec.readHeader(golden).formatVersion());
    assertEquals(10, expected.size());
    Batch b = new Batch(1);
    float[] out = new float[1];
    for (String line : expected) {
      int tab = line.indexOf('\t');
      float want = Float.parseFloat(line.substring(0, tab));
      b.clear();
      b.add(CriteoParser.parse(line.substring(tab + 1), "golden", 1, true));
      m.score(b, out);
      assertEquals(want, out[0], 1e-6f, line);
    }
  }
}
