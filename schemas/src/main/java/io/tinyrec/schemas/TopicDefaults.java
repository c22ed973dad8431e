package io.tinyrec.schemas;

/**
 * Default topic names and the dead-letter header names, shared by replay, the job and serving so
 * that none of them spells a topic by hand. Every name can be changed with a flag; docs/topics.md
 * describes each topic.
 */
public final class TopicDefaults {
  /** ClickEvent values keyed by the event key. */
  public static final String EVENTS = "events";
  /** ScoredEvent values keyed by the event key. */
  public static final String SCORES = "scores";
  /** ModelSync values, no key; internal to the job. */
  public static final String SYNC = "sync";
  /** ModelSnapshot values keyed by model name; compacted. */
  public static final String MODELS = "models";
  /** Undecodable input: original key and bytes, with the error in headers. */
  public static final String DLQ = "dlq";
  /**
   * The largest snapshot the models and sync topics are made for (their max.message.bytes): 64 MiB.
   * Producers raise max.request.size and consumers max.partition.fetch.bytes and fetch.max.bytes
   * to it, or Kafka refuses a large snapshot.
   */
  public static final int MAX_SNAPSHOT_BYTES = 64 << 20;
  /** The model name snapshots are published under (the models topic's key) unless told otherwise. */
  public static final String MODEL_NAME = "tinyrec";

  /** DLQ header: why the record could not be used (UTF-8 text). */
  public static final String DLQ_ERROR = "tinyrec.error";
  /** DLQ header: the failure's kind, e.g. an {@link UndecodableRecordException.Reason} name (UTF-8). */
  public static final String DLQ_ERROR_KIND = "tinyrec.error.kind";
  /** DLQ header: topic the record was read from (UTF-8). */
  public static final String DLQ_SOURCE_TOPIC = "tinyrec.source.topic";
  /** DLQ header: partition the record was read from (decimal UTF-8). */
  public static final String DLQ_SOURCE_PARTITION = "tinyrec.source.partition";
  /** DLQ header: offset the record was read from (decimal UTF-8). */
  public static final String DLQ_SOURCE_OFFSET = "tinyrec.source.offset";

  private TopicDefaults() {}
}
