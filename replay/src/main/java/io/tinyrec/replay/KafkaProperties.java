package io.tinyrec.replay;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

/**
 * Kafka client settings from a properties file, as {@code --producer-config} and {@code
 * --command-config} take them (the format of Kafka's own {@code --producer.config} files): connection,
 * security (security.protocol, sasl.*, ssl.*) and tuning settings, passed to the clients unchanged.
 */
public final class KafkaProperties {
  private KafkaProperties() {}

  /**
   * Reads a properties file into a map, values trimmed.
   *
   * @param flag the flag that named the file, for the message
   * @throws IllegalArgumentException when the file is missing or unreadable (a usage error)
   */
  public static Map<String, String> load(Path file, String flag) {
    Properties props = new Properties();
    try (Reader r = Files.newBufferedReader(file)) {
      props.load(r);
    } catch (IOException e) {
      throw new IllegalArgumentException(flag + " " + file + " cannot be read: " + e.getMessage());
    }
    Map<String, String> m = new HashMap<>();
    props.stringPropertyNames().forEach(k -> m.put(k, props.getProperty(k).trim()));
    return m;
  }
}
