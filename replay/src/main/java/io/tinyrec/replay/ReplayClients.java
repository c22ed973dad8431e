package io.tinyrec.replay;

import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** The Kafka client settings replay runs with: its producer's and its admin client's. */
public final class ReplayClients {
  private ReplayClients() {}

  /** The producer settings replay uses: its defaults, then --producer-config, then bootstrap servers. */
  public static Map<String, Object> producerProperties(ReplayConfig cfg) {
    Map<String, Object> p = new HashMap<>();
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "tinyrec-replay");
    // Large batches, compressed: a ~250-byte event costs little more than its bytes on the wire.
    p.put(ProducerConfig.LINGER_MS_CONFIG, "20");
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(512 * 1024));
    p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, Long.toString(128L << 20));
    p.putAll(cfg.producerConfig());
    if (cfg.bootstrapServers() != null && !cfg.bootstrapServers().isBlank()) {
      p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cfg.bootstrapServers());
    }
    // lz4 makes events ~1.8x smaller on the wire and on disk; a broker on this machine gains nothing
    // from that and would only spend CPU on both ends.
    p.putIfAbsent(ProducerConfig.COMPRESSION_TYPE_CONFIG,
        allLoopback(String.valueOf(p.get(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG))) ? "none" : "lz4");
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    return p;
  }

  /** True when every bootstrap server is this machine (localhost or a loopback address). */
  static boolean allLoopback(String bootstrapServers) {
    for (String server : bootstrapServers.split(",")) {
      String s = server.trim();
      int colon = s.lastIndexOf(':');
      String host = colon > 0 ? s.substring(0, colon) : s;
      host = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
      if (!(host.equalsIgnoreCase("localhost") || host.startsWith("127.") || host.equals("::1"))) {
        return false;
      }
    }
    return true;
  }

  /** Admin settings: the producer's connection and security settings, without producer-only keys. */
  public static Map<String, Object> adminProperties(ReplayConfig cfg) {
    Map<String, Object> p = new HashMap<>(producerProperties(cfg));
    p.keySet().removeIf(k -> !org.apache.kafka.clients.admin.AdminClientConfig.configNames().contains(k));
    p.put("client.id", "tinyrec-replay-admin");
    // Fail in seconds, not a minute, when the servers are wrong or down.
    p.putIfAbsent("default.api.timeout.ms", "20000");
    p.putIfAbsent("request.timeout.ms", "10000");
    return p;
  }
}
