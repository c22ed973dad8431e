package io.tinyrec.cli;

import io.tinyrec.replay.KafkaProperties;
import io.tinyrec.schemas.TopicDefaults;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/** Where a model's snapshots are read: the flags serve and snapshot inspect share. */
final class ModelsTopicOptions {
  @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT[,...]",
      description = "Kafka bootstrap servers: read the models topic there.")
  String bootstrapServers;

  @Option(names = "--models-topic", defaultValue = TopicDefaults.MODELS, paramLabel = "T",
      description = "The models topic (default ${DEFAULT-VALUE}).")
  String modelsTopic;

  @Option(names = {"--model", "--model-name"}, defaultValue = TopicDefaults.MODEL_NAME, paramLabel = "NAME",
      description = "The model: its key on the models topic, as train's --model-name (default ${DEFAULT-VALUE}); "
          + "the name a bare codec file goes by.")
  String model;

  @Option(names = "--kafka-config", paramLabel = "FILE",
      description = "Kafka consumer settings (security: SASL/TLS) as a properties file.")
  Path kafkaConfig;

  /** The client settings of --kafka-config, or none. */
  Map<String, String> client() {
    return kafkaConfig == null ? Map.of() : KafkaProperties.load(kafkaConfig, "--kafka-config");
  }
}
