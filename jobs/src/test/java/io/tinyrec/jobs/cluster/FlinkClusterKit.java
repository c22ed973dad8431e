package io.tinyrec.jobs.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A real Flink 2.2.1 standalone session cluster on this machine, from Maven Central artifacts
 * alone: a JobManager and TaskManagers, each a JVM process of its own started as Flink's scripts
 * start them ({@code StandaloneSessionClusterEntrypoint}, {@code TaskManagerRunner}, memory flags
 * from {@code BashJavaUtils}), and Flink's own CLI ({@code CliFrontend}) in a further process for
 * run, stop-with-savepoint and run -s. There is no flink-dist on Maven Central, so the processes'
 * classpath is what flink-dist's lib/ holds, taken from this test's classpath: Flink's runtime,
 * web UI, clients, state backends, the Prometheus reporter and log4j, without Kafka, Avro or
 * tinyrec, which travel in the job jar.
 *
 * <p>Memory is Flink's default ({@code taskmanager.memory.process.size: 1728m}, the managed fraction
 * untouched), so the job is tested on the TaskManagers users start without tuning.
 */
public final class FlinkClusterKit implements AutoCloseable {
  /** Flink's own JVM options for JDK 17 (env.java.opts.all in flink-dist's config.yaml). */
  static final List<String> JAVA_OPTS = List.of(
      "--add-exports=java.base/sun.net.util=ALL-UNNAMED", "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
      "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
      "--add-opens=java.base/java.lang=ALL-UNNAMED", "--add-opens=java.base/java.net=ALL-UNNAMED",
      "--add-opens=java.base/java.io=ALL-UNNAMED", "--add-opens=java.base/java.nio=ALL-UNNAMED",
      "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED", "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
      "--add-opens=java.base/java.text=ALL-UNNAMED", "--add-opens=java.base/java.time=ALL-UNNAMED",
      "--add-opens=java.base/java.util=ALL-UNNAMED", "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
      "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
      "--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED",
      "--add-modules=jdk.incubator.vector");
  /** Jars of this test's classpath that a Flink distribution's lib/ does not hold. */
  private static final Pattern NOT_IN_LIB = Pattern.compile(
      "/org/apache/kafka/|/io/tinyrec/|/org/junit/|/junit/|/org/scala-lang/|/org/apache/avro/|flink-connector-kafka|"
          + "flink-test-utils|-tests\\.jar|testcontainers|docker-java|duct-tape|curator-test|assertj|byte-buddy|"
          + "/org/opentest4j/|/org/apiguardian/|hamcrest");

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private final Path dir;
  private final Path conf;
  private final String classpath;
  private final int restPort;
  private final int promFrom;
  private final int promTo;
  private Process jobManager;
  private final List<Process> taskManagers = new ArrayList<>();
  private int started;

