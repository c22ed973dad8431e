package io.tinyrec.jobs;

import io.tinyrec.model.ModelConfig;
import io.tinyrec.schemas.TopicDefaults;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Entry point of the job jar, for {@code flink run} on a Flink 2.2 cluster (docs/architecture.md,
 * "Running on a cluster"). Checkpoint storage, state backend and restart strategy come from the
 * cluster's configuration; this sets the checkpoint interval and builds the job.
 *
 * <pre>
 * flink run -c io.tinyrec.jobs.TrainJobMain jobs/target/tinyrec-job.jar --bootstrap-servers kafka:9092 \
 *   [--events-topic events --scores-topic scores --sync-topic sync --models-topic models --dlq-topic dlq]
 *   [--model-name tinyrec] [--preset kaggle] [--embedding robe|hash] [--robe-size M] [--robe-z Z]
 *   [--rows-per-table R] [--optimizer sgd|adagrad] [--lr X] [--seed S] [--precision fp32|int8|int4]
 *   [--quant-group block|G] [--quant-scale fp16|fp32] [--cache-fraction F] [--cache-policy lfu|lru]
 *   [--learners N] [--batch B]
 *   [--max-wait-ms W] [--sync-every N] [--max-staleness N] [--sync-coalesce-ms MS] [--snapshot-interval-s S]
 *   [--checkpoint-interval-s S] [--bounded] [--spread-events]
 * </pre>
 * The topics must exist (create them with {@code tinyrec topics create}).
 */
public final class TrainJobMain {
  private static final Set<String> FLAGS = Set.of("bootstrap-servers", "events-topic", "scores-topic", "sync-topic",
      "models-topic", "dlq-topic", "model-name", "preset", "embedding", "robe-size", "robe-z", "rows-per-table",
      "optimizer", "lr", "seed", "learners", "batch", "max-wait-ms", "sync-every", "max-staleness", "sync-coalesce-ms",
      "snapshot-interval-s", "checkpoint-interval-s", "precision", "quant-group", "quant-scale", "cache-fraction", "cache-policy");

  private TrainJobMain() {}

  /** What --help prints. */
  static final String USAGE = String.join("\n",
      "Usage: flink run [-s SAVEPOINT] [-p N] tinyrec-job.jar --bootstrap-servers HOST:PORT [options]",
      "",
      "The tinyrec training job: reads ClickEvents from Kafka, scores each, trains the model, and publishes",
      "versioned snapshots (EXACTLY_ONCE). The topics must exist (tinyrec topics create).",
      "",
      "Kafka:",
      "  --bootstrap-servers HOST:PORT   the brokers (required)",
      "  --events-topic T --scores-topic T --sync-topic T --models-topic T --dlq-topic T",
      "                                  topic names (events, scores, sync, models, dlq)",
      "  --model-name NAME               key of the snapshots on the models topic (" + TopicDefaults.MODEL_NAME + ")",
      "Model:",
      "  --preset kaggle|terabyte|small  the DLRM shape (kaggle)",
      "  --embedding robe|hash --robe-size M --robe-z Z --rows-per-table R",
      "  --optimizer sgd|adagrad --lr X --seed S",
      "  --precision fp32|int8|int4 --quant-group block|G --quant-scale fp16|fp32",
      "  --cache-fraction F --cache-policy lfu|lru",
      "Training:",
      "  --learners N                    parallel learners; change it freely when resuming from a savepoint (1)",
      "  --batch B                       micro-batch size (128)",
      "  --max-wait-ms W                 longest an event waits for its batch to fill (200)",
      "  --sync-every N --max-staleness N  sync period and staleness bound, in events",
      "  --sync-coalesce-ms MS  longest wait of a merged update for the next sync message (default 20)",
      "  --spread-events  spread events over the learners by key: only if the events topic has fewer partitions",
      "                   than --learners (otherwise each learner trains its own partitions, without a shuffle)",
      "  --snapshot-interval-s S         how often a snapshot is published (30)",
      "  --checkpoint-interval-s S       Flink checkpoint interval (5)",
      "  --bounded                       stop at the events' end offsets as of the start (a backfill); without it",
      "                                  the job runs until it is stopped, through lulls of any length",
      "  --help                          this text");

