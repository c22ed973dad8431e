package io.tinyrec.model.nn;

import io.tinyrec.model.ModelConfig;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * ROBE-Z embedding (Desai and Shrivastava, "Random Offset Block Embedding (ROBE) for compressed
 * embedding tables in deep learning recommendation systems", arXiv 2207.10731). All 26 features
 * share one array W of M floats. Element j of the embedding of value v of feature t is
 * {@code W[h(key(t, v), j / Z) mod (M - Z + 1) + j mod Z]} with key(t, v) = v * 32 + t and the
 * universal hash h(x, c) = (A * (x mod P) + B * c + C) mod P, P = 2038074743. A, B and C are drawn
 * from the model seed. Blocks of Z elements are contiguous; colliding entries share parameters.
 */
public final class RobeEmbedding extends FloatEmbedding {
  public static final long P = 2038074743L;
  private final long a;
  private final long b;
  private final long c;
  private final int range;

  RobeEmbedding(int dim, int size, int z, boolean elementwiseState, long seed, RandomGenerator init) {
    super(dim, z, size, z, elementwiseState);
    long[] abc = hashParameters(seed);
    this.a = abc[0];
    this.b = abc[1];
    this.c = abc[2];
    this.range = size - z + 1;
    for (int i = 0; i < weights.length; i++) {
      weights[i] = (float) (init.nextDouble() * 0.02 - 0.01);
    }
  }

  /** The hash parameters A, B, C in [1, P) for a model seed; the snapshot format documents the draw. */
  public static long[] hashParameters(long seed) {
    SplittableRandom r = new SplittableRandom(seed ^ 0x524F42455A484153L); // "ROBEZHAS"
    return new long[] {r.nextLong(1, P), r.nextLong(1, P), r.nextLong(1, P)};
  }

  /** The hashed key of value v of feature t; v is a 32-bit value or the missing marker 2^32. */
  public static long key(int t, long v) {
    return v * 32 + t;
  }

  @Override
  public int address(int t, long v, int chunk) {
    long h = (a * (key(t, v) % P) + b * chunk + c) % P;
    return (int) (h % range);
  }

}
