package io.tinyrec.jobs.events;

/** An events-topic record as read, before decoding: key, value and where it came from. */
public class RawRecord {
  public byte[] key;
  public byte[] value;
  public String topic;
  public int partition;
  public long offset;
  /** The Kafka record timestamp: when the event entered Kafka (the start of score latency). */
  public long timestamp;

  public RawRecord() {}
}
