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
 * @param quantization storage precision of the ROBE-Z array and its FP32 cache ({@link Quantization#FP32}: none)
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
    long seed,
    Quantization quantization) implements java.io.Serializable {

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

  /** How the values of the ROBE-Z array are stored. */
  public enum Precision { FP32, INT8, INT4 }

  /** How each quantization group's scale and bias are stored. */
  public enum ScaleDtype { FP16, FP32 }

  /** Which cached line the FP32 cache gives up when it needs a slot. */
  public enum CachePolicy { LFU, LRU }

  /**
   * Mixed-precision storage of the ROBE-Z array (Yang et al., "Mixed-Precision Embedding Using a
   * Cache", arXiv 2010.11305): values stored as {@code precision} codes with a scale and a bias per
   * group of {@code group} floats (0: one group per ROBE-Z block of Z floats), and an FP32 cache
   * holding {@code cacheFraction} of the array's lines, trained in FP32 and given up by
   * {@code cachePolicy}. A line, the unit the cache holds, is max(Z, group) floats. For FP32 the
   * other fields mean nothing and are normalised to the defaults, so configs compare equal.
   * Immutable; the compact constructor validates what it can alone ({@link ModelConfig} checks
   * the rest against Z and the embedding kind).
   *
   * @param precision FP32 (no quantization), INT8 or INT4
   * @param group floats per quantization group, or 0 for one group per ROBE-Z block
   * @param scaleDtype storage of each group's scale and bias
   * @param cacheFraction share of the array's lines the FP32 cache holds, in [0, 1]
   * @param cachePolicy LFU or LRU
   */
  public record Quantization(Precision precision, int group, ScaleDtype scaleDtype, float cacheFraction,
      CachePolicy cachePolicy) implements java.io.Serializable {
    /**
     * The defaults of the quantized path; docs/benchmarks.md has the measurements behind them. A
     * group of 64 with fp16 scales keeps INT8's array, scales and 5% cache under a third of the
     * float32 array (one group per 16-float block costs a quarter of the INT8 payload in scales
     * alone); LFU keeps the hot lines that LRU lets a stream of cold ones push out.
     */
    public static final int DEFAULT_GROUP = 64;
    public static final ScaleDtype DEFAULT_SCALE_DTYPE = ScaleDtype.FP16;
    public static final float DEFAULT_CACHE_FRACTION = 0.05f;
    public static final CachePolicy DEFAULT_CACHE_POLICY = CachePolicy.LFU;
    /** No quantization: the array is plain float32. */
    public static final Quantization FP32 = new Quantization(Precision.FP32, DEFAULT_GROUP, DEFAULT_SCALE_DTYPE,
        DEFAULT_CACHE_FRACTION, DEFAULT_CACHE_POLICY);

    public Quantization {
      require(precision != null, "{quantization.precision} must be fp32, int8 or int4");
      if (precision == Precision.FP32) {
        group = DEFAULT_GROUP;
        scaleDtype = DEFAULT_SCALE_DTYPE;
        cacheFraction = DEFAULT_CACHE_FRACTION;
        cachePolicy = DEFAULT_CACHE_POLICY;
      }
      require(scaleDtype != null, "{quantization.scaleDtype} must be fp16 or fp32");
      require(cachePolicy != null, "{quantization.cachePolicy} must be lfu or lru");
      require(group == 0 || group >= 2, "{quantization.group} must be 'block' (0) or >= 2 floats, got " + group);
      require(cacheFraction >= 0f && cacheFraction <= 1f,
          "{quantization.cacheFraction} must be between 0 and 1 (a share of the array's lines), got " + cacheFraction);
    }

    /** A quantized config with the default group, scale dtype, cache fraction and policy. */
    public static Quantization of(Precision precision) {
      return new Quantization(precision, DEFAULT_GROUP, DEFAULT_SCALE_DTYPE, DEFAULT_CACHE_FRACTION,
          DEFAULT_CACHE_POLICY);
    }

    public boolean quantized() {
      return precision != Precision.FP32;
    }

    /** Code levels: 255 for INT8, 15 for INT4 (codes are 0 .. levels). */
    public int levels() {
      return precision == Precision.INT8 ? 255 : precision == Precision.INT4 ? 15 : 0;
    }

    public Quantization withGroup(int g) {
      return new Quantization(precision, g, scaleDtype, cacheFraction, cachePolicy);
    }

    public Quantization withScaleDtype(ScaleDtype s) {
      return new Quantization(precision, group, s, cacheFraction, cachePolicy);
    }

    public Quantization withCacheFraction(float f) {
      return new Quantization(precision, group, scaleDtype, f, cachePolicy);
    }

    public Quantization withCachePolicy(CachePolicy p) {
      return new Quantization(precision, group, scaleDtype, cacheFraction, p);
    }

    @Override
    public String toString() {
      if (!quantized()) {
        return "fp32";
      }
      return precision.name().toLowerCase(Locale.ROOT) + "(group " + (group == 0 ? "block" : Integer.toString(group))
          + ", " + scaleDtype.name().toLowerCase(Locale.ROOT) + " scales, cache " + cacheFraction + " "
          + cachePolicy.name().toLowerCase(Locale.ROOT) + ")";
    }
  }

  public ModelConfig {
    // Every kind is explicit: a null once meant "hash" or "Adagrad" by falling through a branch.
    require(embedding != null, "the embedding kind must be robe or hash, got none");
    require(optimizer != null, "{optimizer} must be sgd or adagrad, got none");
    require(embeddingAdagrad != null, "{embeddingAdagrad} must be elementwise or rowwise, got none");
    require(quantization != null, "{quantization} must be given (fp32 for none)");
    require(bottom != null && top != null, "the MLP widths {bottom} and {top} must be given");
    bottom = bottom.clone();
    top = top.clone();
    require(dim >= 1, "{dim} must be >= 1, got " + dim);
    require(bottom.length >= 1, "{bottom} needs at least one layer");
    require(top.length >= 1, "{top} needs at least one layer");
    for (int w : bottom) {
      require(w >= 1, "{bottom} layer widths must be >= 1, got " + widths(bottom));
    }
    for (int w : top) {
      require(w >= 1, "{top} layer widths must be >= 1, got " + widths(top));
    }
    require(bottom[bottom.length - 1] == dim, "the bottom MLP must end in {dim}=" + dim
        + " so its output can interact with the embeddings, got {bottom} " + widths(bottom));
    require(top[top.length - 1] == 1, "the top MLP must end in 1 output (the click logit), got {top} " + widths(top));
    if (embedding == EmbeddingKind.ROBE) {
      require(robeZ >= 1 && dim % robeZ == 0, "{robeZ} must divide {dim}=" + dim + ", got " + robeZ);
      require(robeSize >= robeZ, "{robeSize} must be >= {robeZ}=" + robeZ + " floats, got " + robeSize);
    } else {
      require(rowsPerTable >= 1, "{rowsPerTable} must be >= 1, got " + rowsPerTable);
      require((long) rowsPerTable * NUM_SPARSE * dim <= Integer.MAX_VALUE - 8,
          "{rowsPerTable}=" + rowsPerTable + " x 26 tables x dim " + dim + " floats exceeds one Java array");
    }
    require(lrDense > 0 && Float.isFinite(lrDense), "{lrDense} must be a positive number, got " + lrDense);
    require(lrEmbedding > 0 && Float.isFinite(lrEmbedding), "{lrEmbedding} must be a positive number, got " + lrEmbedding);
    require(adagradEps > 0 && Float.isFinite(adagradEps), "{adagradEps} must be positive, got " + adagradEps);
    require(embeddingAdagrad != null, "{embeddingAdagrad} must be rowwise or elementwise");
    if (quantization == null) {
      quantization = Quantization.FP32;
    }
    if (quantization.quantized()) {
      String p = "{quantization.precision} " + quantization.precision().name().toLowerCase(Locale.ROOT);
      require(embedding == EmbeddingKind.ROBE, p + " stores the ROBE-Z shared array quantized; hash tables stay fp32 "
          + "(use {embedding} robe, or {quantization.precision} fp32)");
      int g = quantization.group();
      require(g == 0 || g % robeZ == 0 || robeZ % g == 0, "{quantization.group} must be a multiple or a divisor of {robeZ}="
          + robeZ + " (so that cached lines hold whole groups and whole blocks), got " + g
          + (g == Quantization.DEFAULT_GROUP ? " (the default; give {quantization.group} block or a multiple of Z)" : ""));
      require(quantization.precision() != Precision.INT4 || quantLine(robeZ, g) % 2 == 0,
          "{quantization.precision} int4 packs two codes a byte, so a line of max({robeZ}, {quantization.group}) floats must be even, got "
              + quantLine(robeZ, g));
    }
  }

  /** Floats in one quantization group: the group size, or Z for one group per ROBE-Z block. */
  public int quantGroupSize() {
    return quantization.group() == 0 ? robeZ : quantization.group();
  }

  /** Floats in one line of the quantized array, the unit the FP32 cache holds: max(Z, group). */
  public int quantLine() {
    return quantLine(robeZ, quantization.group());
  }

  private static int quantLine(int z, int group) {
    return Math.max(z, group == 0 ? z : group);
  }

  private static void require(boolean ok, String template) {
    ConfigException.require(ok, template);
  }

  /** A named starting point; every field can then be overridden with the {@code with*} methods. */
  public static ModelConfig preset(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "kaggle" -> new ModelConfig(16, new int[] {512, 256, 64, 16}, new int[] {512, 256, 1}, false,
          EmbeddingKind.ROBE, 1 << 20, 16, 100_000, OptimizerKind.ADAGRAD, EmbeddingAdagrad.ELEMENTWISE, 0.01f, 0.01f, 1e-10f, 123,
          Quantization.FP32);
      case "terabyte" -> new ModelConfig(128, new int[] {512, 256, 128}, new int[] {1024, 1024, 512, 256, 1}, false,
          EmbeddingKind.ROBE, 1 << 24, 32, 100_000, OptimizerKind.ADAGRAD, EmbeddingAdagrad.ELEMENTWISE, 0.01f, 0.01f, 1e-10f, 123,
          Quantization.FP32);
      case "small" -> new ModelConfig(8, new int[] {32, 8}, new int[] {32, 1}, false,
          EmbeddingKind.ROBE, 1 << 14, 4, 1_000, OptimizerKind.ADAGRAD, EmbeddingAdagrad.ELEMENTWISE, 0.1f, 0.1f, 1e-10f, 123,
          Quantization.FP32);
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

  public ModelConfig withQuantization(Quantization v) {
    return toBuilder().quantization(v).build();
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
    private Quantization quantization;

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
      quantization = c.quantization;
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

    public Builder quantization(Quantization v) {
      quantization = v;
      return this;
    }

    public ModelConfig build() {
      return new ModelConfig(dim, bottom, top, selfInteraction, embedding, robeSize, robeZ, rowsPerTable, optimizer,
          embeddingAdagrad, lrDense, lrEmbedding, adagradEps, seed, quantization);
    }
  }

  /**
   * The config as names to values, the form a ModelSnapshot's {@code config} map carries (dim, bot,
   * top, self_interaction, embedding, robe_size, robe_z, rows_per_table, optimizer,
   * embedding_adagrad, lr_dense, lr_embedding, seed, precision; and when quantized quant_group (in
   * floats, Z for 'block'), quant_scale, cache_fraction, cache_policy), in name order. Serving checks
   * a snapshot's map against the config in its codec bytes with it.
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
    m.put("precision", quantization.precision().name().toLowerCase(Locale.ROOT));
    if (quantization.quantized()) {
      m.put("quant_group", Integer.toString(quantGroupSize()));
      m.put("quant_scale", quantization.scaleDtype().name().toLowerCase(Locale.ROOT));
      m.put("cache_fraction", Float.toString(quantization.cacheFraction()));
      m.put("cache_policy", quantization.cachePolicy().name().toLowerCase(Locale.ROOT));
    }
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
        && Float.compare(c.adagradEps, adagradEps) == 0 && c.seed == seed && c.quantization.equals(quantization);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(new Object[] {dim, Arrays.hashCode(bottom), Arrays.hashCode(top), selfInteraction, embedding,
        robeSize, robeZ, rowsPerTable, optimizer, embeddingAdagrad, lrDense, lrEmbedding, adagradEps, seed, quantization});
  }

  @Override
  public String toString() {
    String emb = embedding == EmbeddingKind.ROBE
        ? "robe(M=" + robeSize + ", Z=" + robeZ + (quantization.quantized() ? ", " + quantization : "") + ")"
        : "hash(R=" + rowsPerTable + ")";
    return "dlrm(d=" + dim + ", bot 13-" + widths(bottom) + ", top " + topInputWidth() + "-" + widths(top)
        + (selfInteraction ? ", self-interaction" : "") + ", " + emb + ", " + optimizer.name().toLowerCase(Locale.ROOT)
        + (optimizer == OptimizerKind.ADAGRAD ? "[" + embeddingAdagrad.name().toLowerCase(Locale.ROOT) + " embedding]" : "")
        + "(lr dense " + lrDense + ", embedding " + lrEmbedding + "), seed " + seed + ")";
  }
}
