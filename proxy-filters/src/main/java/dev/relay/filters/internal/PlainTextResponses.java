package dev.relay.filters.internal;

import dev.relay.core.ResponseHeader;
import dev.relay.core.Session;

import java.util.concurrent.CompletionStage;

/**
 * The answers filters refuse a request with (403, 401, 429, 503): a status, a one-line plain-text body
 * that says why, and whatever fields the refusal needs ({@code WWW-Authenticate}, {@code Retry-After}).
 *
 * <pre>{@code
 * ResponseHeader busy = PlainTextResponses.header(503);
 * busy.headers().set("Retry-After", "1");
 * return session.respond(busy, BUSY);
 * }</pre>
 */
public final class PlainTextResponses {
    private PlainTextResponses() {}

    /** A response header of {@code status} for a plain-text body, to add the refusal's own fields to. */
    public static ResponseHeader header(int status) {
        ResponseHeader header = ResponseHeader.of(status);
        header.headers().set("Content-Type", "text/plain; charset=utf-8");
        return header;
    }

    /** Answers {@code status} with {@code body} (UTF-8 text), nothing else: {@code 403 Forbidden: ...}. */
    public static CompletionStage<Void> respond(Session session, int status, byte[] body) {
        return session.respond(header(status), body);
    }
}
