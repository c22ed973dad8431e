package io.tinyrec.model.nn;

import java.util.random.RandomGenerator;

/**
 * A fully connected layer y = act(x W + b) on a batch, with W stored as (in x out) so the forward
 * pass and the weight gradient are plain row-major products. The backward pass also needs W as
 * (out x in); that transposed copy is rebuilt once after each update, which costs one pass over
 * the weights against the batch x in x out multiply-adds of each product.
 *
 * <p>Initialisation: W ~ N(0, sqrt(2/(in+out))) as in the reference DLRM, and b = 0. The reference
 * draws b ~ N(0, sqrt(1/out)), which leaves some ReLU units of the 16-wide bottom output negative
 * for every input; embedding dimensions paired with such a dead unit barely learn, and progressive
 * AUC then swings with the seed (0.687 to 0.754 over four seeds on 200k synthetic rows). Zero
 * biases removed that spread (0.751 to 0.755); docs/benchmarks.md has the runs.
 * Not thread-safe.
 */
public final class Linear {
  private final int in;
  private final int out;
  private final int inPad;
  private final boolean relu;
  private final Param weight;
  private final Param bias;
  /** W transposed to (out x inPad), padded with zero columns; valid when !transposeStale. */
  private final float[] wT;
  private boolean transposeStale = true;

  public Linear(String name, int in, int out, boolean relu, RandomGenerator rng) {
    this.in = in;
    this.out = out;
    this.inPad = pad16(in);
    this.relu = relu;
    this.weight = new Param(name + ".weight", new int[] {in, out});
    this.bias = new Param(name + ".bias", new int[] {out});
    this.wT = new float[out * inPad];
    double wStd = Math.sqrt(2.0 / (in + out));
    // Draw in PyTorch's (out x in) order so the stream of draws reads like the reference.
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        weight.value[i * out + o] = (float) (rng.nextGaussian() * wStd);
      }
    }
  }

  /** Rounds a width up to a multiple of 16 floats, the vector width the kernels prefer. */
  public static int pad16(int n) {
    return (n + 15) & ~15;
  }

  public int in() {
    return in;
  }

  public int out() {
    return out;
  }

  public Param weight() {
    return weight;
  }

  public Param bias() {
    return bias;
  }

  /** y[b] = act(x[b] W + bias) for b < batch; x has row stride ldx, y row stride ldy. */
  public void forward(int batch, float[] x, int ldx, float[] y, int ldy) {
    Kernels.gemm(batch, out, in, x, 0, ldx, 1, weight.value, 0, out, y, 0, ldy, false);
    Kernels.addBiasInPlace(batch, out, y, ldy, bias.value, relu);
  }

  /**
   * Backward pass. dy holds dLoss/dy (post-activation) and is masked in place by the ReLU
   * derivative; the weight and bias gradients are overwritten; dx (row stride lddx) receives
   * dLoss/dx unless it is null (the first layer needs no input gradient).
   */
  public void backward(int batch, float[] x, int ldx, float[] y, float[] dy, int ldy, float[] dx, int lddx) {
    if (relu) {
      Kernels.reluMaskInPlace(batch, out, y, dy, ldy);
    }
    // dW (in x out) = x^T dy: A = x read transposed (row stride 1, column stride ldx).
    Kernels.gemm(in, out, batch, x, 0, 1, ldx, dy, 0, ldy, weight.grad, 0, out, false);
    Kernels.columnSums(batch, out, dy, ldy, bias.grad);
    if (dx != null) {
      refreshTranspose();
      // dx (batch x inPad) = dy (batch x out) * W^T (out x inPad); padded columns come out zero.
      Kernels.gemm(batch, Math.min(inPad, lddx), out, dy, 0, ldy, 1, wT, 0, inPad, dx, 0, lddx, false);
    }
  }

  /** Must be called after the weights change (an optimizer step or a restore). */
  public void weightsChangedInPlace() {
    transposeStale = true;
  }

  private void refreshTranspose() {
    if (!transposeStale) {
      return;
    }
    Kernels.transpose(in, out, weight.value, 0, out, wT, 0, inPad);
    transposeStale = false;
  }
}
