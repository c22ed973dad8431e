package io.tinyrec.model.nn;

import java.util.random.RandomGenerator;

/**
 * The classic hashing trick, as the uncompressed baseline: each of the 26 features has a table of R
 * rows and value v of feature t uses row (v mod R) of table t. Tables are stored back to back, so
 * row r of table t starts at ((t * R) + r) * d.
 */
public final class HashEmbedding extends FloatEmbedding {
  private final int rows;

  HashEmbedding(int dim, int rows, boolean elementwiseState, RandomGenerator init) {
    super(dim, dim, (long) rows * io.tinyrec.model.ModelConfig.NUM_SPARSE * dim, dim, elementwiseState);
    this.rows = rows;
    double bound = Math.sqrt(1.0 / rows);
    for (int i = 0; i < weights.length; i++) {
      weights[i] = (float) ((init.nextDouble() * 2 - 1) * bound);
    }
  }

  @Override
  public int address(int t, long v, int chunk) {
    return (int) (((long) t * rows + v % rows) * dim);
  }
}
