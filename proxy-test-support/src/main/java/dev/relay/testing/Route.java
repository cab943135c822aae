package dev.relay.testing;

import io.netty.buffer.ByteBuf;

/**
 * What a {@link TestOrigin} does with a request for one path. Every method runs on the connection's
 * event loop and must not block.
 *
 * <p>This is the extension point for behaviours beyond the default routes: a route gets the whole
 * {@link Exchange}, so it can answer late or never (stall), close or reset the connection, or write
 * bytes that are not valid HTTP. A route must end the exchange by calling {@link Exchange#finish()}
 * (or one of the {@code respond} methods, which do), or by closing the connection.
 */
interface Route {

    /** The request head arrived (a {@code 100 Continue} has been sent if the client asked for one). */
    default void onRequestHead(Exchange exchange) {
    }

    /**
     * A piece of the request body arrived; it has already been counted and hashed.
     *
     * @param content borrowed: valid only during the call; {@code retain()} it to keep or write it
     */
    default void onRequestBody(Exchange exchange, ByteBuf content) {
    }

    /** The whole request arrived and is already in {@link TestOrigin#requests()}. */
    void onRequestComplete(Exchange exchange);
}
