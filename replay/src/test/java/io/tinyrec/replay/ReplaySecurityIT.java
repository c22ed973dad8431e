package io.tinyrec.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyrec.schemas.ClickEvent;
import io.tinyrec.schemas.SingleObjectCodec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replay against a secured broker, with every security setting coming from a {@code --producer-config}
 * file read as the CLI reads it ({@link KafkaProperties#load}) and the replay run as the CLI runs it
 * ({@link Replayer#runAsCommand}). One in-JVM broker has three secured client listeners:
 * SASL_PLAINTEXT with the PLAIN mechanism (users set by {@code
 * listener.name.sasl_plaintext.plain.sasl.jaas.config}), SSL, and SASL_SSL; the TLS certificate
 * (EC, for localhost, so clients keep hostname verification on) is made by the JDK's keytool.
 * Records are read back by a consumer with the same security settings.
 */
class ReplaySecurityIT {
  private static final String PASSWORD = "alice-secret";
  private static final String STORE_PASSWORD = "store-secret";
  private static final String PLAIN_LOGIN = "org.apache.kafka.common.security.plain.PlainLoginModule required";

  @TempDir
  static Path dir;
  private static Path truststore;
  private static LocalKafkaBroker broker;

  private final PrintStream out = new PrintStream(OutputStream.nullOutputStream());
  private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
  private final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);

  @BeforeAll
  static void startSecuredBroker() throws Exception {
    Path keystore = dir.resolve("broker.p12");
    Path cert = dir.resolve("broker.pem");
    truststore = dir.resolve("truststore.p12");
    keytool("-genkeypair", "-alias", "broker", "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2",
        "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-storetype", "PKCS12",
        "-keystore", keystore.toString(), "-storepass", STORE_PASSWORD, "-keypass", STORE_PASSWORD);
    keytool("-exportcert", "-rfc", "-alias", "broker", "-keystore", keystore.toString(), "-storepass", STORE_PASSWORD,
        "-file", cert.toString());
    keytool("-importcert", "-noprompt", "-alias", "broker", "-file", cert.toString(), "-storetype", "PKCS12",
        "-keystore", truststore.toString(), "-storepass", STORE_PASSWORD);

    String users = PLAIN_LOGIN + " user_alice=\"" + PASSWORD + "\";";
    Map<String, String> config = new HashMap<>();
    config.put("sasl.enabled.mechanisms", "PLAIN");
    config.put("listener.name.sasl_plaintext.plain.sasl.jaas.config", users);
    config.put("listener.name.sasl_ssl.plain.sasl.jaas.config", users);
    config.put("ssl.keystore.type", "PKCS12");
    config.put("ssl.keystore.location", keystore.toString());
    config.put("ssl.keystore.password", STORE_PASSWORD);
    config.put("ssl.key.password", STORE_PASSWORD);
    broker = LocalKafkaBroker.start(0, null, config, List.of(
        new LocalKafkaBroker.Listener("SASL_PLAINTEXT", "SASL_PLAINTEXT"),
        new LocalKafkaBroker.Listener("SSL", "SSL"),
        new LocalKafkaBroker.Listener("SASL_SSL", "SASL_SSL")));
  }

  @AfterAll
  static void stopBroker() {
    if (broker != null) {
      broker.close();
    }
  }

  private static void keytool(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "keytool did not finish");
    assertEquals(0, p.exitValue(), "keytool " + String.join(" ", args) + ": " + output);
  }

  private static String saslLogin(String password) {
    return PLAIN_LOGIN + " username=\"alice\" password=\"" + password + "\";";
  }

  private static String trustSettings() {
    return "ssl.truststore.type=PKCS12\n"
        + "ssl.truststore.location=" + truststore.toString().replace("\\", "\\\\") + "\n"
        + "ssl.truststore.password=" + STORE_PASSWORD + "\n";
  }

  /** Writes a --producer-config file and reads it back the way the CLI does. */
  private static Map<String, String> producerConfig(String name, String text) throws IOException {
    Path file = dir.resolve(name + ".properties");
    Files.writeString(file, text);
    return KafkaProperties.load(file, "--producer-config");
  }

  private int replay(String listener, String topic, int rows, Map<String, String> security) {
    ReplayConfig cfg = ReplayConfig.ofSynthetic(broker.bootstrapServers(listener), topic, rows, 5)
        .withProducerConfig(security);
    return Replayer.runAsCommand(cfg, out, err);
  }

  @Test
  void shouldReplayThroughSaslPlainWithTheSettingsOfTheProducerConfigFile() throws Exception {
    Map<String, String> security = producerConfig("sasl-plaintext", "security.protocol=SASL_PLAINTEXT\n"
        + "sasl.mechanism=PLAIN\n"
        + "sasl.jaas.config=" + saslLogin(PASSWORD) + "\n");
    int code = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> replay("SASL_PLAINTEXT", "sec.sasl", 500,
        security));
    assertEquals(0, code, errBytes.toString(StandardCharsets.UTF_8));
    assertAllReadBack("SASL_PLAINTEXT", security, "sec.sasl", 500);
  }

  @Test
  void shouldReplayOverTlsTrustingTheBrokerCertificateWithHostnameVerification() throws Exception {
    Map<String, String> security = producerConfig("ssl", "security.protocol=SSL\n" + trustSettings());
    int code = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> replay("SSL", "sec.ssl", 300, security));
    assertEquals(0, code, errBytes.toString(StandardCharsets.UTF_8));
    assertAllReadBack("SSL", security, "sec.ssl", 300);
  }

  @Test
  void shouldReplayOverSaslSslAsAManagedClusterWouldNeed() throws Exception {
    Map<String, String> security = producerConfig("sasl-ssl", "security.protocol=SASL_SSL\n"
        + "sasl.mechanism=PLAIN\n"
        + "sasl.jaas.config=" + saslLogin(PASSWORD) + "\n" + trustSettings());
    int code = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> replay("SASL_SSL", "sec.saslssl", 300,
        security));
    assertEquals(0, code, errBytes.toString(StandardCharsets.UTF_8));
    assertAllReadBack("SASL_SSL", security, "sec.saslssl", 300);
  }

  @Test
  void shouldFailFastAndClearlyOnAWrongPassword() throws Exception {
    Map<String, String> security = producerConfig("wrong-password", "security.protocol=SASL_PLAINTEXT\n"
        + "sasl.mechanism=PLAIN\n"
        + "sasl.jaas.config=" + saslLogin("not-the-password") + "\n");
    long start = System.nanoTime();
    IllegalStateException e = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> assertThrows(
        IllegalStateException.class, () -> replay("SASL_PLAINTEXT", "sec.denied", 100, security)));
    double seconds = (System.nanoTime() - start) / 1e9;
    assertTrue(e.getMessage().contains("refused to authenticate") && e.getMessage().contains("sasl.*")
        && e.getMessage().contains("Authentication failed"), e.getMessage());
    assertTrue(seconds < 15, "an authentication failure is not retried until a timeout: took " + seconds + " s");
  }

  @Test
  void shouldFailFastAndClearlyWhenTheBrokerCertificateIsNotTrusted() throws Exception {
    Map<String, String> security = producerConfig("untrusted", "security.protocol=SSL\n");
    IllegalStateException e = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> assertThrows(
        IllegalStateException.class, () -> replay("SSL", "sec.untrusted", 100, security)));
    assertTrue(e.getMessage().contains("refused to authenticate") && e.getMessage().contains("ssl.*")
        && e.getMessage().contains("SSL handshake failed"), e.getMessage());
  }

  /** Every record of a topic, read by a consumer with the given security settings; checks each event. */
  private static void assertAllReadBack(String listener, Map<String, String> security, String topic, int n) {
    Map<String, Object> p = new HashMap<>(security);
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(listener));
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
        new ByteArrayDeserializer())) {
      List<TopicPartition> tps = new ArrayList<>();
      for (PartitionInfo pi : c.partitionsFor(topic)) {
        tps.add(new TopicPartition(topic, pi.partition()));
      }
      c.assign(tps);
      c.seekToBeginning(tps);
      Map<TopicPartition, Long> end = c.endOffsets(tps);
      List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
        assertTrue(System.nanoTime() < deadline, "timed out reading " + topic);
        c.poll(Duration.ofMillis(200)).forEach(records::add);
      }
      assertEquals(n, records.size());
      SingleObjectCodec<ClickEvent> codec = SingleObjectCodec.of(ClickEvent.class);
      Set<Long> lines = new HashSet<>();
      for (ConsumerRecord<byte[], byte[]> r : records) {
        ClickEvent e = codec.decode(r.value());
        assertEquals("synthetic-5:" + e.getSourceLine(), e.getEventId());
        assertEquals(e.getEventId(), new String(r.key(), StandardCharsets.UTF_8));
        lines.add(e.getSourceLine());
      }
      assertEquals(n, lines.size(), "every row once");
    }
  }
}
