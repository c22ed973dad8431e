package io.tinyrec.model.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyrec.model.Batch;
import io.tinyrec.model.Dlrm;
import io.tinyrec.model.ModelConfig;
import io.tinyrec.model.synthetic.SyntheticCriteo;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Central finite differences against every analytic gradient: each layer alone (with a random
 * linear loss L = sum(out * R), so dL/dout = R), then the whole model on the real loss.
 */
class GradientCheckTest {
  private static final double H = 1e-3;

  private static void assertClose(double numeric, double analytic, String what) {
    double tol = 2e-3 + 2e-2 * Math.max(Math.abs(numeric), Math.abs(analytic));
    assertTrue(Math.abs(numeric - analytic) <= tol,
        what + ": numeric " + numeric + " vs analytic " + analytic + " (tolerance " + tol + ")");
  }

  /** Central difference of loss with respect to v[i]; v[i] is restored afterwards. */
  private static double numeric(float[] v, int i, Supplier<Double> loss) {
    float keep = v[i];
    v[i] = (float) (keep + H);
    double up = loss.get();
    v[i] = (float) (keep - H);
    double down = loss.get();
    v[i] = keep;
    return (up - down) / (2 * H);
  }

  private static float[] random(SplittableRandom r, int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (r.nextDouble() * 2 - 1);
    }
    return v;
  }

  private static double dot(float[] a, float[] b, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) {
      s += (double) a[i] * b[i];
    }
    return s;
  }

  @Test
  void linearLayerGradientsMatchFiniteDifferences() {
    for (boolean relu : new boolean[] {false, true}) {
      SplittableRandom r = new SplittableRandom(7);
      int batch = 5;
      int in = 19;
      int out = 21;
      int ld = Linear.pad16(in);
      int ldy = Linear.pad16(out);
      Linear layer = new Linear("l", in, out, relu, r);
      float[] x = new float[batch * ld];
      for (int b = 0; b < batch; b++) {
        System.arraycopy(random(r, in), 0, x, b * ld, in);
      }
      float[] rr = random(r, batch * ldy);
      float[] y = new float[batch * ldy];
      Supplier<Double> loss = () -> {
        layer.weightsChangedInPlace();
        layer.forward(batch, x, ld, y, ldy);
        double s = 0;
        for (int b = 0; b < batch; b++) {
          for (int j = 0; j < out; j++) {
            s += (double) y[b * ldy + j] * rr[b * ldy + j];
          }
        }
        return s;
      };
      loss.get();
      float[] dy = rr.clone();
      float[] dx = new float[batch * ld];
      layer.backward(batch, x, ld, y, dy, ldy, dx, ld);
      float[] w = layer.weight().value();
      float[] gw = layer.weight().grad().clone();
      for (int i = 0; i < w.length; i += 7) {
        assertClose(numeric(w, i, loss), gw[i], "relu=" + relu + " weight " + i);
      }
      float[] bias = layer.bias().value();
      float[] gb = layer.bias().grad().clone();
      for (int j = 0; j < out; j++) {
        assertClose(numeric(bias, j, loss), gb[j], "relu=" + relu + " bias " + j);
      }
      for (int b = 0; b < batch; b++) {
        for (int i = 0; i < in; i++) {
          int k = b * ld + i;
          assertClose(numeric(x, k, loss), dx[k], "relu=" + relu + " input " + b + "," + i);
        }
      }
    }
  }

  @Test
  void interactionGradientsMatchFiniteDifferences() {
    for (boolean self : new boolean[] {false, true}) {
      SplittableRandom r = new SplittableRandom(11);
      int d = 4;
      int n = 27;
      int batch = 3;
      Interaction it = new Interaction(d, n, self);
      int ldBot = 16;
      int ldOut = Linear.pad16(it.outWidth());
      float[] bot = new float[batch * ldBot];
      for (int b = 0; b < batch; b++) {
        System.arraycopy(random(r, d), 0, bot, b * ldBot, d);
      }
      float[] emb = random(r, batch * (n - 1) * d);
      float[] rr = new float[batch * ldOut];
      for (int b = 0; b < batch; b++) {
        System.arraycopy(random(r, it.outWidth()), 0, rr, b * ldOut, it.outWidth());
      }
      float[] out = new float[batch * ldOut];
      Supplier<Double> loss = () -> {
        it.forward(batch, bot, ldBot, emb, out, ldOut);
        return dot(out, rr, out.length);
      };
      loss.get();
      float[] dBot = new float[batch * ldBot];
      float[] dEmb = new float[emb.length];
      loss.get(); // backward reuses the forward pass of the same inputs
      it.backward(batch, rr, ldOut, dBot, ldBot, dEmb);
      for (int k = 0; k < emb.length; k += 5) {
        assertClose(numeric(emb, k, loss), dEmb[k], "self=" + self + " embedding element " + k);
      }
      for (int b = 0; b < batch; b++) {
        for (int k = 0; k < d; k++) {
          int i = b * ldBot + k;
          assertClose(numeric(bot, i, loss), dBot[i], "self=" + self + " bottom element " + b + "," + k);
        }
      }
    }
  }

  @Test
  void embeddingGradientsSumOverCollidingEntries() {
    for (ModelConfig.EmbeddingKind kind : ModelConfig.EmbeddingKind.values()) {
      // A tiny array forces collisions, so shared parameters must receive summed gradients.
      ModelConfig c = ModelConfig.preset("small").withEmbedding(kind).withRobeSize(40).withRowsPerTable(3);
      Embedding e = Embedding.create(c, new SplittableRandom(3));
      SplittableRandom r = new SplittableRandom(5);
      int batch = 4;
      long[] cats = new long[batch * 26];
      for (int i = 0; i < cats.length; i++) {
        cats[i] = r.nextLong(0, 1L << 32);
      }
      float[] out = new float[batch * 26 * c.dim()];
      float[] rr = random(r, out.length);
      e.lookup(batch, cats, out);
      e.accumulateGradients(rr);
      float[] w = e.weights();
      Supplier<Double> loss = () -> {
        e.lookup(batch, cats, out);
        return dot(out, rr, out.length);
      };
      for (int i = 0; i < w.length; i++) {
        assertClose(numeric(w, i, loss), e.gradientAt(i), kind + " element " + i);
      }
      e.discardGradients();
    }
  }

  @Test
  void wholeModelGradientsMatchFiniteDifferences() {
    for (ModelConfig.EmbeddingKind kind : ModelConfig.EmbeddingKind.values()) {
      ModelConfig c = ModelConfig.preset("small").withEmbedding(kind).withRobeSize(2048).withRowsPerTable(50)
          .withOptimizer(ModelConfig.OptimizerKind.SGD);
      Dlrm model = new Dlrm(c);
      SyntheticCriteo stream = new SyntheticCriteo(3, -1);
      Batch batch = new Batch(8);
      for (int i = 0; i < 8; i++) {
        batch.add(stream.sample(i).row());
      }
      assertTrue(model.computeGradients(batch, null));
      Supplier<Double> loss = () -> {
        model.weightsChangedInPlace();
        float[] p = new float[8];
        model.score(batch, p);
        double s = 0;
        for (int i = 0; i < 8; i++) {
          double q = p[i];
          s += batch.label(i) != 0f ? -Math.log(q) : -Math.log(1 - q);
        }
        return s / 8;
      };
      for (Param p : model.denseParams()) {
        float[] w = p.value();
        float[] g = p.grad().clone();
        for (int i = 0; i < w.length; i += Math.max(1, w.length / 12)) {
          assertClose(numeric(w, i, loss), g[i], kind + " " + p.name() + "[" + i + "]");
        }
      }
      // The loss evaluations above moved nothing, so one fresh backward pass gives the reference.
      model.embedding().discardGradients();
      assertTrue(model.computeGradients(batch, null));
      Embedding e = model.embedding();
      float[] w = e.weights();
      int checked = 0;
      for (int s = 0; s < e.touchedBlocks() && checked < 20; s++) {
        int i = e.touchedBlock(s) * e.blockSize();
        assertClose(numeric(w, i, loss), e.gradientAt(i), kind + " embedding element " + i);
        checked++;
      }
      assertEquals(20, checked);
    }
  }
}
