package io.tinyrec.model.codec;

/** A snapshot that cannot be decoded; the message says which check failed and with what values. */
public final class SnapshotFormatException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public SnapshotFormatException(String message) {
    super(message);
  }

  public SnapshotFormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
