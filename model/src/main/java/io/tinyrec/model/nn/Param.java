package io.tinyrec.model.nn;

/**
 * A dense trainable tensor: its values, the gradient of the current batch and the optimizer's
 * per-element state (empty for SGD). Owned by one layer; not thread-safe.
 */
public final class Param {
  private final String name;
  private final int[] shape;
  final float[] value;
  final float[] grad;
  float[] state;

  Param(String name, int[] shape) {
    this.name = name;
    this.shape = shape.clone();
    int n = 1;
    for (int s : shape) {
      n *= s;
    }
    this.value = new float[n];
    this.grad = new float[n];
    this.state = new float[0];
  }

  public String name() {
    return name;
  }

  public int[] shape() {
    return shape.clone();
  }

  public int size() {
    return value.length;
  }

  /** The live values; callers that write them must call the owner's {@code weightsChangedInPlace}. */
  public float[] value() {
    return value;
  }

  public float[] grad() {
    return grad;
  }

  /** Optimizer state (Adagrad accumulators), length 0 or {@link #size()}. */
  public float[] state() {
    return state;
  }

  public void setState(float[] s) {
    if (s.length != 0 && s.length != value.length) {
      throw new IllegalArgumentException(name + ": optimizer state must have 0 or " + value.length + " values, got " + s.length);
    }
    state = s;
  }
}
