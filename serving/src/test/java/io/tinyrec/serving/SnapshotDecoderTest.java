package io.tinyrec.serving;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyrec.model.Dlrm;
import io.tinyrec.model.codec.SnapshotCodec;
import io.tinyrec.model.data.CriteoRow;
import io.tinyrec.schemas.ModelSnapshot;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotDecoderTest {
  static final Dlrm MODEL = TestSnapshots.trained(2, 1000);
  static final List<CriteoRow> ROWS = TestSnapshots.rows(2, 9000, 50);

  static BadSnapshotException refused(byte[] value, String expected) {
    return assertThrows(BadSnapshotException.class, () -> SnapshotDecoder.fromRecord(value, expected, "topic m partition 0 offset 9"));
  }

  @Test
  void shouldLoadAGoodRecordWithItsMetadataAndTheTrainersScores() throws Exception {
    ServedModel m = SnapshotDecoder.fromRecord(TestSnapshots.value("ctr", 5, MODEL), "ctr", "topic m partition 0 offset 9");
    assertEquals("ctr", m.info().modelName());
    assertEquals(5, m.info().version());
    assertEquals(MODEL.rowsTrained(), m.info().eventsTrained());
    assertEquals(MODEL.config(), m.info().config());
    assertEquals("topic m partition 0 offset 9", m.info().source());
    assertEquals(0.7, m.info().metrics().auc());
    assertArrayEquals(TestSnapshots.reference(MODEL, ROWS), m.scorer().score(ROWS), 1e-6f);
  }

  @Test
  void shouldRefuseEachKindOfBadSnapshotWithItsReasonAndSource() {
    ModelSnapshot good = TestSnapshots.snapshot("ctr", 5, MODEL);

    BadSnapshotException e = refused("garbage".getBytes(), "ctr");
    assertEquals(BadSnapshotException.Reason.UNDECODABLE, e.reason());
    assertTrue(e.getMessage().startsWith("topic m partition 0 offset 9: not a ModelSnapshot"), e.getMessage());
    byte[] truncated = TestSnapshots.value(good);
    assertEquals(BadSnapshotException.Reason.UNDECODABLE,
        refused(java.util.Arrays.copyOf(truncated, truncated.length - 100), "ctr").reason());

    assertEquals(BadSnapshotException.Reason.WRONG_MODEL, refused(TestSnapshots.value(good), "other").reason());
    assertEquals(BadSnapshotException.Reason.TOMBSTONE, refused(null, "ctr").reason());

    ModelSnapshot badSum = ModelSnapshot.newBuilder(good).setChecksum(good.getChecksum() ^ 1).build();
    e = refused(TestSnapshots.value(badSum), "ctr");
    assertEquals(BadSnapshotException.Reason.CHECKSUM, e.reason());
    assertTrue(e.getMessage().contains("model 'ctr' version 5: checksum mismatch"), e.getMessage());

    // Codec bytes that match the record's checksum but not their own: corrupted before publishing.
    byte[] codec = SnapshotCodec.encode(MODEL, false);
    codec[200] ^= 0x40;
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update(codec);
    ModelSnapshot badCodec = ModelSnapshot.newBuilder(good).setCodec(ByteBuffer.wrap(codec)).setChecksum(crc.getValue())
        .build();
    e = refused(TestSnapshots.value(badCodec), "ctr");
    assertEquals(BadSnapshotException.Reason.FORMAT, e.reason());
    assertTrue(e.getMessage().contains("the codec bytes do not decode: snapshot checksum mismatch"), e.getMessage());

    Map<String, String> config = new HashMap<>(good.getConfig());
    config.put("dim", "16");
    e = refused(TestSnapshots.value(ModelSnapshot.newBuilder(good).setConfig(config).build()), "ctr");
    assertEquals(BadSnapshotException.Reason.CONFIG_MISMATCH, e.reason());
    assertTrue(e.getMessage().contains("dim is 16 in the map but 8 in the codec"), e.getMessage());
    // Keys the codec does not know (batch, learners) are the job's business.
    config = new HashMap<>(good.getConfig());
    config.put("learners", "4");
    config.remove("seed");
    assertEquals(5, assertDoesNotThrow(ModelSnapshot.newBuilder(good).setConfig(config).build()).info().version());
  }

  /**
   * A quantized model's snapshot as the merger publishes it (weights only, so without the FP32
   * cache): its config map carries the quantization keys, agrees with the codec, and is served with
   * the scores of the model the codec decodes to; a map disagreeing on a quantization key is refused.
   */
  @Test
  void shouldServeAQuantizedSnapshotAndCheckItsQuantizationKeys() throws Exception {
    io.tinyrec.model.ModelConfig c = TestSnapshots.SMALL.withQuantization(
        io.tinyrec.model.ModelConfig.Quantization.of(io.tinyrec.model.ModelConfig.Precision.INT8).withGroup(0));
    Dlrm q = new Dlrm(c);
    io.tinyrec.model.Batch b = new io.tinyrec.model.Batch(64);
    List<CriteoRow> train = TestSnapshots.rows(3, 0, 640);
    for (int i = 0; i < train.size(); i += 64) {
      b.clear();
      train.subList(i, i + 64).forEach(b::add);
      q.trainStepInPlace(b, null);
    }
    ModelSnapshot good = TestSnapshots.snapshot("ctr", 3, q);
    assertEquals("int8", good.getConfig().get("precision"));
    assertEquals(Integer.toString(c.robeZ()), good.getConfig().get("quant_group"));
    assertEquals("fp16", good.getConfig().get("quant_scale"));
    assertEquals("lfu", good.getConfig().get("cache_policy"));
    ServedModel m = SnapshotDecoder.fromRecord(TestSnapshots.value(good), "ctr", "t");
    assertEquals(c, m.info().config());
    Dlrm decoded = SnapshotCodec.decode(SnapshotCodec.encode(q, false));
    assertArrayEquals(TestSnapshots.reference(decoded, ROWS), m.scorer().score(ROWS), 1e-6f);
    // The served scores are the trained model's up to the rounding of its cached lines into codes.
    assertArrayEquals(TestSnapshots.reference(q, ROWS), m.scorer().score(ROWS), 0.05f);

    Map<String, String> config = new HashMap<>(good.getConfig());
    config.put("precision", "int4");
    BadSnapshotException e = refused(TestSnapshots.value(ModelSnapshot.newBuilder(good).setConfig(config).build()),
        "ctr");
    assertEquals(BadSnapshotException.Reason.CONFIG_MISMATCH, e.reason());
    assertTrue(e.getMessage().contains("precision is int4 in the map but int8 in the codec"), e.getMessage());
  }

  static ServedModel assertDoesNotThrow(ModelSnapshot s) {
    return org.junit.jupiter.api.Assertions.assertDoesNotThrow(() -> SnapshotDecoder.fromRecord(TestSnapshots.value(s), "ctr", "t"));
  }

  @Test
  void shouldLoadBareCodecFilesAndRecordFilesAndRefuseOthers(@TempDir Path dir) throws Exception {
    Path trsn = dir.resolve("model.trsn");
    Files.write(trsn, SnapshotCodec.encode(MODEL, true));
    ServedModel bare = SnapshotDecoder.fromFile(trsn, "local");
    assertEquals("local", bare.info().modelName());
    assertEquals(0, bare.info().version());
    assertEquals(MODEL.rowsTrained(), bare.info().eventsTrained());
    assertEquals("file " + trsn, bare.info().source());
    assertArrayEquals(TestSnapshots.reference(MODEL, ROWS), bare.scorer().score(ROWS), 1e-6f);

    Path record = dir.resolve("snapshot.avro");
    Files.write(record, TestSnapshots.value("ctr", 9, MODEL));
    ServedModel fromRecord = SnapshotDecoder.fromFile(record, "ignored");
    assertEquals("ctr", fromRecord.info().modelName());
    assertEquals(9, fromRecord.info().version());

    Path other = dir.resolve("rows.tsv");
    Files.writeString(other, ROWS.get(0).toTsv());
    BadSnapshotException e = assertThrows(BadSnapshotException.class, () -> SnapshotDecoder.fromFile(other, "x"));
    assertTrue(e.getMessage().contains("is neither a snapshot written by learn --save-snapshot"), e.getMessage());
    byte[] cut = SnapshotCodec.encode(MODEL, false);
    Files.write(other, java.util.Arrays.copyOf(cut, cut.length / 2));
    assertEquals(BadSnapshotException.Reason.FORMAT,
        assertThrows(BadSnapshotException.class, () -> SnapshotDecoder.fromFile(other, "x")).reason());
  }
}
