package dev.relay.core;

/** Which side of the proxy a {@link ProxyError} came from. */
public enum ErrorSource {
    /** The origin, or the path to it. */
    UPSTREAM,
    /** The client, or the path to it. */
    DOWNSTREAM,
    /** The proxy itself: a filter, a bug, a resource limit. */
    INTERNAL
}
