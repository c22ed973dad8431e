package io.tinyrec.model.nn;

import io.tinyrec.model.ModelConfig;

/**
 * An update rule. Implementations are stateless and thread-safe: the state they need
 * (Adagrad accumulators) lives beside the parameters it belongs to ({@link Param#state()},
 * {@link Embedding#blockState()}), so it is checkpointed and shipped with them.
 */
public sealed interface Optimizer permits Optimizer.Sgd, Optimizer.Adagrad {

  static Optimizer of(ModelConfig c) {
    return c.optimizer() == ModelConfig.OptimizerKind.SGD ? new Sgd() : new Adagrad(c.adagradEps());
  }

  /** Whether the rule keeps per-parameter state. */
  boolean hasState();

  /** Element-wise step over a dense parameter. */
  void stepInPlace(Param p, float lr);

  /**
   * Step over one embedding block: w[wOff .. wOff+len) with gradient g[gOff ..), and, for stateful
   * rules, the block's single accumulator state[block] (row-wise).
   */
  void blockStepInPlace(float[] w, int wOff, float[] g, int gOff, int len, float[] state, int block, float lr);

  /** Plain SGD: w -= lr * g. */
  record Sgd() implements Optimizer {
    @Override
    public boolean hasState() {
      return false;
    }

    @Override
    public void stepInPlace(Param p, float lr) {
      Kernels.sgdInPlace(p.value.length, p.value, p.grad, lr);
    }

    @Override
    public void blockStepInPlace(float[] w, int wOff, float[] g, int gOff, int len, float[] state, int block, float lr) {
      for (int i = 0; i < len; i++) {
        w[wOff + i] -= lr * g[gOff + i];
      }
    }
  }

  /**
   * Adagrad as PyTorch defines it (accumulator starts at 0, w -= lr * g / (sqrt(acc) + eps)).
   * Dense parameters keep one accumulator per element; embedding blocks keep one per block, which
   * grows by the mean of the squared gradients over the block (row-wise Adagrad).
   */
  record Adagrad(float eps) implements Optimizer {
    @Override
    public boolean hasState() {
      return true;
    }

    @Override
    public void stepInPlace(Param p, float lr) {
      if (p.state.length == 0) {
        p.state = new float[p.value.length];
      }
      Kernels.adagradInPlace(p.value.length, p.value, p.grad, p.state, lr, eps);
    }

    @Override
    public void blockStepInPlace(float[] w, int wOff, float[] g, int gOff, int len, float[] state, int block, float lr) {
      float sq = 0f;
      for (int i = 0; i < len; i++) {
        float gi = g[gOff + i];
        sq += gi * gi;
      }
      float acc = state[block] + sq / len;
      state[block] = acc;
      float scale = lr / ((float) Math.sqrt(acc) + eps);
      for (int i = 0; i < len; i++) {
        w[wOff + i] -= scale * g[gOff + i];
      }
    }
  }
}
