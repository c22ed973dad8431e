package io.tinyrec.cli;

import io.tinyrec.model.Batch;
import io.tinyrec.model.Dlrm;
import io.tinyrec.model.codec.SnapshotCodec;
import io.tinyrec.model.data.CriteoReader;
import io.tinyrec.model.data.CriteoRow;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "score", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Scores Criteo rows with a snapshot (the codec bytes of docs/snapshot-format.md, as written by "
        + "learn --save-snapshot or carried in a ModelSnapshot): one click probability per line, in row order.",
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
    Dlrm model = SnapshotCodec.decode(Files.readAllBytes(snapshot));
    Batch batch = new Batch(256);
    float[] out = new float[256];
    long n = 0;
    try (CriteoReader reader = new CriteoReader(input, CriteoReader.OnMalformed.FAIL, e -> {});
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
}
