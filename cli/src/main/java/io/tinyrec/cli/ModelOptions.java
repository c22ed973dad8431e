package io.tinyrec.cli;

import io.tinyrec.model.CriteoTableSizes;
import io.tinyrec.model.ModelConfig;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * The model flags shared by every command that builds a model (learn, train). Unset flags take
 * the preset's value; names and defaults match the PyTorch reference where they mean the same.
 */
public final class ModelOptions {
  @Option(names = "--preset", defaultValue = "kaggle",
      description = "Model shape: kaggle (d=16, bot 512-256-64-16, top 512-256-1), terabyte (d=128, bot 512-256-128, "
          + "top 1024-1024-512-256-1) or small (tests). Default ${DEFAULT-VALUE}.")
  String preset;

  @Option(names = "--dim", description = "Embedding dimension d (the bottom MLP must end in d).")
  Integer dim;

  @Option(names = "--bot", description = "Bottom MLP widths after the 13 inputs, e.g. 512-256-64-16.")
  String bot;

  @Option(names = "--top", description = "Top MLP widths after the interaction, ending in 1, e.g. 512-256-1.")
  String top;

  @Option(names = "--self-interaction", description = "Include each vector's dot with itself in the interaction.")
  boolean selfInteraction;

  @Option(names = "--embedding", description = "robe (ROBE-Z shared array, default) or hash (one table per feature).")
  String embedding;

  @Option(names = "--robe-size", description = "M, floats in the shared ROBE-Z array (default 1048576).")
  Integer robeSize;

  @Option(names = "--compression", description = "Set M as a compression factor against the full tables, e.g. 1000x.")
  String compression;

  @Option(names = "--tables", description = "Full tables --compression refers to: kaggle or terabyte (default: by preset).")
  String tables;

  @Option(names = "--robe-z", description = "Z, the ROBE-Z block size; must divide --dim (default 16).")
  Integer robeZ;

  @Option(names = "--rows-per-table", description = "R, rows per feature table for --embedding hash (default 100000).")
  Integer rowsPerTable;

  @Option(names = "--optimizer", description = "sgd or adagrad (default adagrad).")
  String optimizer;

  @Option(names = "--embedding-adagrad", description = "Adagrad accumulators of the embedding: elementwise (one per "
      + "float, as PyTorch; default) or rowwise (one per block of Z floats or table row: 1/Z of the state memory, "
      + "about 0.004 AUC lower).")
  String embeddingAdagrad;

  @Option(names = "--lr", description = "Learning rate of every part (default 0.01 for the kaggle and terabyte presets, "
      + "0.1 for small).")
  Float lr;

  @Option(names = "--lr-dense", description = "Learning rate of the MLPs (overrides --lr).")
  Float lrDense;

  @Option(names = "--lr-embedding", description = "Learning rate of the embedding (overrides --lr).")
  Float lrEmbedding;

  @Option(names = "--seed", description = "Seed of every random draw (default 123).")
  Long seed;

  @Option(names = "--precision", description = "Storage of the ROBE-Z array: fp32 (default), int8 or int4 codes with a "
      + "scale and a bias per group and an FP32 cache of hot lines that trains in FP32 (robe only).")
  String precision;

  @Option(names = "--quant-group", description = "Floats per quantization group with --precision int8/int4: 'block' "
      + "(one group per ROBE-Z block of Z floats) or a multiple or divisor of Z (default 64).")
  String quantGroup;

  @Option(names = "--quant-scale", description = "Storage of each group's scale and bias: fp16 or fp32 (default "
      + "fp16).")
  String quantScale;

  @Option(names = "--cache-fraction", description = "Share of the quantized array's lines held in the FP32 cache, 0 to "
      + "1 (default 0.05; 0: every update is re-quantized at once).")
  Float cacheFraction;

  @Option(names = "--cache-policy", description = "Which cached line gives way: lfu (fewest updates, decayed) or lru "
      + "(least recently updated) (default lfu).")
  String cachePolicy;


