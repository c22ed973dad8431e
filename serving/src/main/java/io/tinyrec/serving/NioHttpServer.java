package io.tinyrec.serving;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small HTTP/1.1 server whose one network thread never waits on a client. It accepts, reads
 * request heads and bodies and writes replies with non-blocking sockets; only a complete request
 * goes to the worker pool, so a client that sends its headers one byte a minute, or never reads
 * its reply, holds a connection and nothing else. Every connection has deadlines: the head within
 * {@link Limits#headMillis}, the body within {@link Limits#bodyMillis} of the head, the reply
 * written within {@link Limits#writeMillis}, and an idle keep-alive connection is closed after
 * {@link Limits#idleMillis}. Past a deadline a request gets 408 and its connection is closed.
 *
 * <p>Bodies come with Content-Length or chunked; a Content-Length that is not a number gets 400,
 * a head over {@link Limits#maxHeadBytes} 431, a body over {@link Limits#maxBodyBytes} 413. A
 * refused body that the client is still sending is read and dropped, up to four times the limit
 * (1 to 64 MiB), so that the client reads the 413 rather than a reset connection. Errors the server
 * answers itself are JSON, {@code {"error": "..."}}, as the handler's are. A full worker queue gets
 * 503 at once.
 */
final class NioHttpServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(NioHttpServer.class);

  /** A complete request: method, path (no query), headers with lower-case names, and the body. */
  record Request(String method, String path, Map<String, String> headers, byte[] body, int bodyLength) {
    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  /** A reply: status, content type, body, and extra headers as name, value pairs. */
  record Reply(int status, String contentType, byte[] body, String[] headers) {}

  /** What the server does with a request; runs on a worker thread. */
  interface Handler {
    Reply handle(Request request);
  }

  /** Limits and deadlines, in bytes and milliseconds. */
  record Limits(int maxHeadBytes, int maxBodyBytes, long headMillis, long bodyMillis, long writeMillis,
      long idleMillis, int maxConnections) {
    static Limits defaults(int maxBodyBytes) {
      return new Limits(16 * 1024, maxBodyBytes, 10_000, 30_000, 30_000, 60_000, 10_000);
    }
  }

  private final Limits limits;
  private final Handler handler;
  private final ExecutorService workers;
  private final Selector selector;
  private final ServerSocketChannel listener;
  private final Thread loop;
  private final Set<Conn> connections = new HashSet<>();
  private final ConcurrentLinkedQueue<Conn> replied = new ConcurrentLinkedQueue<>();
  private volatile boolean running = true;

  NioHttpServer(InetSocketAddress address, Limits limits, Handler handler, ExecutorService workers)
      throws IOException {
    this.limits = limits;
    this.handler = handler;
    this.workers = workers;
    this.selector = Selector.open();
    this.listener = ServerSocketChannel.open();
    try {
      listener.bind(address, 1024);
    } catch (IOException e) {
      selector.close();
      listener.close();
      throw e;
    }
    listener.configureBlocking(false);
    listener.register(selector, SelectionKey.OP_ACCEPT);
    this.loop = new Thread(this::run, "tinyrec-http-io");
    loop.setDaemon(true);
  }

  void start() {
    loop.start();
  }

  InetSocketAddress address() {
    try {
      return (InetSocketAddress) listener.getLocalAddress();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    running = false;
    selector.wakeup();
    try {
      loop.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void run() {
    long lastSweep = System.currentTimeMillis();
    try {
      while (running) {
        selector.select(250);
        for (var it = selector.selectedKeys().iterator(); it.hasNext(); ) {
          SelectionKey k = it.next();
          it.remove();
          try {
            if (!k.isValid()) {
              continue;
            }
            if (k.isAcceptable()) {
              accept();
            } else {
              Conn c = (Conn) k.attachment();
              if (k.isReadable()) {
                c.read();
              }
              if (k.isValid() && k.isWritable()) {
                c.write();
              }
            }
          } catch (IOException | RuntimeException e) {
            if (e instanceof RuntimeException) {
              LOG.error("HTTP connection closed on an error", e);
            }
            if (k.attachment() instanceof Conn c) {
              c.close();
            }
          }
        }
        for (Conn c; (c = replied.poll()) != null; ) {
          c.startWriting();
        }
        long now = System.currentTimeMillis();
        if (now - lastSweep >= 250) {
          lastSweep = now;
          for (Conn c : new ArrayList<>(connections)) {
            c.checkDeadline(now);
          }
        }
      }
    } catch (IOException e) {
      LOG.error("HTTP server stopped: {}", e.toString());
    } finally {
      for (Conn c : new ArrayList<>(connections)) {
        c.close();
      }
      try {
        listener.close();
        selector.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
  }

  private void accept() throws IOException {
    for (SocketChannel ch; (ch = listener.accept()) != null; ) {
      if (connections.size() >= limits.maxConnections()) {
        ch.close(); // at the limit: refuse rather than let connections pile up
        continue;
      }
      ch.configureBlocking(false);
      ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
      Conn c = new Conn(ch);
      c.key = ch.register(selector, SelectionKey.OP_READ, c);
      connections.add(c);
    }
  }

  private enum State { HEAD, BODY, CHUNKED, DISCARD, WORKING, WRITING }

  /** One connection; touched by the network thread only, except {@link #reply}, handed over through a queue. */
  private final class Conn {
    final SocketChannel ch;
    SelectionKey key;
    State state = State.HEAD;
    ByteBuffer in = ByteBuffer.allocate(4096); // write mode: [0, position) is what was read
    int scanFrom;
    long since = System.currentTimeMillis(); // when the current state began
    boolean sawBytes; // any byte of the current request
    String method;
    String path;
    Map<String, String> headers;
    int headEnd;
    long bodyLength;
    long discardLeft;
    // chunked decoding
    byte[] body;
    int bodySize;
    int chunkPos;
    long chunkLeft = -1; // -1: at a chunk-size line; -2: in the trailers
    boolean keepAlive;
    volatile byte[] reply;
    ByteBuffer out;
    boolean closeAfterWrite;

    Conn(SocketChannel ch) {
      this.ch = ch;
    }

    void read() throws IOException {
      if (state == State.WORKING || state == State.WRITING) {
        return;
      }
      if (!in.hasRemaining()) {
        grow();
      }
      int n = ch.read(in);
      if (n < 0) {
        close();
        return;
      }
      if (n > 0) {
        sawBytes = true;
      }
      advance();
    }

    /** Room to read more, within the head, body and chunk limits. */
    private void grow() {
      long cap = (long) limits.maxHeadBytes() + limits.maxBodyBytes() + 64 * 1024;
      if (state == State.DISCARD) {
        in.clear(); // dropped bytes need no room
        return;
      }
      int size = (int) Math.min(cap, 2L * in.capacity());
      if (size <= in.capacity()) {
        discardLeft = swallowLimit();
        refuse(413, "the request is larger than the limit of " + limits.maxBodyBytes() + " bytes (--max-body-bytes)",
            false);
        return;
      }
      ByteBuffer b = ByteBuffer.allocate(size);
      in.flip();
      b.put(in);
      in = b;
    }

    /** Moves the request forward with the bytes read so far. */
    private void advance() throws IOException {
      while (true) {
        switch (state) {
          case HEAD -> {
            int end = findHeadEnd();
            if (end < 0 || end > limits.maxHeadBytes()) {
              if (end > limits.maxHeadBytes() || in.position() > limits.maxHeadBytes()) {
                refuse(431, "the request head is larger than " + limits.maxHeadBytes() + " bytes", true);
              }
              return;
            }
            if (!parseHead(end)) {
              return;
            }
          }
          case BODY -> {
            if (in.position() - headEnd < bodyLength) {
              return;
            }
            body = java.util.Arrays.copyOfRange(in.array(), headEnd, headEnd + (int) bodyLength);
            bodySize = (int) bodyLength;
            dispatch(headEnd + (int) bodyLength);
            return;
          }
          case CHUNKED -> {
            if (!decodeChunks()) {
              return;
            }
          }
          case DISCARD -> {
            discardLeft -= in.position();
            in.clear();
            if (discardLeft <= 0) {
              close();
            }
            return;
          }
          default -> {
            return;
          }
        }
      }
    }

    private int findHeadEnd() {
      byte[] a = in.array();
      for (int i = Math.max(3, scanFrom); i < in.position(); i++) {
        if (a[i] == '\n' && a[i - 1] == '\r' && a[i - 2] == '\n' && a[i - 3] == '\r') {
          return i + 1;
        }
      }
      scanFrom = Math.max(3, in.position());
      return -1;
    }

    /** Parses the head ending at {@code end}; false when the request was refused. */
    private boolean parseHead(int end) throws IOException {
      String head = new String(in.array(), 0, end - 4, StandardCharsets.ISO_8859_1);
      String[] lines = head.split("\r\n");
      String[] first = lines[0].split(" ");
      if (first.length != 3 || !first[2].startsWith("HTTP/1.")) {
        refuse(400, "not an HTTP/1.1 request line: " + abbreviate(lines[0]), false);
        return false;
      }
      method = first[0];
      String target = first[1];
      int q = target.indexOf('?');
      path = q < 0 ? target : target.substring(0, q);
      headers = new HashMap<>();
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        if (colon <= 0) {
          refuse(400, "malformed header line: " + abbreviate(lines[i]), false);
          return false;
        }
        headers.merge(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim(),
            (a, b) -> a + ", " + b);
      }
      String connection = headers.getOrDefault("connection", "").toLowerCase(Locale.ROOT);
      keepAlive = first[2].equals("HTTP/1.1") ? !connection.contains("close") : connection.contains("keep-alive");
      headEnd = end;
      since = System.currentTimeMillis();
      String te = headers.get("transfer-encoding");
      String cl = headers.get("content-length");
      boolean expect = "100-continue".equalsIgnoreCase(headers.getOrDefault("expect", ""));
      if (te != null) {
        if (!te.toLowerCase(Locale.ROOT).equals("chunked")) {
          refuse(501, "Transfer-Encoding " + abbreviate(te) + " is not supported; send chunked or Content-Length",
              false);
          return false;
        }
        state = State.CHUNKED;
        body = new byte[Math.min(limits.maxBodyBytes(), 8192)];
        bodySize = 0;
        chunkPos = headEnd;
        chunkLeft = -1;
      } else if (cl != null) {
        if (!cl.matches("[0-9]{1,18}")) {
          refuse(400, "Content-Length is not a number: " + abbreviate(cl), false);
          return false;
        }
        bodyLength = Long.parseLong(cl);
        if (bodyLength > limits.maxBodyBytes()) {
          long swallow = swallowLimit();
          if (!expect && bodyLength <= swallow) {
            discardLeft = bodyLength - (in.position() - headEnd);
          }
          refuse(413, "the request body is larger than the limit of " + limits.maxBodyBytes()
              + " bytes (--max-body-bytes); send fewer rows per request", false);
          return false;
        }
        state = State.BODY;
      } else {
        bodyLength = 0;
        state = State.BODY;
      }
      if (expect) {
        ch.write(ByteBuffer.wrap("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1)));
      }
      return true;
    }

    /** Decodes the chunks read so far; true when the body is complete and the request dispatched. */
    private boolean decodeChunks() {
      byte[] a = in.array();
      int limit = in.position();
      while (true) {
        if (chunkLeft == -1 || chunkLeft == -2) {
          int eol = -1;
          for (int i = chunkPos; i + 1 < limit; i++) {
            if (a[i] == '\r' && a[i + 1] == '\n') {
              eol = i;
              break;
            }
          }
          if (eol < 0) {
            if (limit - chunkPos > 4096) {
              refuse(400, "a chunk-size or trailer line is longer than 4096 bytes", true);
            }
            return false;
          }
          String line = new String(a, chunkPos, eol - chunkPos, StandardCharsets.ISO_8859_1);
          chunkPos = eol + 2;
          if (chunkLeft == -2) {
            if (line.isEmpty()) {
              dispatch(chunkPos);
              return true;
            }
            continue; // a trailer: ignored
          }
          int semi = line.indexOf(';');
          String hex = (semi < 0 ? line : line.substring(0, semi)).trim();
          if (!hex.matches("[0-9a-fA-F]{1,8}")) {
            refuse(400, "chunk size is not a hex number: " + abbreviate(line), true);
            return false;
          }
          long size = Long.parseLong(hex, 16);
          if (size == 0) {
            chunkLeft = -2;
            continue;
          }
          if (bodySize + size > limits.maxBodyBytes()) {
            // The client may still be sending: drop up to the swallow limit so that it reads the 413.
            discardLeft = Math.max(0, swallowLimit() - bodySize - (limit - headEnd));
            refuse(413, "the request body is larger than the limit of " + limits.maxBodyBytes()
                + " bytes (--max-body-bytes); send fewer rows per request", false);
            return false;
          }
          chunkLeft = size;
        }
        if (limit - chunkPos < chunkLeft + 2) {
          return false;
        }
        int n = (int) chunkLeft;
        if (bodySize + n > body.length) {
          body = java.util.Arrays.copyOf(body, (int) Math.min(limits.maxBodyBytes(),
              Math.max(2L * body.length, (long) bodySize + n)));
        }
        System.arraycopy(a, chunkPos, body, bodySize, n);
        bodySize += n;
        chunkPos += n + 2;
        chunkLeft = -1;
        compactTo(chunkPos); // decoded bytes need no room
        limit = in.position();
      }
    }

    /** Drops the decoded part of a chunked body from the read buffer. */
    private void compactTo(int from) {
      int keep = in.position() - from;
      System.arraycopy(in.array(), from, in.array(), headEnd, keep);
      in.position(headEnd + keep);
      chunkPos = headEnd;
    }

    private void dispatch(int consumed) {
      // Keep what follows the request (a pipelined next one) for later.
      int left = in.position() - consumed;
      byte[] rest = java.util.Arrays.copyOfRange(in.array(), consumed, consumed + left);
      in = ByteBuffer.allocate(Math.max(4096, left));
      in.put(rest);
      scanFrom = 0;
      state = State.WORKING;
      since = System.currentTimeMillis();
      key.interestOps(0);
      Request r = new Request(method, path, headers, body, bodySize);
      body = null;
      try {
        workers.execute(() -> {
          Reply out;
          try {
            out = handler.handle(r);
          } catch (RuntimeException e) {
            LOG.error("{} {} failed", r.method(), r.path(), e);
            out = new Reply(500, "application/json", HttpWire.errorJson("internal error: " + e), new String[0]);
          }
          reply = HttpWire.format(out, !keepAlive);
          replied.add(this);
          selector.wakeup();
        });
      } catch (RejectedExecutionException e) {
        keepAlive = false;
        byte[] busy = HttpWire.errorJson(
            "the server is overloaded: every scoring thread is busy and their queue is full; retry shortly");
        reply = HttpWire.format(new Reply(503, "application/json", busy, new String[] {"Retry-After", "1"}), true);
        startWriting();
      }
    }

    /** Answers the server's own error and closes once it is written (or, discarding, once the body is read). */
    private void refuse(int status, String message, boolean now) {
      keepAlive = false;
      reply = HttpWire.format(new Reply(status, "application/json", HttpWire.errorJson(message), new String[0]), true);
      if (now) {
        discardLeft = 0;
      }
      startWriting();
    }

    void startWriting() {
      if (!key.isValid()) {
        return;
      }
      out = ByteBuffer.wrap(reply);
      reply = null;
      closeAfterWrite = !keepAlive;
      state = State.WRITING;
      since = System.currentTimeMillis();
      key.interestOps(SelectionKey.OP_WRITE);
      try {
        write();
      } catch (IOException e) {
        close();
      }
    }

    void write() throws IOException {
      if (state != State.WRITING) {
        return;
      }
      ch.write(out);
      if (out.hasRemaining()) {
        return;
      }
      out = null;
      if (closeAfterWrite) {
        if (discardLeft > 0) {
          // The client may still be sending the refused body: read and drop it, then close.
          state = State.DISCARD;
          in.clear();
          key.interestOps(SelectionKey.OP_READ);
          return;
        }
        close();
        return;
      }
      state = State.HEAD;
      sawBytes = in.position() > 0;
      since = System.currentTimeMillis();
      key.interestOps(SelectionKey.OP_READ);
      if (in.position() > 0) {
        advance(); // a pipelined request already read
      }
    }

    void checkDeadline(long now) {
      long age = now - since;
      switch (state) {
        case HEAD -> {
          if (sawBytes && age > limits.headMillis()) {
            refuse(408, "the request head did not arrive within " + limits.headMillis() + " ms", true);
          } else if (!sawBytes && age > limits.idleMillis()) {
            close();
          }
        }
        case BODY, CHUNKED -> {
          if (age > limits.bodyMillis()) {
            refuse(408, "the request body did not arrive within " + limits.bodyMillis() + " ms", true);
          }
        }
        case WRITING, DISCARD -> {
          if (age > limits.writeMillis()) {
            close();
          }
        }
        default -> { }
      }
    }

    void close() {
      connections.remove(this);
      state = State.WORKING; // nothing more is read or written
      key.cancel();
      try {
        ch.close();
      } catch (IOException ignored) {
        // gone anyway
      }
    }
  }

  private long swallowLimit() {
    return Math.min(64L << 20, Math.max(1L << 20, 4L * limits.maxBodyBytes()));
  }

  private static String abbreviate(String s) {
    return s.length() <= 80 ? s : s.substring(0, 80) + "...";
  }
}
