package io.tinyrec.serving;

import io.tinyrec.serving.NioHttpServer.Reply;
import java.nio.charset.StandardCharsets;

/** The bytes {@link NioHttpServer} writes: status lines, reply heads and its own JSON errors. */
final class HttpWire {
  private HttpWire() {}

  static byte[] errorJson(String message) {
    return ModelJson.json(g -> {
      g.writeStartObject();
      g.writeStringField("error", message);
      g.writeEndObject();
    });
  }

  static String reason(int status) {
    return switch (status) {
      case 100 -> "Continue";
      case 200 -> "OK";
      case 400 -> "Bad Request";
      case 404 -> "Not Found";
      case 405 -> "Method Not Allowed";
      case 408 -> "Request Timeout";
      case 413 -> "Content Too Large";
      case 415 -> "Unsupported Media Type";
      case 431 -> "Request Header Fields Too Large";
      case 500 -> "Internal Server Error";
      case 501 -> "Not Implemented";
      case 503 -> "Service Unavailable";
      default -> "Status";
    };
  }

  static byte[] format(Reply r, boolean close) {
    StringBuilder h = new StringBuilder(160);
    h.append("HTTP/1.1 ").append(r.status()).append(' ').append(reason(r.status())).append("\r\n");
    h.append("Content-Type: ").append(r.contentType()).append("\r\n");
    h.append("Content-Length: ").append(r.body().length).append("\r\n");
    for (int i = 0; i + 1 < r.headers().length; i += 2) {
      h.append(r.headers()[i]).append(": ").append(r.headers()[i + 1]).append("\r\n");
    }
    if (close) {
      h.append("Connection: close\r\n");
    }
    h.append("\r\n");
    byte[] head = h.toString().getBytes(StandardCharsets.ISO_8859_1);
    byte[] out = new byte[head.length + r.body().length];
    System.arraycopy(head, 0, out, 0, head.length);
    System.arraycopy(r.body(), 0, out, head.length, r.body().length);
    return out;
  }
}
