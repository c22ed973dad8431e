package io.tinyrec.serving;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * Everything {@code tinyrec serve} needs, from its flags. Immutable; the compact constructor
 * validates every field and says what is wrong.
 *
 * @param bootstrapServers Kafka bootstrap servers to follow the models topic on, or null with a snapshot file
 * @param modelsTopic the models topic
 * @param modelName the model served (the records' key)
 * @param snapshotFile a snapshot file to serve instead of the topic, or null
 * @param bind the address to listen on
 * @param port the TCP port (0: any free one)
 * @param threads request threads
 * @param maxBodyBytes the largest request body accepted
 * @param kafkaClient further Kafka client settings (security), from --kafka-config
 */
public record ServeConfig(String bootstrapServers, String modelsTopic, String modelName, Path snapshotFile,
    String bind, int port, int threads, int maxBodyBytes, Map<String, String> kafkaClient) {

  public ServeConfig {
    kafkaClient = Map.copyOf(kafkaClient);
    boolean kafka = bootstrapServers != null && !bootstrapServers.isBlank();
    if (kafka == (snapshotFile != null)) {
      throw new IllegalArgumentException(kafka
          ? "--bootstrap-servers and --snapshot-file are alternatives: follow the models topic, or serve a file"
          : "give --bootstrap-servers HOST:PORT to follow the models topic, or --snapshot-file FILE to serve a file");
    }
    if (snapshotFile != null && !Files.isReadable(snapshotFile)) {
      throw new IllegalArgumentException("--snapshot-file " + snapshotFile + " cannot be read");
    }
    if (snapshotFile != null && !kafkaClient.isEmpty()) {
      throw new IllegalArgumentException("--kafka-config applies to --bootstrap-servers, not to --snapshot-file");
    }
    serverSettings(bind, port, threads, maxBodyBytes); // validates them
    if (kafka) {
      subscriberSettings(bootstrapServers, modelsTopic, modelName, kafkaClient); // validates them
    } else if (modelName == null || modelName.isBlank()) {
      throw new IllegalArgumentException("--model must not be blank");
    }
  }

  /** Whether the model comes from the models topic (else from the snapshot file). */
  public boolean followsTopic() {
    return snapshotFile == null;
  }

  public ScoringServer.Settings serverSettings() {
    return serverSettings(bind, port, threads, maxBodyBytes);
  }

  public SnapshotSubscriber.Settings subscriberSettings() {
    return subscriberSettings(bootstrapServers, modelsTopic, modelName, kafkaClient);
  }

  private static ScoringServer.Settings serverSettings(String bind, int port, int threads, int maxBodyBytes) {
    return new ScoringServer.Settings(bind, port, threads, maxBodyBytes);
  }

  private static SnapshotSubscriber.Settings subscriberSettings(String bootstrap, String topic, String model,
      Map<String, String> client) {
    return new SnapshotSubscriber.Settings(bootstrap, topic, model, client, Duration.ofMillis(100));
  }

  /** The configuration in one line, for the log. */
  public String describe() {
    String from = followsTopic()
        ? "model '" + modelName + "' from topic " + modelsTopic + " on " + bootstrapServers + " (read_committed)"
            + (kafkaClient.isEmpty() ? "" : ", client settings " + kafkaClient.keySet())
        : snapshotFile + " as model '" + modelName + "'";
    return "serve " + from + " on " + bind + ":" + port + ", " + threads + " request threads, bodies up to "
        + maxBodyBytes + " bytes";
  }
}
