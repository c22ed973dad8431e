package io.tinyrec.model.nn;

/**
 * DLRM's feature interaction: for each row, the 27 vectors (the bottom MLP's output, then the 26
 * embeddings, each of dimension d) are dotted pairwise. The top MLP's input is the bottom output
 * followed by the dots of pairs (i, j) with i > j in row-major order of the strict lower triangle
 * (1,0), (2,0), (2,1), (3,0), ... ; with self-interaction the diagonal is included: (0,0), (1,0),
 * (1,1), (2,0), ... Stateless apart from a scratch row; not thread-safe.
 */
public final class Interaction {
  private final int d;
  private final int n;
  private final boolean self;
  private final int outWidth;
  private final float[] t;
  private final float[] dt;

  public Interaction(int dim, int vectors, boolean selfInteraction) {
    this.d = dim;
    this.n = vectors;
    this.self = selfInteraction;
    this.outWidth = dim + (self ? n * (n + 1) / 2 : n * (n - 1) / 2);
    this.t = new float[n * d];
    this.dt = new float[n * d];
  }

  public int outWidth() {
    return outWidth;
  }

  /**
   * out[b] = [bot[b], dots] for b < batch. bot has row stride ldBot; emb holds 26 x d per row
   * contiguously; out has row stride ldOut.
   */
  public void forward(int batch, float[] bot, int ldBot, float[] emb, float[] out, int ldOut) {
    int e = n - 1;
    for (int b = 0; b < batch; b++) {
      System.arraycopy(bot, b * ldBot, t, 0, d);
      System.arraycopy(emb, b * e * d, t, d, e * d);
      int o = b * ldOut;
      System.arraycopy(t, 0, out, o, d);
      o += d;
      for (int i = 0; i < n; i++) {
        int ti = i * d;
        int jEnd = self ? i : i - 1;
        for (int j = 0; j <= jEnd; j++) {
          int tj = j * d;
          float s = 0f;
          for (int k = 0; k < d; k++) {
            s += t[ti + k] * t[tj + k];
          }
          out[o++] = s;
        }
      }
    }
  }

  /**
   * Back-propagates dOut (row stride ldOut) into dBot (row stride ldBot, overwritten) and dEmb
   * (26 x d per row, overwritten), given the forward inputs.
   */
  public void backward(int batch, float[] bot, int ldBot, float[] emb, float[] dOut, int ldOut, float[] dBot,
      float[] dEmb) {
    int e = n - 1;
    for (int b = 0; b < batch; b++) {
      System.arraycopy(bot, b * ldBot, t, 0, d);
      System.arraycopy(emb, b * e * d, t, d, e * d);
      int o = b * ldOut;
      System.arraycopy(dOut, o, dt, 0, d);
      java.util.Arrays.fill(dt, d, n * d, 0f);
      o += d;
      for (int i = 0; i < n; i++) {
        int ti = i * d;
        int jEnd = self ? i : i - 1;
        for (int j = 0; j <= jEnd; j++) {
          float g = dOut[o++];
          if (g == 0f) {
            continue;
          }
          int tj = j * d;
          for (int k = 0; k < d; k++) {
            dt[ti + k] += g * t[tj + k];
            dt[tj + k] += g * t[ti + k];
          }
        }
      }
      System.arraycopy(dt, 0, dBot, b * ldBot, d);
      System.arraycopy(dt, d, dEmb, b * e * d, e * d);
    }
  }
}
