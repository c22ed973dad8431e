package io.tinyrec.schemas;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.SchemaNormalization;
import org.junit.jupiter.api.Test;

class SingleObjectCodecTest {

  static ClickEvent click() {
    return ClickEvent.newBuilder().setEventId("day_0:17").setKey("day_0:17").setEventTime(1_388_534_400_000L)
        .setLabel(1).setDense(Arrays.asList(1, null, -1, 4, 5, 6, 7, 8, 9, 10, 11, null, 2_000_000_000))
        .setCats(Arrays.asList(0L, 4_294_967_295L, null, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L, 12L, 13L, 14L,
            15L, 16L, 17L, 18L, 19L, 20L, 21L, 22L, null))
        .setSourceDay(0).setSourceLine(17).build();
  }

  static ModelMetrics metrics(long count) {
    return ModelMetrics.newBuilder().setCount(count).setAuc(0.75).setLogloss(0.45).setNe(0.9)
        .setCalibration(Double.NaN).build();
  }

  @Test
  void shouldRoundTripEveryRecordType() {
    ClickEvent c = click();
    assertEquals(c, SingleObjectCodec.of(ClickEvent.class).decode(SingleObjectCodec.of(ClickEvent.class).encode(c)));

    ScoredEvent s = ScoredEvent.newBuilder().setEventId("x:1").setKey("x:1").setScore(0.25f).setLabel(null)
        .setModelVersion(42).setEventTime(5).setProcessingTime(6).build();
    SingleObjectCodec<ScoredEvent> sc = SingleObjectCodec.of(ScoredEvent.class);
    assertEquals(s, sc.decode(sc.encode(s)));

    ModelSnapshot m = ModelSnapshot.newBuilder().setModelName("ctr").setVersion(7).setEpoch(2).setCreatedAt(9)
        .setEventTimeWatermark(Long.MIN_VALUE).setEventsTrained(1000).setConfig(Map.of("dim", "16"))
        .setCodec(ByteBuffer.wrap(new byte[] {1, 2, 3})).setChecksum(0xFFFF_FFFFL).setMetrics(metrics(1000))
        .setWindowMetrics(metrics(100)).setMetricsWindow(100).build();
    SingleObjectCodec<ModelSnapshot> mc = SingleObjectCodec.of(ModelSnapshot.class);
    ModelSnapshot back = mc.decode(mc.encode(m));
    assertEquals(m.getVersion(), back.getVersion());
    assertEquals(m.getCodec(), back.getCodec());
    assertEquals(m.getConfig(), back.getConfig());
    assertTrue(Double.isNaN(back.getMetrics().getCalibration()));

    ModelSync y = ModelSync.newBuilder().setEpoch(1).setVersion(3).setKind(SyncKind.DELTA).setBaseVersion(2L)
        .setPayload(ByteBuffer.wrap(new byte[] {9})).setEventsTrained(12).build();
    SingleObjectCodec<ModelSync> yc = SingleObjectCodec.of(ModelSync.class);
    assertEquals(y, yc.decode(yc.encode(y)));
  }

  @Test
  void shouldWriteMarkerAndLittleEndianFingerprintAsTheAvroSpecSays() throws java.io.IOException {
    byte[] v = SingleObjectCodec.of(ClickEvent.class).encode(click());
    assertEquals((byte) 0xC3, v[0]);
    assertEquals((byte) 0x01, v[1]);
    long fp = SchemaNormalization.parsingFingerprint64(ClickEvent.getClassSchema());
    assertEquals(fp, SingleObjectCodec.readFingerprint(v));
    // Avro's own message encoder writes the same bytes.
    assertArrayEquals(v, ClickEvent.getEncoder().encode(click()).array());
  }

