package io.tinyrec.bench;

import io.tinyrec.model.Batch;
import io.tinyrec.model.Dlrm;
import io.tinyrec.model.ModelConfig;
import io.tinyrec.model.synthetic.SyntheticCriteo;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * The model's two hot paths on the kaggle preset at batch 128: a train step (score, backward,
 * update) and a score step (forward only). Each invocation processes one batch of 128 rows drawn
 * from a pool of {@code pool} pre-built synthetic batches (64 by default), so rows/s = 128 / (seconds
 * per op). {@code precision} stores the ROBE-Z array as fp32, or int8/int4 with the default group,
 * scales and 5% FP32 cache; a larger pool makes the cache see a stream rather than 64 batches again
 * and again.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Djdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK=0"})
public class DlrmStepBenchmark {
  @Param({"robe", "hash"})
  public String embedding;

  @Param({"sgd", "adagrad"})
  public String optimizer;

  @Param({"fp32"})
  public String precision;

  @Param({"64"})
  public int pool;

  /** A Criteo TSV file whose rows make the batches instead of generated ones (all of them; pool is then ignored). */
  @Param({""})
  public String input;

  private Dlrm model;
  private Batch[] batches;
  private float[] scores;
  private int next;

  @Setup(Level.Trial)
  public void setUp() {
    ModelConfig c = ModelConfig.preset("kaggle")
        .withEmbedding(ModelConfig.EmbeddingKind.valueOf(embedding.toUpperCase()))
        .withOptimizer(ModelConfig.OptimizerKind.valueOf(optimizer.toUpperCase()))
        .withLearningRates(0.01f, 0.01f);
    if (!precision.equals("fp32")) {
      c = c.withQuantization(ModelConfig.Quantization.of(ModelConfig.Precision.valueOf(precision.toUpperCase())));
    }
    model = new Dlrm(c);
    if (!input.isEmpty()) {
      batches = fileBatches(input);
      pool = batches.length;
    } else {
      SyntheticCriteo s = new SyntheticCriteo(1, -1);
      batches = new Batch[pool];
      for (int b = 0; b < batches.length; b++) {
        batches[b] = new Batch(128);
        for (int i = 0; i < 128; i++) {
          batches[b].add(s.sample(b * 128L + i).row());
        }
      }
    }
    scores = new float[128];
  }

  private static Batch[] fileBatches(String file) {
    java.util.List<Batch> out = new java.util.ArrayList<>();
    try (io.tinyrec.model.data.CriteoReader r = new io.tinyrec.model.data.CriteoReader(
        java.util.List.of(java.nio.file.Path.of(file)), io.tinyrec.model.data.CriteoReader.OnMalformed.SKIP, e -> {})) {
      Batch b = new Batch(128);
      io.tinyrec.model.data.CriteoRow row;
      while ((row = r.next()) != null) {
        b.add(row);
        if (b.isFull()) {
          out.add(b);
          b = new Batch(128);
        }
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return out.toArray(new Batch[0]);
  }

  @Benchmark
  public float trainStep() {
    Batch b = batches[next++ % pool];
    model.trainStepInPlace(b, scores);
    return scores[0];
  }

  @Benchmark
  public float scoreStep() {
    Batch b = batches[next++ % pool];
    model.score(b, scores);
    return scores[0];
  }
}
