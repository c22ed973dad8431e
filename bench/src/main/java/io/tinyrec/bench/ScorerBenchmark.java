package io.tinyrec.bench;

import io.tinyrec.model.Dlrm;
import io.tinyrec.model.ModelConfig;
import io.tinyrec.model.codec.SnapshotCodec;
import io.tinyrec.model.data.CriteoRow;
import io.tinyrec.model.synthetic.SyntheticCriteo;
import io.tinyrec.serving.Scorer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Serving's scorer on the kaggle preset (the model decoded from snapshot codec bytes, as serving
 * loads it), on one thread:
 * <ul>
 *   <li>{@code batchTsv}: a request body of {@code rows} raw TSV lines (no label column) parsed and
 *       scored by {@link Scorer#scoreTsv}, the batch API behind POST /score; rows/s = rows / (s per op);
 *   <li>{@code batchRows}: the same rows already parsed ({@link Scorer#score(List)});
 *   <li>{@code singleRow} and {@code singleTsvLine}: one row per call, in sample mode, so JMH
 *       reports the latency percentiles (p50, p99, p99.9) of single-row scoring.
 * </ul>
 * Rows cycle through 4096 synthetic rows, so lookups are not all cache hits.
 */
@State(Scope.Thread)
@Threads(1)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Djdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK=0"})
public class ScorerBenchmark {
  private static final int POOL = 4096;

  @Param({"1024"})
  public int rows;

  /** Rows per forward pass inside the scorer; Scorer.BATCH unless set. */
  @Param({"0"})
  public int forwardRows;

  private Scorer scorer;
  private List<CriteoRow> pool;
  private String[] lines;
  private byte[][] bodies;
  private List<List<CriteoRow>> batches;
  private int next;

  @Setup(Level.Trial)
  public void setUp() {
    ModelConfig c = ModelConfig.preset("kaggle");
    Dlrm model = SnapshotCodec.decode(SnapshotCodec.encode(new Dlrm(c), false));
    scorer = forwardRows > 0 ? new Scorer(model, forwardRows) : new Scorer(model);
    SyntheticCriteo s = new SyntheticCriteo(1, -1);
    pool = new ArrayList<>(POOL);
    lines = new String[POOL];
    for (int i = 0; i < POOL; i++) {
      CriteoRow r = s.sample(i).row();
      pool.add(r);
      String tsv = r.toTsv();
      lines[i] = tsv.substring(tsv.indexOf('\t') + 1); // as a client sends it: no label
    }
    int n = POOL / rows;
    bodies = new byte[n][];
    batches = new ArrayList<>(n);
    for (int b = 0; b < n; b++) {
      StringBuilder sb = new StringBuilder(rows * 200);
      for (int i = b * rows; i < (b + 1) * rows; i++) {
        sb.append(lines[i]).append('\n');
      }
      bodies[b] = sb.toString().getBytes(StandardCharsets.US_ASCII);
      batches.add(pool.subList(b * rows, (b + 1) * rows));
    }
  }

  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  public float batchTsv() {
    byte[] body = bodies[next++ % bodies.length];
    return scorer.scoreTsv(body, 0, body.length, "body")[0];
  }

  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  public float batchRows() {
    return scorer.score(batches.get(next++ % batches.size()))[0];
  }

  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  public float singleRow() {
    return scorer.score(pool.get(next++ & (POOL - 1)));
  }

  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  public float singleTsvLine() {
    return scorer.score(lines[next++ & (POOL - 1)]);
  }
}