  @Test
  void shouldNameTheFingerprintWhenTheWriterSchemaIsUnknown() {
    byte[] v = SingleObjectCodec.of(ClickEvent.class).encode(click());
    v[5] ^= 0x40;
    long fp = SingleObjectCodec.readFingerprint(v);
    UndecodableRecordException e = assertThrows(UndecodableRecordException.class,
        () -> SingleObjectCodec.of(ClickEvent.class).decode(v));
    assertEquals(UndecodableRecordException.Reason.UNKNOWN_FINGERPRINT, e.reason());
    assertEquals(fp, e.fingerprint());
    assertTrue(e.getMessage().contains("unknown writer schema fingerprint " + WireSchemas.hex(fp)), e.getMessage());
    assertTrue(e.getMessage().contains(WireSchemas.hex(WireSchemas.fingerprint(ClickEvent.getClassSchema()))),
        e.getMessage());
  }

  @Test
  void shouldSayWhichTypeARecordIsWhenItIsOnTheWrongTopic() {
    ScoredEvent s = ScoredEvent.newBuilder().setEventId("x:1").setKey("x:1").setScore(0.5f).setLabel(1)
        .setModelVersion(1).setEventTime(1).setProcessingTime(1).build();
    byte[] v = SingleObjectCodec.of(ScoredEvent.class).encode(s);
    UndecodableRecordException e = assertThrows(UndecodableRecordException.class,
        () -> SingleObjectCodec.of(ClickEvent.class).decode(v));
    assertEquals(UndecodableRecordException.Reason.WRONG_TYPE, e.reason());
    assertTrue(e.getMessage().contains("io.tinyrec.schemas.ScoredEvent"), e.getMessage());
  }

  @Test
  void shouldRejectShortValuesBadMarkersTruncatedAndPaddedData() {
    SingleObjectCodec<ClickEvent> codec = SingleObjectCodec.of(ClickEvent.class);
    byte[] v = codec.encode(click());
    assertEquals(UndecodableRecordException.Reason.TOO_SHORT,
        assertThrows(UndecodableRecordException.class, () -> codec.decode(new byte[] {(byte) 0xC3, 1, 2})).reason());
    byte[] json = "{\"eventId\":\"x\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    UndecodableRecordException bad = assertThrows(UndecodableRecordException.class, () -> codec.decode(json));
    assertEquals(UndecodableRecordException.Reason.BAD_MARKER, bad.reason());
    assertTrue(bad.getMessage().contains("7b 22"), bad.getMessage());
    assertEquals(UndecodableRecordException.Reason.BAD_DATUM, assertThrows(UndecodableRecordException.class,
        () -> codec.decode(Arrays.copyOf(v, v.length - 3))).reason());
    assertEquals(UndecodableRecordException.Reason.BAD_DATUM, assertThrows(UndecodableRecordException.class,
        () -> codec.decode(Arrays.copyOf(v, v.length + 2))).reason());
  }

  @Test
  void shouldReadValuesWrittenWithARegisteredOlderSchema() throws java.io.IOException {
    Schema old = SchemaBuilder.record("ScoredEvent").namespace("io.tinyrec.schemas").fields()
        .requiredString("eventId").requiredString("key").requiredFloat("score")
        .name("label").type().unionOf().nullType().and().intType().endUnion().nullDefault()
        .requiredLong("modelVersion").requiredLong("eventTime").requiredLong("processingTime")
        .requiredString("extra").endRecord();
    org.apache.avro.generic.GenericRecord r = new org.apache.avro.generic.GenericData.Record(old);
    r.put("eventId", "a:1");
    r.put("key", "a:1");
    r.put("score", 0.5f);
    r.put("label", 0);
    r.put("modelVersion", 3L);
    r.put("eventTime", 4L);
    r.put("processingTime", 5L);
    r.put("extra", "dropped by the reader");
    byte[] v = new org.apache.avro.message.BinaryMessageEncoder<org.apache.avro.generic.GenericRecord>(
        org.apache.avro.generic.GenericData.get(), old).encode(r).array();
    SingleObjectCodec<ScoredEvent> codec = SingleObjectCodec.of(ScoredEvent.class);
    assertEquals(UndecodableRecordException.Reason.UNKNOWN_FINGERPRINT,
        assertThrows(UndecodableRecordException.class, () -> codec.decode(v)).reason());
    ScoredEvent s = codec.addWriterSchema(old).decode(v);
    assertEquals(3L, s.getModelVersion());
    assertEquals(0, s.getLabel());
  }
}
