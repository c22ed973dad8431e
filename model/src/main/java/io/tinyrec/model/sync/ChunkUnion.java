package io.tinyrec.model.sync;

import java.util.BitSet;

/**
 * The chunks (and quantized lines) that merged updates touched since the merger's last sync
 * message, so that one message can carry all of them, with the values they have by then.
 */
final class ChunkUnion {
  private final BitSet[] chunks;
  private final BitSet lines = new BitSet();
  private boolean empty = true;

  ChunkUnion(ModelTensors layout) {
    chunks = new BitSet[layout.tensorCount()];
    for (int i = 0; i < chunks.length; i++) {
      chunks[i] = new BitSet(layout.chunkCount(i));
    }
  }

  void add(ChunkDelta d) {
    for (int i = 0; i < chunks.length; i++) {
      for (int c : d.chunksOf(i)) {
        chunks[i].set(c);
      }
    }
    int[] l = d.changedLines();
    if (l != null) {
      for (int x : l) {
        lines.set(x);
      }
    }
    empty = false;
  }

  boolean isEmpty() {
    return empty;
  }

  /** The model's values of every chunk in the union, as an after-only delta. */
  ChunkDelta valuesIn(ModelTensors model) {
    int[][] idx = new int[chunks.length][];
    for (int i = 0; i < chunks.length; i++) {
      idx[i] = chunks[i].stream().toArray();
    }
    return ChunkDelta.currentValues(model, idx, lines.stream().toArray());
  }

  void clear() {
    for (BitSet b : chunks) {
      b.clear();
    }
    lines.clear();
    empty = true;
  }
}