  /** Resolves the flags against the preset into a validated config. */
  public ModelConfig toConfig() {
    ModelConfig preset = ModelConfig.preset(this.preset);
    ModelConfig.Builder c = preset.toBuilder();
    if (dim != null) {
      c.dim(dim);
    }
    if (bot != null) {
      c.bottom(ModelConfig.parseWidths("--bot", bot));
    }
    if (top != null) {
      c.top(ModelConfig.parseWidths("--top", top));
    }
    c.selfInteraction(selfInteraction || preset.selfInteraction());
    ModelConfig.EmbeddingKind emb = embedding == null ? preset.embedding()
        : parseEnum("--embedding", embedding, ModelConfig.EmbeddingKind.class);
    c.embedding(emb);
    int z = robeZ != null ? robeZ : preset.robeZ();
    c.robeZ(z);
    if (robeSize != null) {
      c.robeSize(robeSize);
    }
    if (compression != null) {
      if (robeSize != null) {
        throw new IllegalArgumentException("give --robe-size or --compression, not both");
      }
      CriteoTableSizes tableSizes = tables != null ? parseEnum("--tables", tables, CriteoTableSizes.class)
          : "terabyte".equalsIgnoreCase(this.preset) ? CriteoTableSizes.TERABYTE : CriteoTableSizes.KAGGLE;
      c.robeSize(tableSizes.robeSizeFor(CriteoTableSizes.parseCompression(compression),
          dim != null ? dim : preset.dim(), z));
    }
    if (rowsPerTable != null) {
      c.rowsPerTable(rowsPerTable);
    }
    if (optimizer != null) {
      c.optimizer(parseEnum("--optimizer", optimizer, ModelConfig.OptimizerKind.class));
    }
    if (embeddingAdagrad != null) {
      c.embeddingAdagrad(parseEnum("--embedding-adagrad", embeddingAdagrad, ModelConfig.EmbeddingAdagrad.class));
    }
    if (lr != null) {
      c.lrDense(lr).lrEmbedding(lr);
    }
    if (lrDense != null) {
      c.lrDense(lrDense);
    }
    if (lrEmbedding != null) {
      c.lrEmbedding(lrEmbedding);
    }
    if (seed != null) {
      c.seed(seed);
    }
    c.quantization(quantization(preset.quantization()));
    return c.build();
  }

  /** The quantization flags resolved against the preset's; quantization flags without a quantized precision are refused. */
  private ModelConfig.Quantization quantization(ModelConfig.Quantization preset) {
    ModelConfig.Precision p = precision == null ? preset.precision()
        : parseEnum("--precision", precision, ModelConfig.Precision.class);
    if (p == ModelConfig.Precision.FP32) {
      for (Object flag : new Object[] {quantGroup, quantScale, cacheFraction, cachePolicy}) {
        if (flag != null) {
          throw new IllegalArgumentException("--quant-group, --quant-scale, --cache-fraction and --cache-policy apply "
              + "to --precision int8 or int4; the fp32 array has no quantization groups and no cache");
        }
      }
      return ModelConfig.Quantization.FP32;
    }
    ModelConfig.Quantization q = preset.quantized() ? preset : ModelConfig.Quantization.of(p);
    q = new ModelConfig.Quantization(p, q.group(), q.scaleDtype(), q.cacheFraction(), q.cachePolicy());
    if (quantGroup != null) {
      q = q.withGroup(parseGroup(quantGroup));
    }
    if (quantScale != null) {
      q = q.withScaleDtype(parseEnum("--quant-scale", quantScale, ModelConfig.ScaleDtype.class));
    }
    if (cacheFraction != null) {
      if (!Float.isFinite(cacheFraction)) {
        throw new IllegalArgumentException("--cache-fraction must be between 0 and 1, got " + cacheFraction);
      }
      q = q.withCacheFraction(cacheFraction);
    }
    if (cachePolicy != null) {
      q = q.withCachePolicy(parseEnum("--cache-policy", cachePolicy, ModelConfig.CachePolicy.class));
    }
    return q;
  }

  private static int parseGroup(String v) {
    if (v.equalsIgnoreCase("block")) {
      return 0;
    }
    try {
      int g = Integer.parseInt(v);
      if (g < 2) {
        throw new NumberFormatException();
      }
      return g;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--quant-group must be 'block' or a group size >= 2 floats, got '" + v + "'");
    }
  }

  static <E extends Enum<E>> E parseEnum(String flag, String value, Class<E> type) {
    try {
      return Enum.valueOf(type, value.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      StringBuilder allowed = new StringBuilder();
      for (E v : type.getEnumConstants()) {
        allowed.append(allowed.length() == 0 ? "" : ", ").append(v.name().toLowerCase(Locale.ROOT));
      }
      throw new IllegalArgumentException(flag + " must be one of " + allowed + ", got '" + value + "'");
    }
  }
}
