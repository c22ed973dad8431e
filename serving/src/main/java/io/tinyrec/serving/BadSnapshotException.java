package io.tinyrec.serving;

import java.util.Locale;

/**
 * A snapshot that must not be served. The message names what is wrong and where the snapshot came
 * from; {@link #reason()} is the failure's kind, as the failure counter labels it.
 */
public final class BadSnapshotException extends Exception {
  private static final long serialVersionUID = 1L;

  /** Which check failed. */
  public enum Reason {
    /** The record value is not a ModelSnapshot in Avro single-object encoding (or the file is neither format). */
    UNDECODABLE,
    /** The record is keyed by, or names, another model than the one served. */
    WRONG_MODEL,
    /** The CRC-32 of the codec bytes differs from the record's checksum field. */
    CHECKSUM,
    /** The codec bytes do not decode: format version, flags, shapes, sizes or the codec's own CRC. */
    FORMAT,
    /** The record's config map disagrees with the config inside its codec bytes. */
    CONFIG_MISMATCH,
    /** A null value (a tombstone) for the served model. */
    TOMBSTONE;

    /** The lower-case name, as metrics and logs show it. */
    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private final Reason reason;

  public BadSnapshotException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
