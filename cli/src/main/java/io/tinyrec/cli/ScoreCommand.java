package io.tinyrec.cli;

import io.tinyrec.model.Batch;
import io.tinyrec.model.Dlrm;
import io.tinyrec.model.codec.SnapshotCodec;
import io.tinyrec.model.data.CriteoReader;
import io.tinyrec.model.codec.SnapshotFormatException;
import io.tinyrec.model.data.CriteoRow;
import io.tinyrec.schemas.ModelSnapshot;
import io.tinyrec.schemas.SingleObjectCodec;
import io.tinyrec.schemas.UndecodableRecordException;
import java.nio.ByteBuffer;
import java.util.zip.CRC32;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "score", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Scores Criteo rows with a snapshot: the codec bytes of docs/snapshot-format.md (as written by "
        + "learn --save-snapshot), or a whole ModelSnapshot record value off the models topic (as "
        + "tools/latest_snapshot.py saves it). Rows may leave out the label column (39 fields). Prints one click "
        + "probability per line, in row order.",
    footer = {"", "Example:", "  ./tinyrec score --snapshot model.trsn --input runs/synthetic.tsv --limit 1000"})
public final class ScoreCommand implements Callable<Integer> {
  @Option(names = "--snapshot", required = true, description = "Snapshot file.")
  Path snapshot;

  @Option(names = "--input", required = true, arity = "1..*", description = "Criteo TSV files, plain or .gz.")
  List<Path> input;

  @Option(names = "--limit", defaultValue = "0", description = "Stop after this many rows (default 0: all).")
  long limit;

  @Override
  public Integer call() throws Exception {
    if (!Files.isReadable(snapshot)) {
      throw new IllegalArgumentException("--snapshot " + snapshot + " cannot be read");
    }
    Dlrm model = load(Files.readAllBytes(snapshot));
    Batch batch = new Batch(256);
    float[] out = new float[256];
    long n = 0;
    try (CriteoReader reader = new CriteoReader(input, CriteoReader.OnMalformed.FAIL, e -> {}, true);
        PrintWriter w = new PrintWriter(System.out)) {
      while (true) {
        CriteoRow row = limit > 0 && n >= limit ? null : reader.next();
        if (row != null) {
          batch.add(row);
          n++;
        }
        if (batch.isFull() || (row == null && batch.size() > 0)) {
          model.score(batch, out);
          for (int i = 0; i < batch.size(); i++) {
            w.println(out[i]);
          }
          batch.clear();
        }
        if (row == null) {
          break;
        }
      }
    }
    return 0;
  }

  /** The model in a snapshot file: codec bytes, or a ModelSnapshot value whose checksum must match its codec. */
  private Dlrm load(byte[] bytes) {
    byte[] codec = bytes;
    if (bytes.length >= 2 && bytes[0] == SingleObjectCodec.MARKER_0 && bytes[1] == SingleObjectCodec.MARKER_1) {
      ModelSnapshot s;
      try {
        s = SingleObjectCodec.of(ModelSnapshot.class).decode(bytes);
      } catch (UndecodableRecordException e) {
        throw new IllegalStateException("--snapshot " + snapshot + " starts like a ModelSnapshot record but does not "
            + "decode: " + e.getMessage(), e);
      }
      ByteBuffer b = s.getCodec();
      codec = new byte[b.remaining()];
      b.duplicate().get(codec);
      CRC32 crc = new CRC32();
      crc.update(codec);
      if (crc.getValue() != s.getChecksum()) {
        throw new IllegalStateException("--snapshot " + snapshot + ": the ModelSnapshot's checksum "
            + Long.toHexString(s.getChecksum()) + " does not match its codec bytes (" + Long.toHexString(crc.getValue())
            + ")");
      }
    }
    try {
      return SnapshotCodec.decode(codec);
    } catch (SnapshotFormatException e) {
      throw new IllegalStateException("--snapshot " + snapshot + ": the codec bytes do not decode: "
          + e.getMessage(), e);
    }
  }
}
