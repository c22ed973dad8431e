package io.tinyrec.schemas;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ClickEventEncoderTest {

  @Test
  void shouldWriteExactlyWhatAvroWritesForRandomEvents() {
    ClickEventEncoder fast = new ClickEventEncoder();
    SingleObjectCodec<ClickEvent> codec = SingleObjectCodec.of(ClickEvent.class);
    SplittableRandom rnd = new SplittableRandom(7);
    for (int n = 0; n < 2000; n++) {
      int[] dense = new int[13];
      int[] cats = new int[26];
      int denseMissing = rnd.nextInt(1 << 13);
      int catMissing = rnd.nextInt(1 << 26);
      for (int i = 0; i < 13; i++) {
        dense[i] = switch (rnd.nextInt(4)) {
          case 0 -> rnd.nextInt();
          case 1 -> rnd.nextInt(-3, 100);
          case 2 -> n % 2 == 0 ? Integer.MIN_VALUE : Integer.MAX_VALUE;
          default -> 0;
        };
      }
      for (int t = 0; t < 26; t++) {
        cats[t] = rnd.nextInt();
      }
      int label = rnd.nextInt(3) - 1;
      String id = n % 50 == 0 ? "tag-\u00e9t\u00e9:" + n : "day_" + (n % 24) + ":" + n;
      long time = n % 7 == 0 ? Long.MIN_VALUE : rnd.nextLong();
      long line = rnd.nextLong(1, Long.MAX_VALUE);
      byte[] got = fast.encode(id, id, time, label, dense, denseMissing, cats, catMissing, n % 24, line);

      List<Integer> d = new ArrayList<>();
      for (int i = 0; i < 13; i++) {
        d.add((denseMissing >>> i & 1) != 0 ? null : dense[i]);
      }
      List<Long> c = new ArrayList<>();
      for (int t = 0; t < 26; t++) {
        c.add((catMissing >>> t & 1) != 0 ? null : Integer.toUnsignedLong(cats[t]));
      }
      ClickEvent e = ClickEvent.newBuilder().setEventId(id).setKey(id).setEventTime(time)
          .setLabel(label < 0 ? null : label).setDense(d).setCats(c).setSourceDay(n % 24).setSourceLine(line).build();
      assertArrayEquals(codec.encode(e), got, "event " + n);
      byte[] idBytes = (id + "#padding").getBytes(java.nio.charset.StandardCharsets.UTF_8);
      int idLen = id.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
      assertArrayEquals(got, fast.encode(idBytes, idLen, idBytes, idLen, time, label, dense, denseMissing, cats,
          catMissing, n % 24, line), "byte-id variant, event " + n);
      assertEquals(e, codec.decode(got));
    }
  }
}
