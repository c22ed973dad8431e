package io.tinyrec.model.nn;

import java.util.random.RandomGenerator;

/**
 * A stack of {@link Linear} layers with the batch workspace they need: one activation and one
 * gradient buffer per layer boundary, each row padded to a multiple of 16 floats. ReLU follows
 * every layer except, when {@code lastLinear} is set, the last one. Not thread-safe.
 */
public final class Mlp {
  private final Linear[] layers;
  private final int[] ld;
  private int capacity;
  private float[][] acts;
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

  public void ensureCapacity(int batch) {
    if (batch <= capacity) {
      return;
    }
    capacity = batch;
    acts = new float[ld.length][];
    grads = new float[ld.length][];
    for (int i = 0; i < ld.length; i++) {
      acts[i] = new float[batch * ld[i]];
      grads[i] = new float[batch * ld[i]];
    }
  }

  /** The input buffer (batch x inputStride); fill it before {@link #forward}. */
  public float[] input() {
    return acts[0];
  }

  /** The output of the last {@link #forward} (batch x outputStride). */
  public float[] output() {
    return acts[layers.length];
  }

  /** Buffer for dLoss/dOutput; fill it before {@link #backward}. */
  public float[] outputGrad() {
    return grads[layers.length];
  }

  /** dLoss/dInput after a {@link #backward} that asked for it. */
  public float[] inputGrad() {
    return grads[0];
  }

  public void forward(int batch) {
    for (int l = 0; l < layers.length; l++) {
      layers[l].forward(batch, acts[l], ld[l], acts[l + 1], ld[l + 1]);
    }
  }

  public void backward(int batch, boolean needInputGrad) {
    for (int l = layers.length - 1; l >= 0; l--) {
      float[] dx = l > 0 || needInputGrad ? grads[l] : null;
      layers[l].backward(batch, acts[l], ld[l], acts[l + 1], grads[l + 1], ld[l + 1], dx, ld[l]);
    }
  }
}
