package io.tinyrec.model;

import io.tinyrec.model.nn.Embedding;
import io.tinyrec.model.nn.Interaction;
import io.tinyrec.model.nn.Linear;
import io.tinyrec.model.nn.Mlp;
import io.tinyrec.model.nn.Optimizer;
import io.tinyrec.model.nn.Param;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The DLRM click model (Naumov et al., "Deep Learning Recommendation Model for Personalization and
 * Recommendation Systems", 2019): a bottom MLP over the 13 dense features, 26 categorical
 * embeddings ({@link Embedding}), their pairwise dot products ({@link Interaction}), a top MLP and a
 * sigmoid, trained on binary cross-entropy averaged over each mini-batch.
 *
 * <p>Every random draw comes from {@link ModelConfig#seed()}, split per use (bottom MLP, top MLP,
 * embedding), so one seed gives bit-identical weights and, fed the same batches, bit-identical
 * training.
 *
 * <p>Not thread-safe, with one exception: {@link #score(Batch, float[], Scratch)} only reads the
 * weights, so any number of threads may score with one model at once, each with its own
 * {@link Scratch}, as long as no thread trains it or writes its weights meanwhile. Serving relies
 * on this: one decoded snapshot serves every request thread.
 */
public final class Dlrm {
  private final ModelConfig config;
  private final Mlp bottom;
  private final Mlp top;
  private final Embedding embedding;
  private final Interaction interaction;
  private final Optimizer optimizer;
  private final List<Param> params = new ArrayList<>();
  /** Every MLP layer, bottom then top; fixed at construction. */
  private final List<Linear> layers = new ArrayList<>();
  /** The buffers of score-then-train on this instance (the single-threaded path). */
  private final Scratch own;
  private float[] dEmb = new float[0];
  private long rowsTrained;
  private long skippedUpdates;

  public Dlrm(ModelConfig config) {
    this.config = config;
    SplittableRandom root = new SplittableRandom(config.seed());
    SplittableRandom bottomRng = root.split();
    SplittableRandom topRng = root.split();
    SplittableRandom embRng = root.split();
    this.bottom = new Mlp("bottom", ModelConfig.NUM_DENSE, config.bottom(), false, bottomRng);
    this.interaction = new Interaction(config.dim(), config.interactionVectors(), config.selfInteraction());
    this.top = new Mlp("top", interaction.outWidth(), config.top(), true, topRng);
    this.embedding = Embedding.create(config, embRng);
    this.optimizer = Optimizer.of(config);
    this.own = new Scratch(config);
    for (Mlp m : new Mlp[] {bottom, top}) {
      for (Linear l : m.layers()) {
        layers.add(l);
        params.add(l.weight());
        params.add(l.bias());
      }
    }
  }

  public ModelConfig config() {
    return config;
  }

  /** Dense parameters in snapshot order: bottom layers, then top layers; weight then bias. */
  public List<Param> denseParams() {
    return List.copyOf(params);
  }

  public Embedding embedding() {
    return embedding;
  }

  public long rowsTrained() {
    return rowsTrained;
  }

  public long skippedUpdates() {
    return skippedUpdates;
  }

  /** Restores the counters carried by a snapshot. */
  public void setCounters(long rowsTrained, long skippedUpdates) {
    this.rowsTrained = rowsTrained;
    this.skippedUpdates = skippedUpdates;
  }

  /** Must be called after dense weights were written directly (a restore or a merge). */
  public void weightsChangedInPlace() {
    for (Linear l : layers) {
      l.weightsChangedInPlace();
    }
  }

  /**
   * Allocates the optimizer's state now (zeros, exactly what the first update would allocate), so
   * that every array the model consists of exists from the start. Model sync relies on this.
   */
  public void allocateOptimizerState() {
    if (!optimizer.hasState()) {
      return;
    }
    for (Param p : params) {
      if (p.state().length == 0) {
        p.setState(new float[p.size()]);
      }
    }
    embedding.allocateOptimizerState();
  }

  /**
   * Parameter bytes in memory: the MLPs as float32 plus the embedding's storage
   * ({@link Embedding#storageBytes()}: the float32 array, or the quantized array with its scales
   * and FP32 cache).
   */
  public long parameterBytes() {
    long n = 0;
    for (Param p : params) {
      n += p.size();
    }
    return n * Float.BYTES + embedding.storageBytes();
  }

  /**
   * The buffers one thread needs to score with a model: activations of both MLPs, the embeddings
   * looked up, the interaction's block and the probabilities, grown to the largest batch scored.
   * It fits every model of the same layout (dimension, MLP widths, self-interaction), so a new
   * version of a model reuses the scratches of the old one. Not thread-safe: one per thread.
   */
  public static final class Scratch {
    private final ModelConfig layout;
    private int capacity;
    private float[][] bottom;
    private float[][] top;
    private float[] emb;
    private float[] probs;
    private final Interaction.Scratch interaction = new Interaction.Scratch();

    private Scratch(ModelConfig layout) {
      this.layout = layout;
    }

    /** Whether this scratch has the shapes the model's forward pass needs. */
    public boolean fits(Dlrm model) {
      ModelConfig c = model.config;
      return c == layout || (c.dim() == layout.dim() && c.selfInteraction() == layout.selfInteraction()
          && Arrays.equals(c.bottom(), layout.bottom()) && Arrays.equals(c.top(), layout.top()));
    }

    private void ensureCapacity(Dlrm model, int batch) {
      if (batch <= capacity) {
        return;
      }
      capacity = batch;
      bottom = model.bottom.newActivations(batch);
      top = model.top.newActivations(batch);
      emb = new float[batch * ModelConfig.NUM_SPARSE * layout.dim()];
      probs = new float[batch];
    }
  }

  /** Buffers for {@link #score(Batch, float[], Scratch)} on one thread. */
  public Scratch newScratch() {
    return new Scratch(config);
  }

  /** Click probabilities for the batch's rows, written to out[0 .. batch.size()). Not thread-safe. */
  public void score(Batch batch, float[] out) {
    score(batch, out, own);
  }

  /**
   * Click probabilities for the batch's rows, written to out[0 .. batch.size()), computed in the
   * caller's buffers: thread-safe for callers with distinct scratches while nobody trains the model.
   * Gives the same scores as {@link #score(Batch, float[])}.
   *
   * @throws IllegalArgumentException if the scratch was made for a model of another layout
   */
  public void score(Batch batch, float[] out, Scratch scratch) {
    if (!scratch.fits(this)) {
      throw new IllegalArgumentException("this scratch was made for a model of another layout (" + scratch.layout
          + "), not for " + config + "; make one with newScratch()");
    }
    forward(batch, scratch, false);
    System.arraycopy(scratch.probs, 0, out, 0, batch.size());
  }

  /**
   * One step of progressive validation: scores the batch with the current weights (into
   * scoresOut), then trains on it. If the loss or any gradient is not finite, the update is
   * skipped and counted instead. Returns whether the update was applied.
   */
  public boolean trainStepInPlace(Batch batch, float[] scoresOut) {
    int n = batch.size();
    if (n == 0) {
      return true;
    }
    boolean finite = computeGradients(batch, scoresOut);
    if (!finite) {
      embedding.discardGradients();
      skippedUpdates++;
      return false;
    }
    for (Param p : params) {
      optimizer.stepInPlace(p, config.lrDense());
    }
    weightsChangedInPlace();
    embedding.applyUpdateInPlace(optimizer, config.lrEmbedding());
    rowsTrained += n;
    return true;
  }

  /**
   * Forward and backward pass without an update: scores go to scoresOut (if not null), the mean
   * binary cross-entropy gradients to each {@link Param#grad()} and to the embedding's per-block
   * accumulators. Returns false if the loss or a gradient is not finite. The caller must then
   * apply or discard the embedding gradients before the next batch.
   */
  public boolean computeGradients(Batch batch, float[] scoresOut) {
    int n = batch.size();
    forward(batch, own, true);
    float[] probs = own.probs;
    if (scoresOut != null) {
      System.arraycopy(probs, 0, scoresOut, 0, n);
    }
    bottom.ensureCapacity(n);
    top.ensureCapacity(n);
    if (dEmb.length < own.emb.length) {
      dEmb = new float[own.emb.length];
    }
    float[] dOut = top.outputGrad();
    int ldOut = top.outputStride();
    float inv = 1f / n;
    boolean finite = true;
    for (int b = 0; b < n; b++) {
      // d(mean BCE)/d(logit) = (p - y) / n, computed directly rather than through the sigmoid.
      float g = (probs[b] - batch.labels[b]) * inv;
      finite &= Float.isFinite(g);
      dOut[b * ldOut] = g;
    }
    if (!finite) {
      return false;
    }
    top.backward(n, own.top, true);
    interaction.backward(n, top.inputGrad(), top.inputStride(), bottom.outputGrad(), bottom.outputStride(), dEmb,
        own.interaction);
    bottom.backward(n, own.bottom, false);
    embedding.accumulateGradients(dEmb);
    return embedding.gradientsFinite() && denseGradientsFinite();
  }

  /**
   * Whether every dense gradient is finite: each layer's weight and bias gradients. Checking only
   * the biases and the first layer's weights, as this once did, let an overflow in another layer's
   * weight gradient (large activations times a finite output gradient) through to the update.
   * Vectorised, the whole screen costs a pass over the 475k kaggle gradients.
   */
  boolean denseGradientsFinite() {
    for (Linear l : layers) {
      float[] b = l.bias().grad();
      float[] w = l.weight().grad();
      if (!io.tinyrec.model.nn.Kernels.allFinite(b.length, b) || !io.tinyrec.model.nn.Kernels.allFinite(w.length, w)) {
        return false;
      }
    }
    return true;
  }

  /** The forward pass in s's buffers; for training it remembers the embedding addresses it read. */
  private void forward(Batch batch, Scratch s, boolean forTraining) {
    int n = batch.size();
    s.ensureCapacity(this, n);
    float[] x0 = s.bottom[0];
    int ld0 = bottom.inputStride();
    for (int b = 0; b < n; b++) {
      System.arraycopy(batch.dense, b * ModelConfig.NUM_DENSE, x0, b * ld0, ModelConfig.NUM_DENSE);
    }
    bottom.forward(n, s.bottom);
    if (forTraining) {
      embedding.lookup(n, batch.cats, s.emb);
    } else {
      embedding.gather(n, batch.cats, s.emb);
    }
    interaction.forward(n, bottom.output(s.bottom), bottom.outputStride(), s.emb, s.top[0], top.inputStride(),
        s.interaction);
    top.forward(n, s.top);
    float[] logits = top.output(s.top);
    int ld = top.outputStride();
    for (int b = 0; b < n; b++) {
      s.probs[b] = sigmoid(logits[b * ld]);
    }
  }

  /** The logistic function in float, as the format document specifies it. */
  public static float sigmoid(float z) {
    return (float) (1.0 / (1.0 + Math.exp(-z)));
  }
}
