package dev.relay.transport;

import java.time.Duration;

/**
 * Client-side timeouts of one listener, when it should differ from the service's
 * {@link ProxyOptions} (for example a public port with short timeouts next to an internal one).
 * A {@code null} setting means "as in the service's options". Immutable.
 *
 * @param headerReadTimeout time allowed for a whole request header once its first byte arrived
 * @param keepAliveTimeout how long an idle keep-alive client connection is kept
 * @param bodyReadTimeout longest wait for each read of a request body
 */
public record ListenerOptions(Duration headerReadTimeout, Duration keepAliveTimeout, Duration bodyReadTimeout) {

    /** Everything as in the service's options. */
    public static final ListenerOptions INHERIT = new ListenerOptions(null, null, null);

    /** Validates that each given timeout is positive. */
    public ListenerOptions {
        positiveOrNull("headerReadTimeout", headerReadTimeout);
        positiveOrNull("keepAliveTimeout", keepAliveTimeout);
        positiveOrNull("bodyReadTimeout", bodyReadTimeout);
    }

    private static void positiveOrNull(String name, Duration value) {
        if (value != null && (value.isNegative() || value.isZero())) {
            throw new IllegalArgumentException(name + ": " + value + " (expected: > 0, or null to inherit)");
        }
    }

    Duration headerReadTimeoutOr(ProxyOptions service) {
        return headerReadTimeout != null ? headerReadTimeout : service.headerReadTimeout();
    }

    Duration keepAliveTimeoutOr(ProxyOptions service) {
        return keepAliveTimeout != null ? keepAliveTimeout : service.keepAliveTimeout();
    }

    Duration bodyReadTimeoutOr(ProxyOptions service) {
        return bodyReadTimeout != null ? bodyReadTimeout : service.bodyReadTimeout();
    }
}
