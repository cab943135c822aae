package dev.relay.core;

/** How one upstream attempt ended, as reported to an {@link UpstreamObserver}. */
public enum AttemptOutcome {
    /** A complete response arrived with a status below 500. */
    SUCCESS,
    /** A complete response arrived with a 5xx status. */
    SERVER_ERROR,
    /** The connection (TCP or TLS) could not be made. */
    CONNECT_FAILURE,
    /** A timer expired while talking to the upstream. */
    TIMEOUT,
    /** Anything else: the connection broke, the response was malformed. */
    FAILURE,
    /** The attempt was abandoned for a reason that says nothing about the upstream (client gone, filter). */
    CANCELLED
}
