package io.tinyrec.bench;

import io.tinyrec.model.ModelConfig;
import io.tinyrec.model.nn.Embedding;
import io.tinyrec.model.nn.Optimizer;
import io.tinyrec.model.synthetic.SyntheticCriteo;
import java.util.SplittableRandom;
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
 * The embedding's share of a train step alone (kaggle preset, batch 128, Adagrad): lookup,
 * gradient accumulation and update, on a stream of distinct synthetic batches, for the float32
 * array and the quantized ones. What a train step pays for quantization is the difference.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Djdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK=0"})
public class EmbeddingStepBenchmark {
  @Param({"fp32", "int8"})
  public String precision;

  /** Floats per quantization group; 0: one per ROBE-Z block. */
  @Param({"0"})
  public int group;

  @Param({"0.05"})
  public float cache;

  @Param({"lfu"})
  public String policy;

  @Param({"4096"})
  public int pool;

  private Embedding embedding;
  private Optimizer optimizer;
  private long[][] cats;
  private float[] out;
  private float[] grad;
  private int next;

  @Setup(Level.Trial)
  public void setUp() {
    ModelConfig c = ModelConfig.preset("kaggle").withLearningRates(0.01f, 0.01f);
    if (!precision.equals("fp32")) {
      c = c.withQuantization(new ModelConfig.Quantization(ModelConfig.Precision.valueOf(precision.toUpperCase()), group,
          ModelConfig.ScaleDtype.FP16, cache, ModelConfig.CachePolicy.valueOf(policy.toUpperCase())));
    }
    embedding = Embedding.create(c, new SplittableRandom(1));
    optimizer = Optimizer.of(c);
    SyntheticCriteo s = new SyntheticCriteo(1, -1);
    cats = new long[pool][];
    for (int b = 0; b < pool; b++) {
      cats[b] = new long[128 * 26];
      for (int i = 0; i < 128; i++) {
        var row = s.sample(b * 128L + i).row();
        for (int t = 0; t < 26; t++) {
          cats[b][i * 26 + t] = row.categoryValue(t);
        }
      }
    }
    out = new float[128 * 26 * c.dim()];
    grad = new float[out.length];
    SplittableRandom r = new SplittableRandom(2);
    for (int i = 0; i < grad.length; i++) {
      grad[i] = (float) (r.nextGaussian() * 1e-3);
    }
  }

  @Benchmark
  public float step() {
    embedding.lookup(128, cats[next++ % pool], out);
    embedding.accumulateGradients(grad);
    embedding.applyUpdateInPlace(optimizer, 0.01f);
    return out[0];
  }
}