  public static void main(String[] args) throws Exception {
    if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
      System.out.println(USAGE);
      return;
    }
    Map<String, String> a = new HashMap<>();
    boolean bounded = false;
    boolean spread = false;
    for (int i = 0; i < args.length; i++) {
      String flag = args[i].startsWith("--") ? args[i].substring(2) : null;
      if ("bounded".equals(flag)) {
        bounded = true;
      } else if ("spread-events".equals(flag)) {
        spread = true;
      } else if (flag != null && FLAGS.contains(flag) && i + 1 < args.length) {
        a.put(flag, args[++i]);
      } else {
        throw new IllegalArgumentException("unknown or incomplete argument '" + args[i] + "'; flags: --" + String.join(
            " --", new java.util.TreeSet<>(FLAGS)) + " --bounded --spread-events (--help explains them)");
      }
    }
    if (!a.containsKey("bootstrap-servers")) {
      throw new IllegalArgumentException("--bootstrap-servers is required");
    }
    ModelConfig m = ModelConfig.preset(a.getOrDefault("preset", "kaggle"));
    var b = m.toBuilder();
    if (a.containsKey("embedding")) {
      b.embedding(ModelConfig.EmbeddingKind.valueOf(a.get("embedding").toUpperCase()));
    }
    if (a.containsKey("robe-size")) {
      b.robeSize(Integer.parseInt(a.get("robe-size")));
    }
    if (a.containsKey("robe-z")) {
      b.robeZ(Integer.parseInt(a.get("robe-z")));
    }
    if (a.containsKey("rows-per-table")) {
      b.rowsPerTable(Integer.parseInt(a.get("rows-per-table")));
    }
    if (a.containsKey("optimizer")) {
      b.optimizer(ModelConfig.OptimizerKind.valueOf(a.get("optimizer").toUpperCase()));
    }
    if (a.containsKey("lr")) {
      float lr = Float.parseFloat(a.get("lr"));
      b.lrDense(lr).lrEmbedding(lr);
    }
    if (a.containsKey("seed")) {
      b.seed(Long.parseLong(a.get("seed")));
    }
    if (a.containsKey("precision")) {
      ModelConfig.Quantization q = ModelConfig.Quantization.of(
          ModelConfig.Precision.valueOf(a.get("precision").toUpperCase()));
      if (a.containsKey("quant-group")) {
        q = q.withGroup("block".equalsIgnoreCase(a.get("quant-group")) ? 0 : Integer.parseInt(a.get("quant-group")));
      }
      if (a.containsKey("quant-scale")) {
        q = q.withScaleDtype(ModelConfig.ScaleDtype.valueOf(a.get("quant-scale").toUpperCase()));
      }
      if (a.containsKey("cache-fraction")) {
        q = q.withCacheFraction(Float.parseFloat(a.get("cache-fraction")));
      }
      if (a.containsKey("cache-policy")) {
        q = q.withCachePolicy(ModelConfig.CachePolicy.valueOf(a.get("cache-policy").toUpperCase()));
      }
      b.quantization(q);
    }
    int learners = Integer.parseInt(a.getOrDefault("learners", "1"));
    TrainJobConfig.Builder builder = TrainJobConfig.builder(a.get("bootstrap-servers"), b.build())
        .topics(a.getOrDefault("events-topic", "events"), a.getOrDefault("scores-topic", "scores"),
            a.getOrDefault("sync-topic", "sync"), a.getOrDefault("models-topic", "models"),
            a.getOrDefault("dlq-topic", "dlq"))
        .modelName(a.getOrDefault("model-name", TopicDefaults.MODEL_NAME))
        .learners(learners)
        .batch(Integer.parseInt(a.getOrDefault("batch", "128")))
        .maxWaitMs(Long.parseLong(a.getOrDefault("max-wait-ms", "200")))
        .snapshotInterval(Duration.ofSeconds(Long.parseLong(a.getOrDefault("snapshot-interval-s", "30"))))
        .checkpointInterval(Duration.ofSeconds(Long.parseLong(a.getOrDefault("checkpoint-interval-s", "5"))))
        .bounded(bounded);
    if (a.containsKey("sync-every")) {
      builder.syncEvery(Integer.parseInt(a.get("sync-every")));
    }
    if (a.containsKey("max-staleness")) {
      builder.maxStaleness(Integer.parseInt(a.get("max-staleness")));
    }
    builder.spreadEvents(spread);
    if (a.containsKey("sync-coalesce-ms")) {
      builder.syncCoalesceMs(Long.parseLong(a.get("sync-coalesce-ms")));
    }
    TrainJobConfig c = builder.build();
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.enableCheckpointing(c.checkpointInterval.toMillis());
    env.setParallelism(c.learners);
    TrainJob.build(env, c);
    env.execute("tinyrec train " + c.modelName);
  }
}
