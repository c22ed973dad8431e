package io.tinyrec.model.nn;

import io.tinyrec.model.ModelConfig;

/**
 * An update rule. Implementations are stateless and thread-safe: the state they need
 * (Adagrad accumulators) lives beside the parameters it belongs to ({@link Param#state()},
 * {@link Embedding#optimizerState()}), so it is checkpointed and shipped with them.
 */
public sealed interface Optimizer permits Optimizer.Sgd, Optimizer.Adagrad {

  static Optimizer of(ModelConfig c) {
    return switch (c.optimizer()) {
      case SGD -> new Sgd();
      case ADAGRAD -> new Adagrad(c.adagradEps());
    };
  }

  /** Whether the rule keeps per-parameter state. */
  boolean hasState();

  /** Element-wise step over a dense parameter. */
  void stepInPlace(Param p, float lr);

  /**
   * Step over one embedding block w[off .. off+len) with gradient g[off ..), sharing the single
   * accumulator state[block] (row-wise).
   */
  void rowStepInPlace(float[] w, float[] g, int off, int len, float[] state, int block, float lr);

  /**
   * Step over one embedding block w[off .. off+len) with gradient g[off ..), each float with its
   * own accumulator state[off + i] (element-wise): the dense rule applied to a slice.
   */
  void elementStepInPlace(float[] w, float[] g, float[] state, int off, int len, float lr);

  /**
   * {@link #elementStepInPlace(float[], float[], float[], int, int, float)} with each array at its
   * own offset (a cached line's weights and state, and the batch's gradient of that line); the
   * same arithmetic, so the same bits.
   */
  void elementStepInPlace(float[] w, int wOff, float[] g, int gOff, float[] state, int sOff, int len, float lr);

  /**
   * {@link #rowStepInPlace(float[], float[], int, int, float[], int, float)} with the weights and
   * the gradient at their own offsets; the same arithmetic, so the same bits.
   */
  void rowStepInPlace(float[] w, int wOff, float[] g, int gOff, int len, float[] state, int block, float lr);

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
    public void rowStepInPlace(float[] w, float[] g, int off, int len, float[] state, int block, float lr) {
      for (int i = off; i < off + len; i++) {
        w[i] -= lr * g[i];
      }
    }

    @Override
    public void elementStepInPlace(float[] w, float[] g, float[] state, int off, int len, float lr) {
      rowStepInPlace(w, g, off, len, state, 0, lr);
    }

    @Override
    public void elementStepInPlace(float[] w, int wOff, float[] g, int gOff, float[] state, int sOff, int len,
        float lr) {
      rowStepInPlace(w, wOff, g, gOff, len, state, 0, lr);
    }

    @Override
    public void rowStepInPlace(float[] w, int wOff, float[] g, int gOff, int len, float[] state, int block, float lr) {
      for (int i = 0; i < len; i++) {
        w[wOff + i] -= lr * g[gOff + i];
      }
    }
  }

  /**
   * Adagrad as PyTorch defines it (accumulator starts at 0, w -= lr * g / (sqrt(acc) + eps)).
   * Dense parameters keep one accumulator per element. The embedding keeps one per float as well
   * (element-wise, what torch.optim.Adagrad does to the peer's sparse ROBE array), or one per
   * block that grows by the mean of the squared gradients over the block (row-wise, as FBGEMM's
   * row-wise Adagrad).
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
    public void rowStepInPlace(float[] w, float[] g, int off, int len, float[] state, int block, float lr) {
      float sq = 0f;
      for (int i = off; i < off + len; i++) {
        float gi = g[i];
        sq += gi * gi;
      }
      float acc = state[block] + sq / len;
      state[block] = acc;
      float scale = lr / ((float) Math.sqrt(acc) + eps);
      for (int i = off; i < off + len; i++) {
        w[i] -= scale * g[i];
      }
    }

    @Override
    public void elementStepInPlace(float[] w, float[] g, float[] state, int off, int len, float lr) {
      Kernels.adagradInPlace(len, w, g, state, off, lr, eps);
    }

    @Override
    public void elementStepInPlace(float[] w, int wOff, float[] g, int gOff, float[] state, int sOff, int len,
        float lr) {
      Kernels.adagradInPlace(len, w, wOff, g, gOff, state, sOff, lr, eps);
    }

    @Override
    public void rowStepInPlace(float[] w, int wOff, float[] g, int gOff, int len, float[] state, int block, float lr) {
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
