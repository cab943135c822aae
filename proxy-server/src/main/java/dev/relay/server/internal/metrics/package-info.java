/**
 * The server's metrics and access log: Prometheus counters, gauges and histograms recorded without
 * allocating or blocking on the event loops, their text exposition for the admin listener, and the
 * access log written by a background thread from a preallocated ring. Not an API.
 */
package dev.relay.server.internal.metrics;
