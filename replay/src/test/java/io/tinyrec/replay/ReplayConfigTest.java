package io.tinyrec.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReplayConfigTest {
  private static final ReplayConfig SYN = ReplayConfig.ofSynthetic("localhost:9092", "events", 10, 1);

  private static String error(Runnable r) {
    return assertThrows(IllegalArgumentException.class, r::run).getMessage();
  }

  @Test
  void shouldSayWhichFlagIsWrong() {
    assertTrue(error(() -> ReplayConfig.ofFiles("localhost:9092", "events", List.of(Path.of("no/such.tsv"))))
        .contains("--input no/such.tsv is not a readable file"));
    assertTrue(error(() -> SYN.withPace(ReplayConfig.Pace.RATE, -5, 0)).contains("--rate must be a positive"));
    assertTrue(error(() -> SYN.withPace(ReplayConfig.Pace.SPEEDUP, 0, Double.NaN)).contains("--speedup"));
    assertTrue(error(() -> SYN.withDays(0, 0)).contains("--day-seconds must be >= 1, got 0"));
    assertTrue(error(() -> SYN.withDays(86_400, -1)).contains("--rows-per-day"));
    assertTrue(error(() -> SYN.withDays(86_400, Long.MAX_VALUE / 10)).contains("too large"));
    assertTrue(error(() -> SYN.withResume(List.of(), 0, 0)).contains("--from-line must be >= 1"));
    assertTrue(error(() -> SYN.withResume(List.of(), 12, 0)).contains("past the end"));
    assertTrue(error(() -> SYN.withProducerConfig(Map.of("acks", "1"))).contains("acks=all"));
    assertTrue(error(() -> SYN.withProducerConfig(Map.of("enable.idempotence", "false"))).contains("idempotent"));
    assertTrue(error(() -> SYN.withProducerConfig(Map.of("value.serializer", "x"))).contains("value.serializer"));
    assertTrue(error(() -> ReplayConfig.ofSynthetic(null, "events", 10, 1)).contains("--bootstrap-servers"));
  }

  @Test
  void shouldKeepAcksAndIdempotenceWhateverTheProducerConfigSays() {
    Map<String, Object> p = ReplayClients.producerProperties(SYN.withProducerConfig(Map.of("acks", "-1",
        "linger.ms", "5", "security.protocol", "SASL_SSL")));
    assertEquals("all", p.get("acks"));
    assertEquals("true", p.get("enable.idempotence"));
    assertEquals("5", p.get("linger.ms"));
    assertEquals("SASL_SSL", p.get("security.protocol"));
    assertEquals("localhost:9092", p.get("bootstrap.servers"));
    assertTrue(ReplayClients.adminProperties(SYN.withProducerConfig(Map.of("security.protocol", "SASL_SSL")))
        .containsKey("security.protocol"), "the admin client needs the security settings too");
    assertFalse(ReplayClients.adminProperties(SYN).containsKey("linger.ms"));
  }

  @Test
  void shouldCompressOnlyWhenTheBrokerIsElsewhere() {
    assertEquals("none", ReplayClients.producerProperties(SYN).get("compression.type"));
    assertEquals("lz4", ReplayClients.producerProperties(ReplayConfig.ofSynthetic("kafka-1:9092,localhost:9092",
        "events", 1, 1)).get("compression.type"));
    assertEquals("zstd", ReplayClients.producerProperties(SYN.withProducerConfig(Map.of("compression.type", "zstd")))
        .get("compression.type"));
    assertTrue(ReplayClients.allLoopback("127.0.0.1:9092,[::1]:9093, localhost:1"));
    assertFalse(ReplayClients.allLoopback("10.0.0.1:9092"));
  }
}
