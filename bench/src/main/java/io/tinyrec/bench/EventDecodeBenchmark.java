package io.tinyrec.bench;

import io.tinyrec.model.data.CriteoRow;
import io.tinyrec.model.synthetic.SyntheticCriteo;
import io.tinyrec.schemas.ClickEvent;
import io.tinyrec.schemas.ClickEventDecoder;
import io.tinyrec.schemas.ClickEventEncoder;
import io.tinyrec.schemas.SingleObjectCodec;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The training job's source decode, per 1024 events encoded as replay encodes them (synthetic
 * rows, {@link ClickEventEncoder}): Avro's reader plus {@link CriteoRow#of}, which the job used for
 * every record, against {@link ClickEventDecoder}, the fast path it now takes first. Both end at the
 * same CriteoRow.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1)
public class EventDecodeBenchmark {
  private static final int EVENTS = 1024;
  private final SingleObjectCodec<ClickEvent> codec = SingleObjectCodec.of(ClickEvent.class);
  private final ClickEventDecoder fast = new ClickEventDecoder();
  private byte[][] values;

  @Setup
  public void setUp() {
    SyntheticCriteo gen = new SyntheticCriteo(1, -1);
    ClickEventEncoder enc = new ClickEventEncoder();
    values = new byte[EVENTS][];
    for (int i = 0; i < EVENTS; i++) {
      CriteoRow row = gen.sample(i).row();
      String id = "synthetic-1:" + (i + 1);
      values[i] = enc.encode(id, id, 1_388_534_400_000L + i, row.label(), row.dense(), row.denseMissing(), row.cats(),
          row.catMissing(), 0, i + 1L);
    }
  }

  @Benchmark
  public long avroReader() {
    long s = 0;
    for (byte[] v : values) {
      ClickEvent e = codec.decode(v);
      s += CriteoRow.of(e.getLabel(), e.getDense(), e.getCats()).catMissing() + e.getKey().length();
    }
    return s;
  }

  @Benchmark
  public long fastPath() {
    long s = 0;
    for (byte[] v : values) {
      if (!fast.read(v)) {
        throw new IllegalStateException("declined a well-formed event");
      }
      CriteoRow row = new CriteoRow(fast.label(), fast.dense(), fast.denseMissing(), fast.cats(), fast.catMissing());
      s += row.catMissing() + fast.key().length();
    }
    return s;
  }
}
