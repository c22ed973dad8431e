package io.tinyrec.jobs.kafka;

import java.io.IOException;
import java.util.List;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceEvent;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.KafkaSourceEnumState;
import org.apache.flink.connector.kafka.source.split.KafkaPartitionSplit;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * A bounded KafkaSource that also finishes after a restore. Kafka connector 5.0.0-2.2 has a known
 * bug (FLINK-31006): an enumerator restored from a checkpoint finds every partition already
 * assigned, never tells the readers there are no more splits, and the job runs forever after the
 * readers reach their stopping offsets. When the restored state shows that discovery had finished
 * and nothing is left to assign, this wrapper sends each registering reader that signal itself.
 * Everything else is the KafkaSource's own behaviour.
 */
public final class RestorableBoundedSource<T>
    implements Source<T, KafkaPartitionSplit, KafkaSourceEnumState>, ResultTypeQueryable<T> {
  private static final long serialVersionUID = 1L;
  private final KafkaSource<T> delegate;

  public RestorableBoundedSource(KafkaSource<T> delegate) {
    this.delegate = delegate;
  }

  @Override
  public Boundedness getBoundedness() {
    return delegate.getBoundedness();
  }

  @Override
  public SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> createEnumerator(
      SplitEnumeratorContext<KafkaPartitionSplit> ctx) {
    return delegate.createEnumerator(ctx);
  }

  @Override
  public SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> restoreEnumerator(
      SplitEnumeratorContext<KafkaPartitionSplit> ctx, KafkaSourceEnumState state) throws IOException {
    SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> restored = delegate.restoreEnumerator(ctx, state);
    boolean allAssigned = state.initialDiscoveryFinished() && state.unassignedSplits().isEmpty();
    if (getBoundedness() != Boundedness.BOUNDED || !allAssigned) {
      return restored;
    }
    return new SplitEnumerator<>() {
      @Override
      public void start() {
        restored.start();
      }

      @Override
      public void handleSplitRequest(int subtask, String host) {
        restored.handleSplitRequest(subtask, host);
      }

      @Override
      public void addSplitsBack(List<KafkaPartitionSplit> splits, int subtask) {
        restored.addSplitsBack(splits, subtask);
      }

      @Override
      public void addReader(int subtask) {
        restored.addReader(subtask); // assigns any split given back by this reader first
        ctx.signalNoMoreSplits(subtask);
      }

      @Override
      public KafkaSourceEnumState snapshotState(long checkpointId) throws Exception {
        return restored.snapshotState(checkpointId);
      }

      @Override
      public void close() throws IOException {
        try {
          restored.close();
        } catch (IOException | RuntimeException e) {
          throw e;
        } catch (Exception e) {
          throw new IOException(e);
        }
      }

      @Override
      public void notifyCheckpointComplete(long checkpointId) throws Exception {
        restored.notifyCheckpointComplete(checkpointId);
      }

      @Override
      public void handleSourceEvent(int subtask, SourceEvent event) {
        restored.handleSourceEvent(subtask, event);
      }
    };
  }

  @Override
  public SimpleVersionedSerializer<KafkaPartitionSplit> getSplitSerializer() {
    return delegate.getSplitSerializer();
  }

  @Override
  public SimpleVersionedSerializer<KafkaSourceEnumState> getEnumeratorCheckpointSerializer() {
    return delegate.getEnumeratorCheckpointSerializer();
  }

  /**
   * The reader. A split restored from a checkpoint of an unbounded run has no stopping offset, so a
   * bounded run restored from it would read forever: such a split stops at the partition's latest
   * offset, as a fresh bounded run's splits do.
   */
  @Override
  public SourceReader<T, KafkaPartitionSplit> createReader(SourceReaderContext ctx) throws Exception {
    SourceReader<T, KafkaPartitionSplit> reader = delegate.createReader(ctx);
    if (getBoundedness() != Boundedness.BOUNDED) {
      return reader;
    }
    return new SourceReader<>() {
      @Override
      public void start() {
        reader.start();
      }

      @Override
      public org.apache.flink.core.io.InputStatus pollNext(org.apache.flink.api.connector.source.ReaderOutput<T> output)
          throws Exception {
        return reader.pollNext(output);
      }

      @Override
      public List<KafkaPartitionSplit> snapshotState(long checkpointId) {
        return reader.snapshotState(checkpointId);
      }

      @Override
      public java.util.concurrent.CompletableFuture<Void> isAvailable() {
        return reader.isAvailable();
      }

      @Override
      public void addSplits(List<KafkaPartitionSplit> splits) {
        reader.addSplits(splits.stream().map(RestorableBoundedSource::boundedSplit).toList());
      }

      @Override
      public void notifyNoMoreSplits() {
        reader.notifyNoMoreSplits();
      }

      @Override
      public void handleSourceEvents(SourceEvent event) {
        reader.handleSourceEvents(event);
      }

      @Override
      public void notifyCheckpointComplete(long checkpointId) throws Exception {
        reader.notifyCheckpointComplete(checkpointId);
      }

      @Override
      public void notifyCheckpointAborted(long checkpointId) throws Exception {
        reader.notifyCheckpointAborted(checkpointId);
      }

      @Override
      public void pauseOrResumeSplits(java.util.Collection<String> toPause, java.util.Collection<String> toResume) {
        reader.pauseOrResumeSplits(toPause, toResume);
      }

      @Override
      public void close() throws Exception {
        reader.close();
      }
    };
  }

  /** The split itself if it has a stopping offset; else the same split stopping at the latest offset. */
  static KafkaPartitionSplit boundedSplit(KafkaPartitionSplit s) {
    if (s.getStoppingOffset().isPresent()) {
      return s;
    }
    return new KafkaPartitionSplit(s.getTopicPartition(), s.getStartingOffset(), KafkaPartitionSplit.LATEST_OFFSET);
  }

  @Override
  public TypeInformation<T> getProducedType() {
    return delegate.getProducedType();
  }
}
