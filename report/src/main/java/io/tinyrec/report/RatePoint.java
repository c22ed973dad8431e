package io.tinyrec.report;

/**
 * Throughput over one span of wall-clock time.
 *
 * @param seconds the span's end, in seconds since the run's first event
 * @param eventsPerSecond events scored in the span divided by its length
 */
public record RatePoint(double seconds, double eventsPerSecond) {}
