package io.tinyrec.model.nn;

import java.util.random.RandomGenerator;

/**
 * A stack of {@link Linear} layers. ReLU follows every layer except, when {@code lastLinear} is set,
 * the last one. Activations live in buffers the caller owns ({@link #newActivations}: one buffer
 * per layer boundary, each row padded to a multiple of 16 floats), so several threads can run
 * {@link #forward} on one Mlp at once, each with its own buffers, while nobody updates the
 * weights. The gradient buffers of {@link #backward} belong to the Mlp: training is single-threaded.
 */
public final class Mlp {
  private final Linear[] layers;
  private final int[] ld;
  private int capacity;
  private float[][] grads;

  public Mlp(String name, int in, int[] widths, boolean lastLinear, RandomGenerator rng) {
    layers = new Linear[widths.length];
    ld = new int[widths.length + 1];
    ld[0] = Linear.pad16(in);
    int prev = in;
    for (int l = 0; l < widths.length; l++) {
      boolean relu = !(lastLinear && l == widths.length - 1);
      layers[l] = new Linear(name + "." + l, prev, widths[l], relu, rng);
      ld[l + 1] = Linear.pad16(widths[l]);
      prev = widths[l];
    }
    ensureCapacity(1);
  }

  public Linear[] layers() {
    return layers.clone();
  }

  public int out() {
    return layers[layers.length - 1].out();
  }

  /** Row stride of the input buffer. */
  public int inputStride() {
    return ld[0];
  }

  /** Row stride of the output buffer. */
  public int outputStride() {
    return ld[layers.length];
  }

  /**
   * Activation buffers for up to {@code batch} rows: entry 0 is the input (batch x inputStride),
   * the last the output (batch x outputStride).
   */
  public float[][] newActivations(int batch) {
    float[][] acts = new float[ld.length][];
    for (int i = 0; i < ld.length; i++) {
      acts[i] = new float[batch * ld[i]];
    }
    return acts;
  }

  /** The output buffer within a set of activations. */
  public float[] output(float[][] acts) {
    return acts[layers.length];
  }

  /** Sizes the gradient buffers {@link #backward} uses. */
  public void ensureCapacity(int batch) {
    if (batch <= capacity) {
      return;
    }
    capacity = batch;
    grads = newActivations(batch);
  }

  /** Buffer for dLoss/dOutput; fill it before {@link #backward}. */
  public float[] outputGrad() {
    return grads[layers.length];
  }

  /** dLoss/dInput after a {@link #backward} that asked for it. */
  public float[] inputGrad() {
    return grads[0];
  }

  /** Runs the layers on acts[0] (filled by the caller), writing every later buffer of acts. */
  public void forward(int batch, float[][] acts) {
    for (int l = 0; l < layers.length; l++) {
      layers[l].forward(batch, acts[l], ld[l], acts[l + 1], ld[l + 1]);
    }
  }

  /** Back-propagates through the activations of the {@link #forward} of the same batch. */
  public void backward(int batch, float[][] acts, boolean needInputGrad) {
    for (int l = layers.length - 1; l >= 0; l--) {
      float[] dx = l > 0 || needInputGrad ? grads[l] : null;
      layers[l].backward(batch, acts[l], ld[l], acts[l + 1], grads[l + 1], ld[l + 1], dx, ld[l]);
    }
  }
}
