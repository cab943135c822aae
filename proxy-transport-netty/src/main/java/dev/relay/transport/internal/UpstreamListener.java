package dev.relay.transport.internal;

/** What an upstream connection reports to the exchange using it. Called on the connection's event loop. */
interface UpstreamListener {

    /** A decoded response object; ownership of {@code msg} passes to the listener. */
    void onUpstreamMessage(Object msg);

    /** The connection closed. */
    void onUpstreamInactive();

    /** The connection failed. */
    void onUpstreamException(Throwable cause);

    /** The read timeout armed on the connection expired. */
    void onUpstreamReadTimeout();

    /** The connection's outbound buffer crossed a water mark. */
    void onUpstreamWritabilityChanged(boolean writable);
}
