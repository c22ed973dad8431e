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

  @Option(names = "--lr", description = "Learning rate of every part (default 0.1).")
  Float lr;

  @Option(names = "--lr-dense", description = "Learning rate of the MLPs (overrides --lr).")
  Float lrDense;

  @Option(names = "--lr-embedding", description = "Learning rate of the embedding (overrides --lr).")
  Float lrEmbedding;

  @Option(names = "--seed", description = "Seed of every random draw (default 123).")
  Long seed;

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
    return c.build();
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
