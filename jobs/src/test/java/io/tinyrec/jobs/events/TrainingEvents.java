package io.tinyrec.jobs.events;

import io.tinyrec.model.data.CriteoRow;
import io.tinyrec.model.synthetic.SyntheticCriteo;
import java.util.ArrayList;
import java.util.List;

/** Generated TrainingEvents, as a decoder would hand them to a learner, for operator tests. */
public final class TrainingEvents {
  private TrainingEvents() {}

  /**
   * Events {@code from .. from+n-1} of the generated stream {@code seed}: ids "e&lt;i&gt;", keys
   * "k&lt;i&gt;", event and ingest time {@code timeBase + i}, and the given learner route.
   */
  public static List<TrainingEvent> generated(long seed, int from, int n, long timeBase, String route) {
    SyntheticCriteo gen = new SyntheticCriteo(seed, -1);
    List<TrainingEvent> out = new ArrayList<>();
    for (int i = from; i < from + n; i++) {
      CriteoRow row = gen.sample(i).row();
      TrainingEvent e = new TrainingEvent();
      e.eventId = "e" + i;
      e.key = "k" + i;
      e.eventTime = timeBase + i;
      e.ingestTime = timeBase + i;
      e.label = row.label();
      e.dense = row.denseFeatures();
      e.cats = row.categoryValues();
      e.route = route;
      out.add(e);
    }
    return out;
  }
}
