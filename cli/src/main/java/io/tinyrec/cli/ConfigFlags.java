package io.tinyrec.cli;

import io.tinyrec.model.ConfigException;
import java.util.Map;

/**
 * The CLI's spelling of each model config field: the model's errors name fields
 * ({@code robeZ}), and a user of the command line reads the flag that sets it ({@code --robe-z}).
 * A field with no flag of its own keeps its field name.
 */
final class ConfigFlags {
  static final Map<String, String> FLAG_OF_FIELD = Map.ofEntries(
      Map.entry("dim", "--dim"),
      Map.entry("bottom", "--bot"),
      Map.entry("top", "--top"),
      Map.entry("embedding", "--embedding"),
      Map.entry("robeSize", "--robe-size"),
      Map.entry("robeZ", "--robe-z"),
      Map.entry("rowsPerTable", "--rows-per-table"),
      Map.entry("optimizer", "--optimizer"),
      Map.entry("embeddingAdagrad", "--embedding-adagrad"),
      Map.entry("lrDense", "--lr-dense"),
      Map.entry("lrEmbedding", "--lr-embedding"),
      Map.entry("seed", "--seed"),
      Map.entry("quantization", "--precision"),
      Map.entry("quantization.precision", "--precision"),
      Map.entry("quantization.group", "--quant-group"),
      Map.entry("quantization.scaleDtype", "--quant-scale"),
      Map.entry("quantization.cacheFraction", "--cache-fraction"),
      Map.entry("quantization.cachePolicy", "--cache-policy"),
      Map.entry("compression", "--compression"),
      Map.entry("batch", "--batch"));

  private ConfigFlags() {}

  /** The flag that sets a config field, or the field's own name where no flag does. */
  static String flagOf(String field) {
    return FLAG_OF_FIELD.getOrDefault(field, field);
  }

  /** An error's message as a CLI user should read it: config fields named by their flags. */
  static String message(Throwable e) {
    return e instanceof ConfigException c ? c.render(ConfigFlags::flagOf) : e.getMessage();
  }
}
