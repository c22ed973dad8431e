package io.tinyrec.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Checks docker-compose.yml and .env.example at the repository root without a Docker engine: the
 * file is interpolated with its own defaults (as Compose does with no environment), then checked
 * against the Compose Specification JSON schema (vendored in src/test/resources/compose-spec, from
 * Debian's docker-compose 1.29.2), then against what tinyrec needs of it. When {@code docker-compose}
 * is installed, {@code docker-compose config -q} must accept the file as well.
 */
class ComposeFileTest {
  /** The services the deployment issue asks for. */
  static final List<String> REQUIRED_SERVICES = List.of("kafka", "jobmanager", "taskmanager", "topics", "train",
      "replay", "serve");
  /** ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?err}: every form Compose interpolates. */
  static final Pattern VAR = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?}");

  static Path root;
  static String raw;
  static Map<String, String> defaults;
  static Map<String, Object> compose;

  @BeforeAll
  static void load() throws IOException {
    root = repositoryRoot();
    raw = Files.readString(root.resolve("docker-compose.yml"));
    defaults = new LinkedHashMap<>();
    List<String> problems = new ArrayList<>();
    // Compose interpolates the parsed values (comments are gone by then), so this does too.
    collectVariables(parse(raw), problems);
    if (!problems.isEmpty()) {
      fail("docker-compose.yml: " + String.join("; ", problems));
    }
    compose = interpolated(raw);
  }

  static void collectVariables(Object node, List<String> problems) {
    if (node instanceof Map<?, ?> map) {
      map.forEach((k, v) -> {
        collectVariables(k, problems);
        collectVariables(v, problems);
      });
    } else if (node instanceof List<?> list) {
      list.forEach(v -> collectVariables(v, problems));
    } else if (node instanceof String text) {
      Matcher m = VAR.matcher(text);
      while (m.find()) {
        if (!"-".equals(stripColon(m.group(2)))) {
          problems.add(m.group() + " (in '" + text.strip() + "') has no default: write ${" + m.group(1)
              + ":-value}, so `docker compose up` works without a .env file");
          continue;
        }
        String prev = defaults.putIfAbsent(m.group(1), m.group(3));
        if (prev != null && !prev.equals(m.group(3))) {
          problems.add("${" + m.group(1) + "} has two defaults: '" + prev + "' and '" + m.group(3) + "'");
        }
      }
    }
  }

  static String stripColon(String op) {
    return op == null ? null : op.replace(":", "");
  }

  /** The file parsed, with every ${NAME:-default} replaced by its default, as Compose does when NAME is unset. */
  @SuppressWarnings("unchecked")
  static Map<String, Object> interpolated(String yaml) {
    return (Map<String, Object>) interpolate(parse(yaml));
  }

  static Object interpolate(Object node) {
    if (node instanceof Map<?, ?> map) {
      Map<Object, Object> out = new LinkedHashMap<>();
      map.forEach((k, v) -> out.put(interpolate(k), interpolate(v)));
      return out;
    } else if (node instanceof List<?> list) {
      return list.stream().map(ComposeFileTest::interpolate).toList();
    } else if (node instanceof String text) {
      Matcher m = VAR.matcher(text);
      StringBuilder out = new StringBuilder();
      while (m.find()) {
        m.appendReplacement(out, Matcher.quoteReplacement(m.group(3) == null ? "" : m.group(3)));
      }
      m.appendTail(out);
      return out.toString();
    }
    return node;
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> parse(String yaml) {
    Object doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(yaml);
    assertTrue(doc instanceof Map, "docker-compose.yml must be a mapping at the top");
    return (Map<String, Object>) doc;
  }

  static Path repositoryRoot() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !Files.exists(p.resolve("docker-compose.yml"))) {
      p = p.getParent();
    }
    assertTrue(p != null, "no docker-compose.yml in " + Path.of("").toAbsolutePath() + " or above");
    return p;
  }

  @SuppressWarnings("unchecked")
  static Map<String, Map<String, Object>> services() {
    return (Map<String, Map<String, Object>>) compose.get("services");
  }

  @Test
  void shouldMatchTheComposeSpecificationSchema() throws IOException {
    ObjectMapper json = new ObjectMapper();
    JsonNode schemaNode;
    try (InputStream in = ComposeFileTest.class.getResourceAsStream("/compose-spec/compose_spec.json")) {
      schemaNode = json.readTree(in);
    }
    // The file still marks its sub-schemas with draft-04 "id" strings while declaring 2019-09,
    // whose validator has no such keyword; they only name sub-schemas, so they are dropped here.
    dropDraft4Ids(schemaNode);
    SchemaValidatorsConfig config = SchemaValidatorsConfig.builder().build();
    JsonSchema schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V201909).getSchema(schemaNode, config);
    Set<ValidationMessage> errors = schema.validate(json.valueToTree(compose));
    assertTrue(errors.isEmpty(), "docker-compose.yml does not match the compose-spec schema: " + errors);

    // The check has teeth: a misspelt key and a wrong type are caught.
    Map<String, Object> broken = interpolated(raw.replace("    healthcheck:\n      test: [\"CMD-SHELL\"",
        "    healthchek:\n      test: [\"CMD-SHELL\"").replace("restart: unless-stopped", "restart: [1]"));
    Set<ValidationMessage> brokenErrors = schema.validate(json.valueToTree(broken));
    assertTrue(brokenErrors.stream().anyMatch(e -> e.getMessage().contains("healthchek")), brokenErrors.toString());
    assertTrue(brokenErrors.stream().anyMatch(e -> e.getMessage().contains("restart")), brokenErrors.toString());
  }

  static void dropDraft4Ids(JsonNode node) {
    if (node.isObject()) {
      if (node.path("id").isTextual()) {
        ((com.fasterxml.jackson.databind.node.ObjectNode) node).remove("id");
      }
      node.forEach(ComposeFileTest::dropDraft4Ids);
    } else if (node.isArray()) {
      node.forEach(ComposeFileTest::dropDraft4Ids);
    }
  }

  @Test
  void shouldHaveEveryServiceTheDeploymentNeedsStartingInOrder() {
    Map<String, Map<String, Object>> s = services();
    assertTrue(s.keySet().containsAll(REQUIRED_SERVICES), "services " + s.keySet() + " must include "
        + REQUIRED_SERVICES);
    for (Map.Entry<String, Map<String, Object>> e : s.entrySet()) {
      Object deps = e.getValue().get("depends_on");
      if (deps instanceof Map<?, ?> d) {
        for (Object target : d.keySet()) {
          assertTrue(s.containsKey(target), e.getKey() + " depends on " + target + ", which is not a service");
        }
      }
    }
    assertEquals("service_healthy", condition("topics", "kafka"), "topics must wait for a healthy broker");
    assertEquals("service_completed_successfully", condition("train", "topics"), "the job needs its topics");
    assertEquals("service_healthy", condition("train", "jobmanager"));
    assertEquals("service_completed_successfully", condition("replay", "train"), "replay after the job is submitted");
    assertEquals("service_healthy", condition("taskmanager", "jobmanager"));
    assertTrue(s.get("kafka").containsKey("healthcheck") && s.get("jobmanager").containsKey("healthcheck"));
  }

  @SuppressWarnings("unchecked")
  static String condition(String service, String on) {
    Object deps = services().get(service).get("depends_on");
    assertTrue(deps instanceof Map, service + " needs depends_on with conditions");
    Object dep = ((Map<String, Object>) deps).get(on);
    assertTrue(dep instanceof Map, service + " must depend on " + on);
    return String.valueOf(((Map<String, Object>) dep).get("condition"));
  }

  @Test
  void shouldPinEveryImageAndUseTheOfficialKafkaAndFlink22Java17Images() {
    Pattern pinned = Pattern.compile("[^:@]+:\\d+\\.\\d+\\.\\d+[^:]*");
    for (Map.Entry<String, Map<String, Object>> e : services().entrySet()) {
      String image = String.valueOf(e.getValue().get("image"));
      assertTrue(pinned.matcher(image).matches(), e.getKey() + ": image '" + image + "' is not pinned to a release "
          + "(name:MAJOR.MINOR.PATCH...)");
    }
    assertTrue(services().get("kafka").get("image").toString().startsWith("apache/kafka:4."));
    for (String f : List.of("jobmanager", "taskmanager", "train")) {
      String image = services().get(f).get("image").toString();
      assertTrue(image.matches("flink:2\\.2\\.\\d+-scala_2\\.12-java17"), f + ": " + image);
    }
  }

  @Test
  @SuppressWarnings("unchecked")
  void kafkaShouldRunInKraftModeWithListenersForContainersAndTheHost() {
    Map<String, Object> env = (Map<String, Object>) services().get("kafka").get("environment");
    assertEquals("broker,controller", env.get("KAFKA_PROCESS_ROLES"));
    assertTrue(env.keySet().stream().noneMatch(k -> k.contains("ZOOKEEPER")), env.keySet().toString());
    String advertised = env.get("KAFKA_ADVERTISED_LISTENERS").toString();
    assertTrue(advertised.contains("INTERNAL://kafka:19092") && advertised.contains("EXTERNAL://localhost:9092"),
        advertised);
    for (String k : List.of("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR")) {
      assertEquals("1", String.valueOf(env.get(k)), k + " must be 1 on a single node");
    }
    // The snapshot sink's transaction timeout is 10 minutes; the broker must allow it.
    assertTrue(Long.parseLong(env.get("KAFKA_TRANSACTION_MAX_TIMEOUT_MS").toString()) >= 600_000);
    String id = env.get("CLUSTER_ID").toString();
    assertTrue(id.matches("[A-Za-z0-9_-]{22}"), "CLUSTER_ID must be a 22-character base64 UUID, got " + id);
    // Every container reaches the broker on the internal listener.
    for (Map.Entry<String, Map<String, Object>> e : services().entrySet()) {
      String cmd = String.valueOf(e.getValue().get("command"));
      if (cmd.contains("--bootstrap-servers")) {
        assertTrue(cmd.contains("--bootstrap-servers, kafka:19092"), e.getKey() + ": " + cmd);
      }
    }
  }

  @Test
  @SuppressWarnings("unchecked")
  void flinkShouldBeConfiguredWithFlink2KeysAndSharedCheckpoints() {
    for (String f : List.of("jobmanager", "taskmanager")) {
      Map<String, Object> svc = services().get(f);
      String props = ((Map<String, Object>) svc.get("environment")).get("FLINK_PROPERTIES").toString();
      for (String key : List.of("jobmanager.rpc.address: jobmanager", "state.backend.type: hashmap",
          "execution.checkpointing.dir: file:///flink-data/checkpoints", "taskmanager.numberOfTaskSlots:")) {
        assertTrue(props.contains(key), f + " FLINK_PROPERTIES lacks '" + key + "'");
      }
      // Flink 1.x names that Flink 2 no longer reads.
      for (String old : List.of("state.checkpoints.dir", "state.backend:", "restart-strategy: ")) {
        assertTrue(!props.contains(old), f + " uses the Flink 1.x key " + old);
      }
      assertTrue(String.valueOf(svc.get("volumes")).contains("flink-data:/flink-data"), f + " needs the shared volume");
    }
  }

  /**
   * The jars the services run are the ones `mvn package` builds: each path under a mount of the
   * project is mapped back to the host, and must be a build output that the poms name, with its
   * main class in the sources.
   */
  @Test
  @SuppressWarnings("unchecked")
  void everyJarAServiceRunsShouldBeProducedByTheBuild() throws IOException {
    Map<String, String> outputs = Map.of(
        "jobs/target/tinyrec-job.jar", "jobs/pom.xml",
        "cli/target/tinyrec-cli.jar", "cli/pom.xml");
    String jobsPom = Files.readString(root.resolve("jobs/pom.xml"));
    assertTrue(jobsPom.contains("<finalName>tinyrec-job</finalName>"), "jobs/pom.xml no longer builds tinyrec-job.jar");
    String cliPom = Files.readString(root.resolve("cli/pom.xml"));
    assertTrue(cliPom.contains("<finalName>tinyrec-cli</finalName>")
        && cliPom.contains("<outputDirectory>${project.build.directory}/lib</outputDirectory>"),
        "cli/pom.xml no longer builds cli/target/tinyrec-cli.jar with its dependencies in cli/target/lib");
    Set<String> seen = new TreeSet<>();
    for (Map.Entry<String, Map<String, Object>> e : services().entrySet()) {
      List<String[]> mounts = new ArrayList<>();
      for (Object v : (List<Object>) e.getValue().getOrDefault("volumes", List.of())) {
        String[] parts = v.toString().split(":");
        if (parts[0].startsWith("./")) {
          mounts.add(new String[] {parts[0].substring(2), parts[1]});
        }
      }
      String words = e.getValue().get("entrypoint") + " " + e.getValue().get("command");
      Matcher jar = Pattern.compile("/opt/tinyrec/[A-Za-z0-9_./-]+\\.jar").matcher(words);
      while (jar.find()) {
        String inContainer = jar.group();
        String host = null;
        for (String[] m : mounts) {
          if (inContainer.startsWith(m[1] + "/")) {
            host = m[0] + inContainer.substring(m[1].length());
          }
        }
        assertTrue(host != null, e.getKey() + ": " + inContainer + " is not under a mount of the project");
        assertTrue(outputs.containsKey(host), e.getKey() + ": " + inContainer + " is " + host
            + ", which the build does not produce (it produces " + outputs.keySet() + ")");
        seen.add(host);
        Path built = root.resolve(host);
        if (Files.exists(built)) { // after `mvn package`; CI's verify runs this module last
          try (InputStream in = Files.newInputStream(built)) {
            byte[] magic = in.readNBytes(2);
            assertTrue(magic.length == 2 && magic[0] == 'P' && magic[1] == 'K', built + " is not a jar");
          }
        }
      }
    }
    assertEquals(outputs.keySet(), seen, "the job jar and the CLI jar should both be used");
    assertTrue(raw.contains("-c\n      - io.tinyrec.jobs.TrainJobMain"), "train must name the job's main class");
    assertTrue(Files.exists(root.resolve("jobs/src/main/java/io/tinyrec/jobs/TrainJobMain.java")));
    assertTrue(raw.contains("- io.tinyrec.cli.Tinyrec"));
    assertTrue(Files.exists(root.resolve("cli/src/main/java/io/tinyrec/cli/Tinyrec.java")));
  }

  /** The job's flags must be ones TrainJobMain takes; a CLI command's flags ones its command declares. */
  @Test
  @SuppressWarnings("unchecked")
  void everyFlagPassedShouldExistInTheProgramThatTakesIt() throws IOException {
    String jobMain = Files.readString(root.resolve("jobs/src/main/java/io/tinyrec/jobs/TrainJobMain.java"));
    List<Object> train = (List<Object>) services().get("train").get("command");
    int jar = train.indexOf("/opt/tinyrec/jobs/tinyrec-job.jar");
    for (Object arg : train.subList(jar + 1, train.size())) {
      String a = arg.toString();
      if (a.startsWith("--") && !a.equals("--bounded")) {
        assertTrue(jobMain.contains("\"" + a.substring(2) + "\""), "TrainJobMain does not take " + a);
      }
    }
    Map<String, String> commandSources = cliCommandSources();
    for (Map.Entry<String, Map<String, Object>> e : services().entrySet()) {
      if (!String.valueOf(e.getValue().get("entrypoint")).contains("io.tinyrec.cli.Tinyrec")) {
        continue;
      }
      List<Object> cmd = (List<Object>) e.getValue().get("command");
      String sub = cmd.get(0).toString();
      String source = commandSources.get(sub);
      assertTrue(source != null, e.getKey() + ": no CLI command '" + sub + "'");
      for (Object arg : cmd) {
        String a = arg.toString();
        if (a.startsWith("--")) {
          // picocli's negatable options: --progress declares --no-progress too.
          boolean negated = a.startsWith("--no-") && source.contains("\"--" + a.substring(5) + "\", negatable = true");
          assertTrue(negated || source.contains("\"" + a + "\""), e.getKey() + ": `tinyrec " + sub + "` has no flag "
              + a);
        }
      }
    }
  }

  /**
   * Subcommand name to the source text of its class, followed by the sources of the picocli mixins
   * it declares (whose flags it takes too); topics' subcommands share one file.
   */
  static Map<String, String> cliCommandSources() throws IOException {
    Map<String, String> m = new LinkedHashMap<>();
    Path dir = root.resolve("cli/src/main/java/io/tinyrec/cli");
    Pattern name = Pattern.compile("@Command\\(name = \"([a-z-]+)\"");
    Pattern mixin = Pattern.compile("@Mixin\\s+(?:final\\s+)?([A-Z][A-Za-z0-9]*)\\s");
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.toList()) {
        String text = Files.readString(f);
        Matcher n = name.matcher(text);
        if (n.find()) {
          StringBuilder all = new StringBuilder(text);
          Matcher mx = mixin.matcher(text);
          while (mx.find()) {
            Path mixinFile = dir.resolve(mx.group(1) + ".java");
            if (Files.exists(mixinFile)) {
              all.append('\n').append(Files.readString(mixinFile));
            }
          }
          m.put(n.group(1), all.toString());
        }
      }
    }
    return m;
  }

  @Test
  void envExampleShouldDocumentEveryVariableWithTheSameDefault() throws IOException {
    Map<String, String> documented = new LinkedHashMap<>();
    List<String> lines = Files.readAllLines(root.resolve(".env.example"), StandardCharsets.UTF_8);
    Pattern assignment = Pattern.compile("([A-Z_][A-Z0-9_]*)=(.*)");
    for (int i = 0; i < lines.size(); i++) {
      Matcher m = assignment.matcher(lines.get(i));
      if (m.matches()) {
        assertTrue(documented.put(m.group(1), m.group(2)) == null, ".env.example sets " + m.group(1) + " twice");
      }
    }
    for (Map.Entry<String, String> d : defaults.entrySet()) {
      assertTrue(documented.containsKey(d.getKey()), ".env.example does not document " + d.getKey());
      assertEquals(d.getValue(), documented.get(d.getKey()), ".env.example's default of " + d.getKey()
          + " differs from docker-compose.yml's");
    }
    assertEquals(defaults.keySet(), documented.keySet(), ".env.example documents variables docker-compose.yml "
        + "does not use");
    String deploy = Files.readString(root.resolve("docs/deploy.md"));
    for (String v : defaults.keySet()) {
      assertTrue(deploy.contains("`" + v + "`"), "docs/deploy.md does not describe " + v);
    }
  }

  /** Debian's docker-compose, where installed (not in CI's fresh machine): its own check must pass too. */
  @Test
  void dockerComposeConfigShouldAcceptTheFileWhereInstalled() throws Exception {
    Path exe = Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
        .map(d -> Path.of(d, "docker-compose")).filter(Files::isExecutable).findFirst().orElse(null);
    assumeTrue(exe != null, "docker-compose is not installed; the schema check above stands in for it");
    ProcessBuilder pb = new ProcessBuilder(exe.toString(), "--project-directory", root.toString(), "-f",
        root.resolve("docker-compose.yml").toString(), "config", "-q").redirectErrorStream(true);
    // The file's own defaults, not a developer's .env or shell settings.
    defaults.keySet().forEach(pb.environment()::remove);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "docker-compose config did not finish in 60 s");
    assertEquals(0, p.exitValue(), "docker-compose config -q rejected docker-compose.yml:\n" + out);
  }
}
