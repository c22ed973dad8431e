package io.tinyrec.serving;

/**
 * Where the HTTP endpoint gets the model to serve: the models topic ({@link SnapshotSubscriber}) or
 * a file ({@link FixedModel}). Implementations are thread-safe.
 */
public interface ModelSource extends AutoCloseable {
  /** The model to score with now, or null while none is loaded. Read it once per request. */
  ServedModel current();

  /**
   * Records between the position of this source and the end of what it follows (the models topic's
   * last committed offset), or 0 for a source that follows nothing; -1 while not known.
   */
  long lag();

  /** One line for people: what this source follows. */
  String describe();

  @Override
  void close();
}
