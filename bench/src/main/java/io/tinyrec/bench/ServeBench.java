package io.tinyrec.bench;

import io.tinyrec.model.Dlrm;
import io.tinyrec.model.ModelConfig;
import io.tinyrec.model.codec.SnapshotCodec;
import io.tinyrec.model.synthetic.SyntheticCriteo;
import io.tinyrec.serving.Scorer;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/**
 * The scorer's two acceptance figures on the kaggle preset, on one thread, measured so that a
 * shared machine shows in the numbers rather than hides them:
 * <ul>
 *   <li>batch throughput: request bodies of 1024 raw TSV rows (no label) through
 *       {@link Scorer#scoreTsv}, in rounds of about a second; each round reports rows per second of
 *       wall time and rows per second of the thread's own CPU time (what one core does when the
 *       scheduler lets it run). The medians over the rounds are printed;
 *   <li>single-row latency: {@link Scorer#score(CharSequence)} on one TSV line at a time, each call
 *       timed on its own; percentiles of wall time over all calls.
 * </ul>
 * Run pinned to one core, after {@code uptime}, with the launcher's JVM flags: {@code taskset -c 1 java
 * --add-modules=jdk.incubator.vector -Djdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK=0 -cp
 * bench/target/benchmarks.jar io.tinyrec.bench.ServeBench [rounds]}. On a virtual machine the CPU
 * time does not show a physical core shared with other work; the wall-time rounds do, as spread.
 */
public final class ServeBench {
  private ServeBench() {}

  public static void main(String[] args) {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
    Scorer scorer = Scorer.fromCodec(SnapshotCodec.encode(new Dlrm(ModelConfig.preset("kaggle")), false));
    if (args.length > 1) {
      compareBatchSizes(rounds, args[1]);
      return;
    }
    SyntheticCriteo s = new SyntheticCriteo(1, -1);
    int pool = 4096;
    String[] lines = new String[pool];
    for (int i = 0; i < pool; i++) {
      String tsv = s.sample(i).row().toTsv();
      lines[i] = tsv.substring(tsv.indexOf('\t') + 1);
    }
    byte[][] bodies = new byte[pool / 1024][];
    for (int b = 0; b < bodies.length; b++) {
      StringBuilder sb = new StringBuilder();
      for (int i = b * 1024; i < (b + 1) * 1024; i++) {
        sb.append(lines[i]).append('\n');
      }
      bodies[b] = sb.toString().getBytes(StandardCharsets.US_ASCII);
    }
    ThreadMXBean cpu = ManagementFactory.getThreadMXBean();

    // Warm-up: both paths until C2 has compiled them.
    long warmEnd = System.nanoTime() + 10_000_000_000L;
    int k = 0;
    while (System.nanoTime() < warmEnd) {
      byte[] body = bodies[k++ % bodies.length];
      scorer.scoreTsv(body, 0, body.length, "body");
      for (int i = 0; i < 256; i++) {
        scorer.score(lines[(k * 256 + i) % pool]);
      }
    }

    double[] wallRate = new double[rounds];
    double[] cpuRate = new double[rounds];
    for (int r = 0; r < rounds; r++) {
      long rows = 0;
      long t0 = System.nanoTime();
      long c0 = cpu.getCurrentThreadCpuTime();
      while (System.nanoTime() - t0 < 1_000_000_000L) {
        byte[] body = bodies[k++ % bodies.length];
        rows += scorer.scoreTsv(body, 0, body.length, "body").length;
      }
      long wall = System.nanoTime() - t0;
      long used = cpu.getCurrentThreadCpuTime() - c0;
      wallRate[r] = rows * 1e9 / wall;
      cpuRate[r] = rows * 1e9 / used;
    }

    int calls = 200_000;
    long[] lat = new long[calls];
    long c0 = cpu.getCurrentThreadCpuTime();
    long t0 = System.nanoTime();
    for (int i = 0; i < calls; i++) {
      long a = System.nanoTime();
      scorer.score(lines[i & (pool - 1)]);
      lat[i] = System.nanoTime() - a;
    }
    long wall = System.nanoTime() - t0;
    long used = cpu.getCurrentThreadCpuTime() - c0;
    Arrays.sort(lat);

    System.out.printf(Locale.ROOT, "batch (scoreTsv, 1024-row bodies, %d rounds of 1 s): median %.0f rows/s wall, "
        + "%.0f rows/s of thread CPU time; wall per round %s%n", rounds, median(wallRate), median(cpuRate),
        Arrays.toString(Arrays.stream(wallRate).mapToLong(Math::round).toArray()));
    System.out.printf(Locale.ROOT, "single row (score(tsvLine), %d calls): p50 %.1f us, p99 %.1f us, p99.9 %.1f us, "
        + "max %.1f us; the thread ran %.0f%% of the wall time%n", calls, lat[calls / 2] / 1e3,
        lat[(int) (calls * 0.99)] / 1e3, lat[(int) (calls * 0.999)] / 1e3, lat[calls - 1] / 1e3, 100.0 * used / wall);
  }

  /**
   * Rows per forward pass A/B: the sizes (comma-separated) take turns round by round on one model,
   * so that the machine's moods fall on all of them alike; prints each one's median rows/s.
   */
  private static void compareBatchSizes(int rounds, String sizes) {
    Dlrm model = io.tinyrec.model.codec.SnapshotCodec.decode(
        SnapshotCodec.encode(new Dlrm(ModelConfig.preset("kaggle")), false));
    int[] b = Arrays.stream(sizes.split(",")).mapToInt(Integer::parseInt).toArray();
    Scorer[] scorers = new Scorer[b.length];
    for (int i = 0; i < b.length; i++) {
      scorers[i] = new Scorer(model, b[i]);
    }
    SyntheticCriteo s = new SyntheticCriteo(1, -1);
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 1024; i++) {
      String tsv = s.sample(i).row().toTsv();
      sb.append(tsv, tsv.indexOf('\t') + 1, tsv.length()).append('\n');
    }
    byte[] body = sb.toString().getBytes(StandardCharsets.US_ASCII);
    double[][] rate = new double[b.length][rounds];
    for (int r = -3; r < rounds; r++) { // three rounds of warm-up
      for (int i = 0; i < b.length; i++) {
        long rows = 0;
        long t0 = System.nanoTime();
        while (System.nanoTime() - t0 < 1_000_000_000L) {
          rows += scorers[i].scoreTsv(body, 0, body.length, "body").length;
        }
        if (r >= 0) {
          rate[i][r] = rows * 1e9 / (System.nanoTime() - t0);
        }
      }
    }
    for (int i = 0; i < b.length; i++) {
      System.out.printf(Locale.ROOT, "%d rows per forward pass: median %.0f rows/s over %d rounds%n", b[i],
          median(rate[i]), rounds);
    }
  }

  private static double median(double[] v) {
    double[] c = v.clone();
    Arrays.sort(c);
    return c[c.length / 2];
  }
}
