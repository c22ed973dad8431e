package io.tinyrec.serving;

/** A request that cannot be scored, answered with HTTP 400; the message says what is wrong and where. */
public final class BadRequestException extends Exception {
  private static final long serialVersionUID = 1L;

  public BadRequestException(String message) {
    super(message);
  }
}
