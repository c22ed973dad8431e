package io.tinyrec.model;

import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A model setting that cannot be used. The message names the settings by their config field
 * ({@code robeZ}, {@code quantization.group}, {@code batch}), as the components of
 * {@link ModelConfig} and its {@code Quantization} spell them; it never names a command-line flag. A front end that
 * knows its own spelling of each field (the CLI's flags) renders the same message with
 * {@link #render}.
 *
 * <p>The template marks each field as {@code {field}}: {@link #getMessage()} drops the braces.
 */
public final class ConfigException extends IllegalArgumentException {
  private static final Pattern FIELD = Pattern.compile("\\{([A-Za-z.]+)}");
  private final String template;

  public ConfigException(String template) {
    super(render(template, UnaryOperator.identity()));
    this.template = template;
  }

  /** The message with each field named as {@code nameOf} spells it (a flag, say). */
  public String render(UnaryOperator<String> nameOf) {
    return render(template, nameOf);
  }

  private static String render(String template, UnaryOperator<String> nameOf) {
    Matcher m = FIELD.matcher(template);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      m.appendReplacement(out, Matcher.quoteReplacement(nameOf.apply(m.group(1))));
    }
    m.appendTail(out);
    return out.toString();
  }

  /** Throws a ConfigException with the template unless ok. */
  static void require(boolean ok, String template) {
    if (!ok) {
      throw new ConfigException(template);
    }
  }
}
