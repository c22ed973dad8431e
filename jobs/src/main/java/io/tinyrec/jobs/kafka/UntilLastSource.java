package io.tinyrec.jobs.kafka;

import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceEvent;
import org.apache.flink.api.connector.source.SourceOutput;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SourceSplit;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.core.io.InputStatus;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * Wraps an unbounded source so that its readers end right after emitting a record the predicate
 * marks as the last one. The Kafka connector has no such stopping condition, and the sync loop
 * needs one: in a bounded run the learners' sync input must end once the merger has sent its final
 * model, or the job could never finish. Everything else is delegated unchanged.
 */
public final class UntilLastSource<T, SplitT extends SourceSplit, EnumChkT>
    implements Source<T, SplitT, EnumChkT>, ResultTypeQueryable<T> {
  private static final long serialVersionUID = 1L;

  /** A serializable test on a record. */
  @FunctionalInterface
  public interface SerializablePredicate<T> extends java.util.function.Predicate<T>, java.io.Serializable {}

  private final Source<T, SplitT, EnumChkT> delegate;
  private final SerializablePredicate<T> isLast;

  public UntilLastSource(Source<T, SplitT, EnumChkT> delegate, SerializablePredicate<T> isLast) {
    this.delegate = delegate;
    this.isLast = isLast;
  }

  @Override
  public Boundedness getBoundedness() {
    return delegate.getBoundedness();
  }

  @Override
  public SplitEnumerator<SplitT, EnumChkT> createEnumerator(SplitEnumeratorContext<SplitT> ctx) throws Exception {
    return delegate.createEnumerator(ctx);
  }

  @Override
  public SplitEnumerator<SplitT, EnumChkT> restoreEnumerator(SplitEnumeratorContext<SplitT> ctx, EnumChkT state)
      throws Exception {
    return delegate.restoreEnumerator(ctx, state);
  }

  @Override
  public SimpleVersionedSerializer<SplitT> getSplitSerializer() {
    return delegate.getSplitSerializer();
  }

  @Override
  public SimpleVersionedSerializer<EnumChkT> getEnumeratorCheckpointSerializer() {
    return delegate.getEnumeratorCheckpointSerializer();
  }

  @Override
  @SuppressWarnings("unchecked")
  public TypeInformation<T> getProducedType() {
    return ((ResultTypeQueryable<T>) delegate).getProducedType();
  }

  @Override
  public SourceReader<T, SplitT> createReader(SourceReaderContext ctx) throws Exception {
    return new Reader<>(delegate.createReader(ctx), isLast);
  }

  private static final class Reader<T, SplitT extends SourceSplit> implements SourceReader<T, SplitT> {
    private final SourceReader<T, SplitT> delegate;
    private final SerializablePredicate<T> isLast;
    private boolean ended;
    private WatchingReaderOutput watching;

    Reader(SourceReader<T, SplitT> delegate, SerializablePredicate<T> isLast) {
      this.delegate = delegate;
      this.isLast = isLast;
    }

    @Override
    public void start() {
      delegate.start();
    }

    @Override
    public InputStatus pollNext(ReaderOutput<T> output) throws Exception {
      if (ended) {
        return InputStatus.END_OF_INPUT;
      }
      if (watching == null || watching.out != output) {
        watching = new WatchingReaderOutput(output); // the runtime passes the same output every time
      }
      InputStatus s = delegate.pollNext(watching);
      return ended ? InputStatus.END_OF_INPUT : s;
    }

    @Override
    public List<SplitT> snapshotState(long checkpointId) {
      return delegate.snapshotState(checkpointId);
    }

    @Override
    public CompletableFuture<Void> isAvailable() {
      return ended ? CompletableFuture.completedFuture(null) : delegate.isAvailable();
    }

    @Override
    public void addSplits(List<SplitT> splits) {
      delegate.addSplits(splits);
    }

    @Override
    public void notifyNoMoreSplits() {
      delegate.notifyNoMoreSplits();
    }

    @Override
    public void handleSourceEvents(SourceEvent event) {
      delegate.handleSourceEvents(event);
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) throws Exception {
      delegate.notifyCheckpointComplete(checkpointId);
    }

    @Override
    public void pauseOrResumeSplits(Collection<String> pause, Collection<String> resume) {
      delegate.pauseOrResumeSplits(pause, resume);
    }

    @Override
    public void close() throws Exception {
      delegate.close();
    }

    private void see(T record) {
      if (isLast.test(record)) {
        ended = true;
      }
    }

    /** Passes everything through and notes whether the last record went by. */
    private class WatchingOutput implements SourceOutput<T> {
      private final SourceOutput<T> out;

      WatchingOutput(SourceOutput<T> out) {
        this.out = out;
      }

      @Override
      public void collect(T record) {
        out.collect(record);
        see(record);
      }

      @Override
      public void collect(T record, long timestamp) {
        out.collect(record, timestamp);
        see(record);
      }

      @Override
      public void emitWatermark(Watermark watermark) {
        out.emitWatermark(watermark);
      }

      @Override
      public void markIdle() {
        out.markIdle();
      }

      @Override
      public void markActive() {
        out.markActive();
      }
    }

    /** The reader's output, whose per-split outputs are watched the same way. */
    private final class WatchingReaderOutput extends WatchingOutput implements ReaderOutput<T> {
      private final ReaderOutput<T> out;

      WatchingReaderOutput(ReaderOutput<T> out) {
        super(out);
        this.out = out;
      }

      @Override
      public SourceOutput<T> createOutputForSplit(String splitId) {
        return new WatchingOutput(out.createOutputForSplit(splitId));
      }

      @Override
      public void releaseOutputForSplit(String splitId) {
        out.releaseOutputForSplit(splitId);
      }
    }
  }
}
