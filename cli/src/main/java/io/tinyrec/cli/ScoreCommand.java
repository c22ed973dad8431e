package io.tinyrec.cli;

import io.tinyrec.model.data.CriteoReader;
import io.tinyrec.model.data.CriteoRow;
import io.tinyrec.serving.BadSnapshotException;
import io.tinyrec.serving.Scorer;
import io.tinyrec.serving.SnapshotDecoder;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
    // Serving's decoder: codec bytes or a ModelSnapshot value, with the checksum and config checked.
    Scorer scorer;
    try {
      scorer = SnapshotDecoder.fromFile(snapshot, "score").scorer();
    } catch (BadSnapshotException e) {
      throw new IllegalStateException("bad snapshot (" + e.reason().label() + ") in --snapshot: " + e.getMessage());
    }
    List<CriteoRow> rows = new ArrayList<>(CHUNK);
    long n = 0;
    try (CriteoReader reader = new CriteoReader(input, CriteoReader.OnMalformed.FAIL, e -> {}, true);
        PrintWriter w = new PrintWriter(System.out)) {
      while (true) {
        CriteoRow row = limit > 0 && n >= limit ? null : reader.next();
        if (row != null) {
          rows.add(row);
          n++;
        }
        if (rows.size() == CHUNK || (row == null && !rows.isEmpty())) {
          for (float p : scorer.score(rows)) {
            w.println(p);
          }
          rows.clear();
        }
        if (row == null) {
          break;
        }
      }
    }
    return 0;
  }

  private static final int CHUNK = 256;
}
