package io.tinyrec.model.nn;

/**
 * DLRM's feature interaction: for each row, the 27 vectors (the bottom MLP's output, then the 26
 * embeddings, each of dimension d) are dotted pairwise. The top MLP's input is the bottom output
 * followed by the dots of pairs (i, j) with i > j in row-major order of the strict lower triangle
 * (1,0), (2,0), (2,1), (3,0), ... ; with self-interaction the diagonal is included: (0,0), (1,0),
 * (1,1), (2,0), ...
 *
 * <p>The dots are computed feature-major, vectorised across the rows of the batch: the 27 x d
 * inputs are transposed into a (27*d) x batch block, each pair's dots for 16 rows at once come
 * from d fused multiply-adds, and the result is transposed back. Each dot sums its d products in
 * order k = 0 .. d-1.
 *
 * <p>The buffers of a pass are a {@link Scratch}. The methods without one use the Interaction's own,
 * as training does; with a Scratch per thread, several threads can run {@link #forward} at once.
 */
public final class Interaction {
  private final int d;
  private final int n;
  private final int outWidth;
  private final int pairs;
  private final int[] pi;
  private final int[] pj;
  private final Scratch own = new Scratch();

  /**
   * The buffers of one forward and backward pass, sized to the largest batch seen: the feature-major
   * block, the pair dots and, once a backward pass needs it, the block's gradient. Each pass lays
   * them out for its own batch (row stride {@code cols}, the batch rounded up to 16), so a small
   * batch after a large one costs a small batch's work. Not thread-safe.
   */
  public static final class Scratch {
    /** Row stride of the current pass: its batch rounded up to a multiple of 16. */
    private int cols;
    /** Columns the arrays have room for. */
    private int capacity;
    private float[] t = new float[0];
    private float[] dt = new float[0];
    private float[] z = new float[0];
  }

  public Interaction(int dim, int vectors, boolean selfInteraction) {
    this.d = dim;
    this.n = vectors;
    this.pairs = selfInteraction ? n * (n + 1) / 2 : n * (n - 1) / 2;
    this.outWidth = dim + pairs;
    this.pi = new int[pairs];
    this.pj = new int[pairs];
    int p = 0;
    for (int i = 0; i < n; i++) {
      for (int j = 0; j <= (selfInteraction ? i : i - 1); j++) {
        pi[p] = i;
        pj[p] = j;
        p++;
      }
    }
  }

  public int outWidth() {
    return outWidth;
  }

  private void ensureCapacity(Scratch s, int batch) {
    int c = Linear.pad16(batch);
    s.cols = c;
    if (c <= s.capacity) {
      return;
    }
    s.capacity = c;
    s.t = new float[n * d * c];
    s.dt = new float[0];
    s.z = new float[pairs * c];
  }

  /**
   * out[b] = [bot[b], dots] for b < batch. bot has row stride ldBot; emb holds 26 x d per row
   * contiguously; out has row stride ldOut.
   */
  public void forward(int batch, float[] bot, int ldBot, float[] emb, float[] out, int ldOut) {
    forward(batch, bot, ldBot, emb, out, ldOut, own);
  }

  /** As {@link #forward(int, float[], int, float[], float[], int)}, in the given buffers. */
  public void forward(int batch, float[] bot, int ldBot, float[] emb, float[] out, int ldOut, Scratch s) {
    ensureCapacity(s, batch);
    gather(batch, bot, ldBot, emb, s);
    Kernels.pairDots(pairs, pi, pj, d, s.cols, s.t, s.cols, s.z);
    for (int b = 0; b < batch; b++) {
      System.arraycopy(bot, b * ldBot, out, b * ldOut, d);
    }
    Kernels.transpose(pairs, batch, s.z, 0, s.cols, out, d, ldOut);
  }

  /**
   * Back-propagates dOut (row stride ldOut) into dBot (row stride ldBot, overwritten) and dEmb
   * (26 x d per row, overwritten). Must follow the {@link #forward} of the same batch: it reuses
   * the feature-major block that pass built instead of transposing the inputs again.
   */
  public void backward(int batch, float[] dOut, int ldOut, float[] dBot, int ldBot, float[] dEmb) {
    backward(batch, dOut, ldOut, dBot, ldBot, dEmb, own);
  }

  /** As {@link #backward(int, float[], int, float[], int, float[])}, after a forward pass in s. */
  public void backward(int batch, float[] dOut, int ldOut, float[] dBot, int ldBot, float[] dEmb, Scratch s) {
    int cols = s.cols;
    float[] z = s.z;
    if (s.dt.length != s.t.length) {
      s.dt = new float[s.t.length];
    }
    float[] dt = s.dt;
    if (batch < cols) {
      java.util.Arrays.fill(z, 0, pairs * cols, 0f); // padding columns must not carry stale gradients
    }
    Kernels.transpose(batch, pairs, dOut, d, ldOut, z, 0, cols);
    java.util.Arrays.fill(dt, 0, n * d * cols, 0f);
    Kernels.pairDotsBackward(pairs, pi, pj, d, cols, s.t, cols, z, dt);
    int e = n - 1;
    Kernels.transpose(d, batch, dt, 0, cols, dBot, 0, ldBot);
    Kernels.transpose(e * d, batch, dt, d * cols, cols, dEmb, 0, e * d);
    for (int b = 0; b < batch; b++) {
      int src = b * ldOut;
      int dst = b * ldBot;
      for (int k = 0; k < d; k++) {
        dBot[dst + k] += dOut[src + k];
      }
    }
  }

  /** Transposes the bottom output and embeddings into t, feature-major; padding columns stay zero. */
  private void gather(int batch, float[] bot, int ldBot, float[] emb, Scratch s) {
    if (batch < s.cols) {
      java.util.Arrays.fill(s.t, 0, n * d * s.cols, 0f);
    }
    int e = n - 1;
    Kernels.transpose(batch, d, bot, 0, ldBot, s.t, 0, s.cols);
    Kernels.transpose(batch, e * d, emb, 0, e * d, s.t, d * s.cols, s.cols);
  }
}
