package io.tinyrec.cli;

import io.tinyrec.serving.BadSnapshotException;
import io.tinyrec.serving.FixedModel;
import io.tinyrec.serving.ModelSource;
import io.tinyrec.serving.ScoringServer;
import io.tinyrec.serving.ServeConfig;
import io.tinyrec.serving.ServedModel;
import io.tinyrec.serving.ServingMetrics;
import io.tinyrec.serving.SnapshotDecoder;
import io.tinyrec.serving.SnapshotSubscriber;
import java.io.IOException;
import java.net.BindException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code tinyrec serve}: the model over HTTP, following the models topic or from a file. */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Serves click probabilities over HTTP. It follows the models topic (read_committed) and swaps "
        + "each newer good snapshot in atomically; a bad snapshot is refused, logged and counted while the last "
        + "good model keeps serving. With --snapshot-file it serves a file instead (from learn --save-snapshot).",
        "POST /score: JSON events (one, an array, or {\"events\": [...]}) or Criteo TSV rows "
            + "(Content-Type: text/tab-separated-values, label column optional); the answer is "
            + "{\"model\", \"version\", \"scores\"} in request order. GET /model, GET /healthz (200 once a model is "
            + "loaded), GET /metrics (Prometheus). Prints the base URL on stdout; runs until Ctrl-C."},
    footer = {"", "Examples:",
        "  ./tinyrec serve --bootstrap-servers localhost:9092",
        "  ./tinyrec serve --snapshot-file runs/model.trsn --port 8081",
        "  curl -s --data-binary @rows.tsv -H 'Content-Type: text/tab-separated-values' localhost:8080/score"})
public final class ServeCommand implements Callable<Integer> {
  @Mixin
  ModelsTopicOptions topic;

  @Option(names = "--port", defaultValue = "8080", paramLabel = "P",
      description = "HTTP port (default ${DEFAULT-VALUE}); 0 picks a free one.")
  int port;

  @Option(names = "--bind", defaultValue = "127.0.0.1", paramLabel = "ADDRESS",
      description = "Address to listen on (default ${DEFAULT-VALUE}: this machine only). 0.0.0.0 listens on every "
          + "interface: put it behind something that authenticates clients.")
  String bind;

  @Option(names = "--snapshot-file", paramLabel = "FILE",
      description = "Serve this snapshot instead of following Kafka: the codec file of learn --save-snapshot, or a "
          + "ModelSnapshot record value.")
  Path snapshotFile;

  @Option(names = "--threads", paramLabel = "N",
      description = "Request threads, which score (default: the number of cores).")
  Integer threads;

  @Option(names = "--max-body-bytes", defaultValue = "16MiB", converter = Sizes.ByteSize.class, paramLabel = "SIZE",
      description = "Largest request body; larger ones get 413 (default ${DEFAULT-VALUE}, about 70k TSV rows).")
  int maxBodyBytes;

  @Override
  public Integer call() throws Exception {
    ServeConfig cfg = new ServeConfig(topic.bootstrapServers, topic.modelsTopic, topic.model, snapshotFile, bind, port,
        threads == null ? Runtime.getRuntime().availableProcessors() : threads, maxBodyBytes, topic.client());
    System.err.println("serve: " + cfg.describe());
    ServingMetrics metrics = new ServingMetrics();
    ModelSource source;
    if (cfg.followsTopic()) {
      source = SnapshotSubscriber.start(cfg.subscriberSettings(), metrics);
    } else {
      ServedModel m = loadFile(cfg);
      metrics.snapshotLoaded();
      System.err.println("serve: loaded " + describe(m));
      source = new FixedModel(m);
    }
    ScoringServer server;
    try {
      server = ScoringServer.start(cfg.serverSettings(), source, metrics);
    } catch (BindException e) {
      source.close();
      throw new IllegalArgumentException("cannot listen on " + bind + ":" + port + ": " + e.getMessage()
          + " (is --port taken, or --bind not an address of this machine?)");
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      System.err.println("serve: stopping ...");
      server.close();
      source.close();
      stopped.countDown();
    }, "tinyrec-serve-shutdown"));
    System.err.println("serve: listening on " + server.uri() + " (POST /score, GET /model, /healthz, /metrics); "
        + "Ctrl-C stops");
    System.out.println(server.uri());
    System.out.flush();
    stopped.await();
    return 0;
  }

  private static ServedModel loadFile(ServeConfig cfg) throws IOException {
    try {
      return SnapshotDecoder.fromFile(cfg.snapshotFile(), cfg.modelName());
    } catch (BadSnapshotException e) {
      // A readable file whose contents are bad is a failure (exit 1), as in snapshot inspect; a
      // missing or unreadable one is a bad flag value (exit 2, checked with the other flags).
      throw new IllegalStateException("bad snapshot (" + e.reason().label() + ") in --snapshot-file: "
          + e.getMessage());
    }
  }

  static String describe(ServedModel m) {
    return "model '" + m.info().modelName() + "' version " + m.info().version() + " (" + m.info().eventsTrained()
        + " events trained, " + m.info().codecBytes() + " codec bytes, " + m.info().config() + ") from "
        + m.info().source();
  }
}
