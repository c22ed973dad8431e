package io.tinyrec.schemas;

/**
 * A record value that is not a valid Avro single-object encoding of the expected tinyrec type. The
 * message says which check failed and what was found, so a dead-letter entry explains itself.
 */
public final class UndecodableRecordException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Which check failed. */
  public enum Reason {
    /** Fewer bytes than the 10-byte header. */
    TOO_SHORT,
    /** The first two bytes are not the single-object marker C3 01. */
    BAD_MARKER,
    /** The writer-schema fingerprint is not one this reader knows. */
    UNKNOWN_FINGERPRINT,
    /** The fingerprint belongs to a different tinyrec record type (wrong topic?). */
    WRONG_TYPE,
    /** The header is fine but the datum does not decode, or leaves bytes over. */
    BAD_DATUM
  }

  private final Reason reason;
  private final long fingerprint;

  public UndecodableRecordException(Reason reason, long fingerprint, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
    this.fingerprint = fingerprint;
  }

  public Reason reason() {
    return reason;
  }

  /** The writer fingerprint read from the header, or 0 when there was no header to read. */
  public long fingerprint() {
    return fingerprint;
  }
}
