package io.tinyrec.model.sync;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * What one side of the sync protocol did: messages and payload bytes in and out, and the CPU time
 * (of the calling thread) spent on sync, as opposed to training.
 */
public final class SyncStats {
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  /** Messages sent (updates for a learner, sync messages for the merger). */
  public long messages;
  public long bytesIn;
  public long bytesOut;
  /** Labelled events behind the updates (sent by a learner, merged by the merger). */
  public long eventsTrained;
  /** CPU ns spent merging updates (merger) or building updates (learner). */
  public long mergeNanos;
  /** CPU ns spent building sync messages (merger) or applying them (learner). */
  public long publishNanos;

  /** CPU time of the calling thread, ns (wall-clock time where the JVM does not measure it). */
  static long cpuNanos() {
    return THREADS.isCurrentThreadCpuTimeSupported() ? THREADS.getCurrentThreadCpuTime() : System.nanoTime();
  }
}
