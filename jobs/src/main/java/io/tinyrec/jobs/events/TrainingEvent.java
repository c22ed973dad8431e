package io.tinyrec.jobs.events;

/**
 * A decoded, validated click event in the model's input form: 13 transformed dense features, 26
 * category values for hashing, and the label (-1 when not known yet).
 */
public class TrainingEvent {
  public String eventId;
  public String key;
  public long eventTime;
  /** When the event entered Kafka (its record timestamp), for score latency. */
  public long ingestTime;
  /** 0 or 1, or -1 for an event without a label (scored, not trained on). */
  public int label;
  public float[] dense;
  public long[] cats;
  /**
   * The learner key of the decoder that made this event: one key per subtask, in that subtask's key
   * group ({@link LearnerRoutes}), so the learners take their decoder's events where they are,
   * without a shuffle. Not checkpointed.
   */
  public String route;

  public TrainingEvent() {}

  public boolean hasLabel() {
    return label >= 0;
  }
}
