package io.tinyrec.serving;

/** A model that never changes, e.g. one loaded from a file. Thread-safe. */
public final class FixedModel implements ModelSource {
  private final ServedModel model;

  public FixedModel(ServedModel model) {
    this.model = model;
  }

  @Override
  public ServedModel current() {
    return model;
  }

  @Override
  public long lag() {
    return 0;
  }

  @Override
  public String describe() {
    return model.info().source();
  }

  @Override
  public void close() {}
}