  private FlinkClusterKit(Path dir, Map<String, String> settings) throws IOException {
    this.dir = dir;
    this.conf = Files.createDirectories(dir.resolve("conf"));
    this.classpath = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
        .filter(p -> p.endsWith(".jar") && !NOT_IN_LIB.matcher(p.replace(File.separatorChar, '/')).find())
        .collect(Collectors.joining(File.pathSeparator));
    this.restPort = freePort();
    this.promFrom = freePort();
    this.promTo = promFrom + 9;
    Map<String, String> c = new LinkedHashMap<>();
    c.put("jobmanager.rpc.address", "localhost");
    c.put("jobmanager.rpc.port", Integer.toString(freePort()));
    c.put("jobmanager.bind-host", "localhost");
    c.put("jobmanager.memory.process.size", "1600m");
    c.put("taskmanager.bind-host", "localhost");
    c.put("taskmanager.host", "localhost");
    c.put("taskmanager.numberOfTaskSlots", "2");
    c.put("taskmanager.memory.process.size", "1728m");
    c.put("rest.address", "localhost");
    c.put("rest.bind-address", "localhost");
    c.put("rest.port", Integer.toString(restPort));
    c.put("blob.server.port", "0");
    c.put("taskmanager.rpc.port", "0");
    c.put("taskmanager.data.port", "0");
    c.put("state.backend.type", "hashmap");
    c.put("execution.checkpointing.dir", dir.resolve("checkpoints").toUri().toString());
    c.put("execution.checkpointing.savepoint-dir", dir.resolve("savepoints").toUri().toString());
    c.put("execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION");
    c.put("restart-strategy.type", "fixed-delay");
    c.put("restart-strategy.fixed-delay.attempts", "100");
    c.put("restart-strategy.fixed-delay.delay", "2 s");
    // A killed TaskManager is noticed in seconds rather than Flink's default 50 s.
    c.put("cluster.evenly-spread-out-slots", "true"); // tasks on every TaskManager, as on a real cluster
    c.put("heartbeat.interval", "2000");
    c.put("heartbeat.timeout", "8000");
    c.put("metrics.reporter.prom.factory.class", "org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
    c.put("metrics.reporter.prom.port", promFrom + "-" + promTo);
    c.putAll(settings);
    Files.writeString(conf.resolve("config.yaml"), c.entrySet().stream()
        .map(e -> e.getKey() + ": " + e.getValue()).collect(Collectors.joining("\n", "", "\n")));
    Files.writeString(conf.resolve("log4j.properties"), String.join("\n",
        "rootLogger.level = INFO", "rootLogger.appenderRef.file.ref = File",
        "appender.file.type = File", "appender.file.name = File", "appender.file.fileName = ${sys:log.file}",
        "appender.file.layout.type = PatternLayout",
        "appender.file.layout.pattern = %d{HH:mm:ss.SSS} %-5p %c{1}: %m%n", ""));
    Files.copy(conf.resolve("log4j.properties"), conf.resolve("log4j-cli.properties"));
  }

  /** Starts a JobManager and {@code taskManagers} TaskManagers and waits until their slots are registered. */
  public static FlinkClusterKit start(Path dir, int taskManagers, Map<String, String> settings) throws Exception {
    FlinkClusterKit k = new FlinkClusterKit(dir, settings);
    try {
      k.jobManager = k.spawn("jobmanager", "GET_JM_RESOURCE_PARAMS",
          "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint", "--executionMode", "cluster");
      for (int i = 0; i < taskManagers; i++) {
        k.startTaskManager();
      }
      k.awaitTaskManagers(taskManagers, Duration.ofSeconds(90));
    } catch (Exception | Error e) {
      k.close();
      throw e;
    }
    return k;
  }

  public Path dir() {
    return dir;
  }

  public String restUrl() {
    return "http://localhost:" + restPort;
  }

  /** Starts one more TaskManager, whose resource id is {@code tm-<index>}; returns the index. */
  public int startTaskManager() throws Exception {
    int i = taskManagers.size();
    taskManagers.add(spawn("taskmanager-" + i, "GET_TM_RESOURCE_PARAMS",
        "org.apache.flink.runtime.taskexecutor.TaskManagerRunner", "-D", "taskmanager.resource-id=tm-" + i));
    return i;
  }

  /** The index of the TaskManager that runs subtask 0 of the job's vertex whose name starts so. */
  public int taskManagerRunning(String jobId, String vertexName) throws Exception {
    for (JsonNode v : rest("/jobs/" + jobId).get("vertices")) {
      if (v.get("name").asText().startsWith(vertexName)) {
        JsonNode sub = rest("/jobs/" + jobId + "/vertices/" + v.get("id").asText()).get("subtasks").get(0);
        String tm = sub.path("taskmanager-id").asText();
        if (tm.startsWith("tm-")) {
          return Integer.parseInt(tm.substring(3));
        }
        throw new IllegalStateException("subtask 0 of " + vertexName + " runs on " + tm + ": " + sub);
      }
    }
    throw new IllegalStateException("job " + jobId + " has no vertex named " + vertexName + "...");
  }

  /** kill -9 of a TaskManager process. */
  public void killTaskManager(int i) throws Exception {
    Process p = taskManagers.get(i);
    p.destroyForcibly(); // SIGKILL on Linux: no shutdown hook, no goodbye to the JobManager
    p.waitFor(30, TimeUnit.SECONDS);
  }

  /** Waits until the JobManager sees this many live TaskManagers. */
  public void awaitTaskManagers(int n, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try {
        JsonNode tms = rest("/taskmanagers").get("taskmanagers");
        if (tms != null && tms.size() == n) {
          return;
        }
      } catch (IOException e) {
        // not up yet
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the cluster does not show " + n + " TaskManagers after " + timeout
            + "; logs in " + dir);
      }
      Thread.sleep(250);
    }
  }

  /** GET on the REST API, as JSON. */
  public JsonNode rest(String path) throws IOException, InterruptedException {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(restUrl() + path))
        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IOException("GET " + path + ": " + r.statusCode() + " " + r.body());
    }
    return JSON.readTree(r.body());
  }

  /** The state of a job: RUNNING, RESTARTING, FINISHED and so on. */
  public String jobState(String jobId) throws Exception {
    return rest("/jobs/" + jobId).get("state").asText();
  }

  /** Waits until a job and all its tasks run. */
  public void awaitRunning(String jobId, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      JsonNode job = rest("/jobs/" + jobId);
      boolean all = "RUNNING".equals(job.get("state").asText());
      for (JsonNode v : job.get("vertices")) {
        all &= "RUNNING".equals(v.get("status").asText());
      }
      if (all) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("job " + jobId + " not running after " + timeout + ": " + job);
      }
      Thread.sleep(250);
    }
  }

  /** What a CLI call printed and how it exited. */
  public record CliResult(int exitCode, String output) {}

  /** Runs Flink's CLI ({@code flink ARGS}) against this cluster. */
  public CliResult cli(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(java(), "-Xmx512m"));
    cmd.addAll(JAVA_OPTS);
    cmd.addAll(List.of("-Dlog.file=" + dir.resolve("cli-" + (started++) + ".log"),
        "-Dlog4j.configurationFile=" + conf.resolve("log4j-cli.properties").toUri(),
        "-cp", classpath, "org.apache.flink.client.cli.CliFrontend"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("FLINK_CONF_DIR", conf.toString());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(3, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new IllegalStateException("flink " + String.join(" ", args) + " did not exit in 3 minutes:\n" + out);
    }
    return new CliResult(p.exitValue(), out);
  }

  /** {@code flink run -d [-s savepoint] jar args}; returns the job id. */
  public String run(Path savepoint, Path jar, String... jobArgs) throws Exception {
    List<String> a = new ArrayList<>(List.of("run", "-d"));
    if (savepoint != null) {
      a.addAll(List.of("-s", savepoint.toUri().toString()));
    }
    a.add(jar.toAbsolutePath().toString());
    a.addAll(List.of(jobArgs));
    CliResult r = cli(a.toArray(String[]::new));
    Matcher m = Pattern.compile("JobID ([0-9a-f]{32})").matcher(r.output());
    if (r.exitCode() != 0 || !m.find()) {
      throw new IllegalStateException("flink " + String.join(" ", a) + " failed (" + r.exitCode() + "):\n" + r.output());
    }
    return m.group(1);
  }

  /** {@code flink stop --savepointPath DIR job}; returns the savepoint's path. */
  public Path stopWithSavepoint(String jobId) throws Exception {
    CliResult r = cli("stop", "--savepointPath", dir.resolve("savepoints").toUri().toString(), jobId);
    Matcher m = Pattern.compile("Savepoint completed\\. Path: (\\S+)").matcher(r.output());
    if (r.exitCode() != 0 || !m.find()) {
      throw new IllegalStateException("flink stop " + jobId + " failed (" + r.exitCode() + "):\n" + r.output());
    }
    return Path.of(URI.create(m.group(1)));
  }

  /** Every metric line the cluster's Prometheus reporters serve, from all processes. */
  public List<String> scrapePrometheus() {
    List<String> lines = new ArrayList<>();
    for (int port = promFrom; port <= promTo; port++) {
      try {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/metrics"))
            .timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          lines.addAll(r.body().lines().filter(l -> !l.startsWith("#")).toList());
        }
      } catch (IOException e) {
        // no reporter on this port
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return lines;
  }

  @Override
  public void close() {
    List<Process> all = new ArrayList<>(taskManagers);
    if (jobManager != null) {
      all.add(jobManager);
    }
    for (Process p : all) {
      p.destroy();
    }
    for (Process p : all) {
      try {
        if (!p.waitFor(15, TimeUnit.SECONDS)) {
          p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private Process spawn(String name, String memoryQuery, String mainClass, String... args) throws Exception {
    List<String> memory = memoryFlags(memoryQuery);
    List<String> cmd = new ArrayList<>();
    cmd.add(java());
    cmd.addAll(List.of(memory.get(0).split(" ")));
    cmd.addAll(JAVA_OPTS);
    cmd.addAll(List.of("-Dlog.file=" + dir.resolve(name + ".log"),
        "-Dlog4j.configurationFile=" + conf.resolve("log4j.properties").toUri(),
        "-cp", classpath, mainClass, "--configDir", conf.toString()));
    cmd.addAll(List.of(args));
    cmd.addAll(List.of(memory.get(1).split(" ")));
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve(name + ".out").toFile())
        .start();
  }

  /** Flink's BashJavaUtils, as its start scripts call it: the JVM flags, then the dynamic -D settings. */
  private List<String> memoryFlags(String query) throws Exception {
    Process p = new ProcessBuilder(java(), "-cp", classpath, "org.apache.flink.runtime.util.bash.BashJavaUtils",
        query, "--configDir", conf.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor(60, TimeUnit.SECONDS);
    List<String> results = out.lines().filter(l -> l.startsWith("BASH_JAVA_UTILS_EXEC_RESULT:"))
        .map(l -> l.substring("BASH_JAVA_UTILS_EXEC_RESULT:".length()).trim()).toList();
    if (results.size() < 2) {
      throw new IllegalStateException("BashJavaUtils " + query + " gave no memory settings:\n" + out);
    }
    return results.subList(results.size() - 2, results.size());
  }

  private static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
