package io.tinyrec.model;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Everything that defines a DLRM: its shape, its embedding, its optimizer and its seed. Two models
 * built from equal configs start bit-identical. Immutable; the compact constructor validates every
 * field and says what is wrong.
 *
 * @param dim embedding dimension d; also the width of the bottom MLP's output
 * @param bottom the bottom MLP's layer widths after the 13 dense inputs; the last must equal dim
 * @param top the top MLP's layer widths after the interaction; the last must be 1
 * @param selfInteraction whether the interaction includes each vector's dot with itself
 * @param embedding which embedding stores the 26 categorical features
 * @param robeSize M, the number of floats in the shared ROBE-Z array (robe only)
 * @param robeZ Z, the ROBE-Z block size; must divide dim (robe only)
 * @param rowsPerTable R, rows in each feature's table (hash only)
 * @param optimizer SGD or Adagrad
 * @param embeddingAdagrad Adagrad state of the embedding: one accumulator per block (row-wise) or per float
 * @param lrDense learning rate of the MLPs
 * @param lrEmbedding learning rate of the embedding
 * @param adagradEps epsilon added to the Adagrad denominator
 * @param seed every random draw (initial weights, hash functions) derives from it
 */
public record ModelConfig(
    int dim,
    int[] bottom,
    int[] top,
    boolean selfInteraction,
    EmbeddingKind embedding,
    int robeSize,
    int robeZ,
    int rowsPerTable,
    OptimizerKind optimizer,
    EmbeddingAdagrad embeddingAdagrad,
    float lrDense,
    float lrEmbedding,
    float adagradEps,
    long seed) implements java.io.Serializable {

  public static final int NUM_DENSE = 13;
  public static final int NUM_SPARSE = 26;

  /** How the 26 categorical features are embedded. */
  public enum EmbeddingKind { ROBE, HASH }

  /** The update rule. Adagrad is element-wise for the MLPs; see {@link EmbeddingAdagrad} for the embedding. */
  public enum OptimizerKind { SGD, ADAGRAD }

  /**
   * Granularity of the embedding's Adagrad accumulators. ELEMENTWISE (the default) keeps one per
   * float, as PyTorch's Adagrad does on the reference peer's shared array. ROWWISE keeps one per
   * block (Z floats of the ROBE-Z array, one row of a hash table): 1/Z of the state memory, but on
   * the generated stream it lost AUC on every seed tried (0.004 on average over four seeds on 200k
   * rows for ROBE-Z, 0.005 for hash tables), so it is an opt-in memory saving. docs/benchmarks.md
   * has the runs.
   */
  public enum EmbeddingAdagrad { ROWWISE, ELEMENTWISE }

  public ModelConfig {
    bottom = bottom.clone();
    top = top.clone();
    require(dim >= 1, "--dim must be >= 1, got " + dim);
    require(bottom.length >= 1, "--bot needs at least one layer");
    require(top.length >= 1, "--top needs at least one layer");
    for (int w : bottom) {
      require(w >= 1, "--bot layer widths must be >= 1, got " + widths(bottom));
    }
    for (int w : top) {
      require(w >= 1, "--top layer widths must be >= 1, got " + widths(top));
    }
    require(bottom[bottom.length - 1] == dim, "the bottom MLP must end in --dim=" + dim
        + " so its output can interact with the embeddings, got --bot " + widths(bottom));
    require(top[top.length - 1] == 1, "the top MLP must end in 1 output (the click logit), got --top " + widths(top));
    if (embedding == EmbeddingKind.ROBE) {
      require(robeZ >= 1 && dim % robeZ == 0, "--robe-z must divide --dim=" + dim + ", got " + robeZ);
      require(robeSize >= robeZ, "--robe-size must be >= --robe-z=" + robeZ + " floats, got " + robeSize);
    } else {
      require(rowsPerTable >= 1, "--rows-per-table must be >= 1, got " + rowsPerTable);
      require((long) rowsPerTable * NUM_SPARSE * dim <= Integer.MAX_VALUE - 8,
          "--rows-per-table=" + rowsPerTable + " x 26 tables x dim " + dim + " floats exceeds one Java array");
    }
    require(lrDense > 0 && Float.isFinite(lrDense), "--lr-dense must be a positive number, got " + lrDense);
    require(lrEmbedding > 0 && Float.isFinite(lrEmbedding), "--lr-embedding must be a positive number, got " + lrEmbedding);
    require(adagradEps > 0 && Float.isFinite(adagradEps), "adagrad epsilon must be positive, got " + adagradEps);
    require(embeddingAdagrad != null, "embedding Adagrad mode must be rowwise or elementwise");
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }

  /** A named starting point; every field can then be overridden with the {@code with*} methods. */
  public static ModelConfig preset(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "kaggle" -> new ModelConfig(16, new int[] {512, 256, 64, 16}, new int[] {512, 256, 1}, false,
          EmbeddingKind.ROBE, 1 << 20, 16, 100_000, OptimizerKind.ADAGRAD, EmbeddingAdagrad.ELEMENTWISE, 0.1f, 0.1f, 1e-10f, 123);
      case "terabyte" -> new ModelConfig(128, new int[] {512, 256, 128}, new int[] {1024, 1024, 512, 256, 1}, false,
          EmbeddingKind.ROBE, 1 << 24, 32, 100_000, OptimizerKind.ADAGRAD, EmbeddingAdagrad.ELEMENTWISE, 0.1f, 0.1f, 1e-10f, 123);
      case "small" -> new ModelConfig(8, new int[] {32, 8}, new int[] {32, 1}, false,
          EmbeddingKind.ROBE, 1 << 14, 4, 1_000, OptimizerKind.ADAGRAD, EmbeddingAdagrad.ELEMENTWISE, 0.1f, 0.1f, 1e-10f, 123);
      default -> throw new IllegalArgumentException("unknown preset '" + name + "': use kaggle, terabyte or small");
    };
  }

  public int[] bottom() {
    return bottom.clone();
  }

  public int[] top() {
    return top.clone();
  }

  /** Number of vectors entering the interaction: the bottom output plus 26 embeddings. */
  public int interactionVectors() {
    return NUM_SPARSE + 1;
  }

  /** Width of the top MLP's input: the bottom output plus the pairwise dot products. */
  public int topInputWidth() {
    int n = interactionVectors();
    return dim + (selfInteraction ? n * (n + 1) / 2 : n * (n - 1) / 2);
  }

  /** Floats in the embedding storage (the shared array, or all 26 tables). */
  public long embeddingFloats() {
    return embedding == EmbeddingKind.ROBE ? robeSize : (long) rowsPerTable * NUM_SPARSE * dim;
  }

  public ModelConfig withDim(int v) {
    return toBuilder().dim(v).build();
  }

  public ModelConfig withBottom(int[] v) {
    return toBuilder().bottom(v).build();
  }

  public ModelConfig withTop(int[] v) {
    return toBuilder().top(v).build();
  }

  public ModelConfig withSelfInteraction(boolean v) {
    return toBuilder().selfInteraction(v).build();
  }

  public ModelConfig withEmbedding(EmbeddingKind v) {
    return toBuilder().embedding(v).build();
  }

  public ModelConfig withRobeSize(int v) {
    return toBuilder().robeSize(v).build();
  }

  public ModelConfig withRobeZ(int v) {
    return toBuilder().robeZ(v).build();
  }

  public ModelConfig withRowsPerTable(int v) {
    return toBuilder().rowsPerTable(v).build();
  }

  public ModelConfig withOptimizer(OptimizerKind v) {
    return toBuilder().optimizer(v).build();
  }

  public ModelConfig withEmbeddingAdagrad(EmbeddingAdagrad v) {
    return toBuilder().embeddingAdagrad(v).build();
  }

  public ModelConfig withLearningRates(float dense, float emb) {
    return toBuilder().lrDense(dense).lrEmbedding(emb).build();
  }

  public ModelConfig withSeed(long v) {
    return toBuilder().seed(v).build();
  }

  public Builder toBuilder() {
    return new Builder(this);
  }

  /** Mutable staging for a config; {@link #build()} validates. Not thread-safe. */
  public static final class Builder {
    private int dim;
    private int[] bottom;
    private int[] top;
    private boolean selfInteraction;
    private EmbeddingKind embedding;
    private int robeSize;
    private int robeZ;
    private int rowsPerTable;
    private OptimizerKind optimizer;
    private EmbeddingAdagrad embeddingAdagrad;
    private float lrDense;
    private float lrEmbedding;
    private float adagradEps;
    private long seed;

    private Builder(ModelConfig c) {
      dim = c.dim;
      bottom = c.bottom;
      top = c.top;
      selfInteraction = c.selfInteraction;
      embedding = c.embedding;
      robeSize = c.robeSize;
      robeZ = c.robeZ;
      rowsPerTable = c.rowsPerTable;
      optimizer = c.optimizer;
      embeddingAdagrad = c.embeddingAdagrad;
      lrDense = c.lrDense;
      lrEmbedding = c.lrEmbedding;
      adagradEps = c.adagradEps;
      seed = c.seed;
    }

    public Builder dim(int v) {
      dim = v;
      return this;
    }

    public Builder bottom(int[] v) {
      bottom = v.clone();
      return this;
    }

    public Builder top(int[] v) {
      top = v.clone();
      return this;
    }

    public Builder selfInteraction(boolean v) {
      selfInteraction = v;
      return this;
    }

    public Builder embedding(EmbeddingKind v) {
      embedding = v;
      return this;
    }

    public Builder robeSize(int v) {
      robeSize = v;
      return this;
    }

    public Builder robeZ(int v) {
      robeZ = v;
      return this;
    }

    public Builder rowsPerTable(int v) {
      rowsPerTable = v;
      return this;
    }

    public Builder optimizer(OptimizerKind v) {
      optimizer = v;
      return this;
    }

    public Builder embeddingAdagrad(EmbeddingAdagrad v) {
      embeddingAdagrad = v;
      return this;
    }

    public Builder lrDense(float v) {
      lrDense = v;
      return this;
    }

    public Builder lrEmbedding(float v) {
      lrEmbedding = v;
      return this;
    }

    public Builder adagradEps(float v) {
      adagradEps = v;
      return this;
    }

    public Builder seed(long v) {
      seed = v;
      return this;
    }

    public ModelConfig build() {
      return new ModelConfig(dim, bottom, top, selfInteraction, embedding, robeSize, robeZ, rowsPerTable, optimizer,
          embeddingAdagrad, lrDense, lrEmbedding, adagradEps, seed);
    }
  }

  /**
   * The config as names to values, the form a ModelSnapshot's {@code config} map carries (dim, bot,
   * top, self_interaction, embedding, robe_size, robe_z, rows_per_table, optimizer,
   * embedding_adagrad, lr_dense, lr_embedding, seed), in name order. Serving checks a snapshot's map
   * against the config in its codec bytes with it.
   */
  public java.util.SortedMap<String, String> toMap() {
    java.util.SortedMap<String, String> m = new java.util.TreeMap<>();
    m.put("dim", Integer.toString(dim));
    m.put("bot", widths(bottom));
    m.put("top", widths(top));
    m.put("self_interaction", Boolean.toString(selfInteraction));
    m.put("embedding", embedding.name().toLowerCase(Locale.ROOT));
    m.put("robe_size", Integer.toString(robeSize));
    m.put("robe_z", Integer.toString(robeZ));
    m.put("rows_per_table", Integer.toString(rowsPerTable));
    m.put("optimizer", optimizer.name().toLowerCase(Locale.ROOT));
    m.put("embedding_adagrad", embeddingAdagrad.name().toLowerCase(Locale.ROOT));
    m.put("lr_dense", Float.toString(lrDense));
    m.put("lr_embedding", Float.toString(lrEmbedding));
    m.put("seed", Long.toString(seed));
    return m;
  }

  /** Layer widths as the command line writes them, e.g. 512-256-64-16. */
  public static String widths(int[] w) {
    return Arrays.stream(w).mapToObj(Integer::toString).collect(Collectors.joining("-"));
  }

  /** Parses 512-256-64-16 into widths, naming the flag on error. */
  public static int[] parseWidths(String flag, String s) {
    try {
      int[] w = Arrays.stream(s.split("-")).mapToInt(Integer::parseInt).toArray();
      if (w.length == 0) {
        throw new NumberFormatException();
      }
      return w;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + " must be layer widths like 512-256-64-16, got '" + s + "'");
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ModelConfig c && c.dim == dim && Arrays.equals(c.bottom, bottom) && Arrays.equals(c.top, top)
        && c.selfInteraction == selfInteraction && c.embedding == embedding && c.robeSize == robeSize
        && c.robeZ == robeZ && c.rowsPerTable == rowsPerTable && c.optimizer == optimizer
        && c.embeddingAdagrad == embeddingAdagrad
        && Float.compare(c.lrDense, lrDense) == 0 && Float.compare(c.lrEmbedding, lrEmbedding) == 0
        && Float.compare(c.adagradEps, adagradEps) == 0 && c.seed == seed;
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(new Object[] {dim, Arrays.hashCode(bottom), Arrays.hashCode(top), selfInteraction, embedding,
        robeSize, robeZ, rowsPerTable, optimizer, embeddingAdagrad, lrDense, lrEmbedding, adagradEps, seed});
  }

  @Override
  public String toString() {
    String emb = embedding == EmbeddingKind.ROBE
        ? "robe(M=" + robeSize + ", Z=" + robeZ + ")"
        : "hash(R=" + rowsPerTable + ")";
    return "dlrm(d=" + dim + ", bot 13-" + widths(bottom) + ", top " + topInputWidth() + "-" + widths(top)
        + (selfInteraction ? ", self-interaction" : "") + ", " + emb + ", " + optimizer.name().toLowerCase(Locale.ROOT)
        + (optimizer == OptimizerKind.ADAGRAD ? "[" + embeddingAdagrad.name().toLowerCase(Locale.ROOT) + " embedding]" : "")
        + "(lr dense " + lrDense + ", embedding " + lrEmbedding + "), seed " + seed + ")";
  }
}
