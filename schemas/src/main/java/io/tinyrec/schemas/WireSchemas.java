package io.tinyrec.schemas;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;

/**
 * The current writer schemas of every tinyrec record type, indexed by their CRC-64-AVRO fingerprint
 * (the 8 bytes after the marker in a single-object encoded value). Immutable and thread-safe.
 */
public final class WireSchemas {
  /** Every top-level record that travels on a topic (ModelMetrics is nested, never sent alone). */
  public static final List<Schema> ALL = List.of(ClickEvent.getClassSchema(), ScoredEvent.getClassSchema(),
      ModelSnapshot.getClassSchema(), ModelSync.getClassSchema());

  private static final Map<Long, Schema> BY_FINGERPRINT = new HashMap<>();

  static {
    for (Schema s : ALL) {
      BY_FINGERPRINT.put(fingerprint(s), s);
    }
  }

  private WireSchemas() {}

  /** The CRC-64-AVRO fingerprint of a schema's parsing canonical form, as single-object encoding uses it. */
  public static long fingerprint(Schema schema) {
    return SchemaNormalization.parsingFingerprint64(schema);
  }

  /** The tinyrec schema with this fingerprint, if this build has one. */
  public static Optional<Schema> byFingerprint(long fingerprint) {
    return Optional.ofNullable(BY_FINGERPRINT.get(fingerprint));
  }

  /** A fingerprint as 16 hex digits, the way error messages and docs print it. */
  public static String hex(long fingerprint) {
    return String.format("%016x", fingerprint);
  }
}
