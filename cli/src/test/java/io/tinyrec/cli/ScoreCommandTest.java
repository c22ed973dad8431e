package io.tinyrec.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyrec.model.Batch;
import io.tinyrec.model.Dlrm;
import io.tinyrec.model.ModelConfig;
import io.tinyrec.model.codec.SnapshotCodec;
import io.tinyrec.model.data.CriteoRow;
import io.tinyrec.model.synthetic.SyntheticCriteo;
import io.tinyrec.schemas.ModelMetrics;
import io.tinyrec.schemas.ModelSnapshot;
import io.tinyrec.schemas.SingleObjectCodec;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScoreCommandTest {
  @Test
  void scoresRowsWithOrWithoutTheLabelFromCodecBytesOrAModelSnapshotValueAlike(@TempDir Path dir) throws Exception {
    Dlrm m = new Dlrm(ModelConfig.preset("small"));
    SyntheticCriteo gen = new SyntheticCriteo(8, -1);
    Batch b = new Batch(64);
    List<CriteoRow> rows = new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      CriteoRow r = gen.sample(i).row();
      rows.add(r);
      b.add(r);
    }
    m.trainStepInPlace(b, new float[64]);
    float[] expected = new float[64];
    m.score(b, expected);
    byte[] codec = SnapshotCodec.encode(m, false);
    Path codecFile = dir.resolve("m.trsn");
    Files.write(codecFile, codec);
    CRC32 crc = new CRC32();
    crc.update(codec);
    ModelMetrics none = ModelMetrics.newBuilder().setCount(0).setAuc(Double.NaN).setLogloss(Double.NaN)
        .setNe(Double.NaN).setCalibration(Double.NaN).build();
    ModelSnapshot s = ModelSnapshot.newBuilder().setModelName("ctr").setVersion(3).setEpoch(0).setCreatedAt(1)
        .setEventTimeWatermark(Long.MIN_VALUE).setEventsTrained(64).setConfig(Map.of())
        .setCodec(ByteBuffer.wrap(codec)).setChecksum(crc.getValue()).setMetrics(none).setWindowMetrics(none)
        .setMetricsWindow(100).build();
    Path recordFile = dir.resolve("m.avro");
    Files.write(recordFile, SingleObjectCodec.of(ModelSnapshot.class).encode(s));
    StringBuilder labelled = new StringBuilder();
    StringBuilder unlabelled = new StringBuilder();
    for (CriteoRow r : rows) {
      String line = r.toTsv();
      labelled.append(line).append('\n');
      unlabelled.append(line.substring(line.indexOf('\t') + 1)).append('\n');
    }
    Path withLabel = dir.resolve("rows.tsv");
    Path withoutLabel = dir.resolve("rows39.tsv");
    Files.writeString(withLabel, labelled);
    Files.writeString(withoutLabel, unlabelled);
    for (Path snapshot : new Path[] {codecFile, recordFile}) {
      for (Path input : new Path[] {withLabel, withoutLabel}) {
        CliRun run = CliRun.of("score", "--snapshot", snapshot.toString(), "--input", input.toString());
        assertEquals(0, run.code(), snapshot + " " + input + ": " + run.err());
        String[] lines = run.out().trim().split("\n");
        assertEquals(64, lines.length);
        for (int i = 0; i < 64; i++) {
          assertEquals(expected[i], Float.parseFloat(lines[i]), 0f, snapshot + " " + input + " row " + i);
        }
      }
    }
    Files.write(recordFile, SingleObjectCodec.of(ModelSnapshot.class).encode(
        ModelSnapshot.newBuilder(s).setChecksum(crc.getValue() ^ 1).build()));
    CliRun bad = CliRun.of("score", "--snapshot", recordFile.toString(), "--input", withLabel.toString());
    assertEquals(1, bad.code(), bad.err());
    assertTrue(bad.err().contains("checksum"), bad.err());
  }
}
