package io.tinyrec.bench;

import io.tinyrec.jobs.events.ClickEventBytes;
import io.tinyrec.model.data.CriteoRow;
import io.tinyrec.model.synthetic.SyntheticCriteo;
import io.tinyrec.schemas.ClickEvent;
import io.tinyrec.schemas.SingleObjectCodec;
import java.util.ArrayList;
import java.util.List;
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
 * The training job's source decode, per 1024 events from the events topic (synthetic rows as
 * replay encodes them): Avro's reader plus {@link CriteoRow#of}, which the job used for every
 * record, against {@link ClickEventBytes}, the fast path it now takes for records of its own
 * schema. Both end at the same CriteoRow.
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
  private final ClickEventBytes fast = new ClickEventBytes(codec.fingerprint());
  private byte[][] values;

  @Setup
  public void setUp() {
    SyntheticCriteo gen = new SyntheticCriteo(1, -1);
    values = new byte[EVENTS][];
    for (int i = 0; i < EVENTS; i++) {
      CriteoRow row = gen.sample(i).row();
      List<Integer> dense = new ArrayList<>();
      for (int k = 0; k < CriteoRow.NUM_DENSE; k++) {
        dense.add(row.isDenseMissing(k) ? null : row.dense()[k]);
      }
      List<Long> cats = new ArrayList<>();
      for (int t = 0; t < CriteoRow.NUM_CATS; t++) {
        cats.add(row.isCatMissing(t) ? null : row.cats()[t] & 0xFFFF_FFFFL);
      }
      String id = "synthetic-1:" + (i + 1);
      values[i] = codec.encode(ClickEvent.newBuilder().setEventId(id).setKey(id).setEventTime(1_388_534_400_000L + i)
          .setLabel(row.label() < 0 ? null : row.label()).setDense(dense).setCats(cats).setSourceDay(0)
          .setSourceLine(i + 1L).build());
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
      s += fast.row().catMissing() + fast.key().length();
    }
    return s;
  }
}
