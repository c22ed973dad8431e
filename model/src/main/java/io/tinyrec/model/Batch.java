package io.tinyrec.model;

import io.tinyrec.model.data.CriteoFields;
import io.tinyrec.model.data.CriteoRow;
import io.tinyrec.model.data.FastCriteoParser;
import io.tinyrec.model.data.Preprocessing;

/**
 * A mini-batch in the model's input form: per row, the 13 transformed dense features, the 26
 * category values (see {@link CriteoRow#categoryValue}) and the label. Reused across batches:
 * {@link #clear()}, then {@link #add}. Not thread-safe.
 */
public final class Batch {
  private final int capacity;
  final float[] dense;
  final long[] cats;
  final float[] labels;
  private int size;

  public Batch(int capacity) {
    if (capacity < 1) {
      throw new ConfigException("{batch} must be >= 1, got " + capacity);
    }
    this.capacity = capacity;
    this.dense = new float[capacity * ModelConfig.NUM_DENSE];
    this.cats = new long[capacity * ModelConfig.NUM_SPARSE];
    this.labels = new float[capacity];
  }

  public int capacity() {
    return capacity;
  }

  public int size() {
    return size;
  }

  public boolean isFull() {
    return size == capacity;
  }

  public void clear() {
    size = 0;
  }

  /** Appends a row; an unlabelled row gets label 0 (it can be scored, not trained on). */
  public void add(CriteoRow row) {
    if (size == capacity) {
      throw new IllegalStateException("batch is full at " + capacity + " rows");
    }
    int d = size * ModelConfig.NUM_DENSE;
    for (int i = 0; i < ModelConfig.NUM_DENSE; i++) {
      dense[d + i] = row.denseFeature(i);
    }
    int c = size * ModelConfig.NUM_SPARSE;
    for (int t = 0; t < ModelConfig.NUM_SPARSE; t++) {
      cats[c + t] = row.categoryValue(t);
    }
    labels[size] = row.hasLabel() ? row.label() : 0f;
    size++;
  }

  /**
   * Appends a row as {@link FastCriteoParser} leaves it, with the same transforms as
   * {@link #add(CriteoRow)} and no allocation; an unlabelled row gets label 0.
   */
  public void add(CriteoFields row) {
    if (size == capacity) {
      throw new IllegalStateException("batch is full at " + capacity + " rows");
    }
    int d = size * ModelConfig.NUM_DENSE;
    for (int i = 0; i < ModelConfig.NUM_DENSE; i++) {
      dense[d + i] = Preprocessing.denseFeature(row.dense[i], (row.denseMissing >>> i & 1) != 0);
    }
    int c = size * ModelConfig.NUM_SPARSE;
    for (int t = 0; t < ModelConfig.NUM_SPARSE; t++) {
      cats[c + t] = Preprocessing.categoryValue(row.cats[t], (row.catMissing >>> t & 1) != 0);
    }
    labels[size] = row.label == CriteoRow.NO_LABEL ? 0f : row.label;
    size++;
  }

  /** Appends a row already in model form (transformed dense features, category values). */
  public void add(float[] denseFeatures, long[] categoryValues, float label) {
    if (size == capacity) {
      throw new IllegalStateException("batch is full at " + capacity + " rows");
    }
    System.arraycopy(denseFeatures, 0, dense, size * ModelConfig.NUM_DENSE, ModelConfig.NUM_DENSE);
    System.arraycopy(categoryValues, 0, cats, size * ModelConfig.NUM_SPARSE, ModelConfig.NUM_SPARSE);
    labels[size] = label;
    size++;
  }

  public float label(int i) {
    return labels[i];
  }
}
