package dev.relay.filters.limits;

import dev.relay.core.HttpHeaders;
import dev.relay.core.HttpModule;
import dev.relay.core.ResponseHeader;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import dev.relay.filters.internal.PlainTextResponses;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The {@code rate-limit} filter's module for one request. It is the request's {@link LimitVerdict}
 * itself (one object per request rather than two). Its hooks run on the request's event loop.
 */
final class RateLimitModule extends LimitVerdict implements HttpModule {
    private static final byte[] TOO_MANY = "429 Too Many Requests\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] UNAVAILABLE = "503 Service Unavailable\n".getBytes(StandardCharsets.US_ASCII);

    private final RateLimitFilter filter;
    /** Whether the store's verdict is in (false for a request without a key, or while a store is answering). */
    private boolean decided;
    /** Whether responseDone ran: a verdict arriving afterwards gives its slot back at once. */
    private boolean finished;

    RateLimitModule(RateLimitFilter filter) {
        this.filter = filter;
    }

    @Override
    public CompletionStage<Void> requestHeaderFilter(Session session) {
        String key = filter.key().keyOf(session);
        if (key == null) {
            return Stages.done();
        }
        CompletionStage<Void> stage = filter.store().acquire(KeyDigest.bounded(key), this);
        if (stage instanceof CompletableFuture<Void> future && future.isDone() && !future.isCompletedExceptionally()) {
            answer(session);
            return Stages.done();
        }
        // A store answering later (from any thread): act on the verdict on the request's event loop.
        return stage.thenRunAsync(() -> {
            if (finished) {
                filter.store().release(this);
            } else {
                answer(session);
            }
        }, session.eventLoop());
    }

    /**
     * Refuses the request when the verdict says so; an admitted one goes on. A 429, and a 503 of a shared
     * store that cannot decide (worth retrying soon), say when to retry; a full in-flight limit does not.
     */
    private void answer(Session session) {
        decided = true;
        if (status == 429 || status == 503 && retryAfterSeconds > 0) {
            ResponseHeader header = PlainTextResponses.header(status);
            HttpHeaders fields = header.headers();
            fields.set("Retry-After", Long.toString(retryAfterSeconds));
            if (status == 429) {
                addRateLimitFields(fields);
            }
            session.respond(header, status == 429 ? TOO_MANY : UNAVAILABLE);
        } else if (status == 503) {
            session.respondError(503);
        }
    }

    @Override
    public void responseHeaderFilter(Session session, ResponseHeader response, boolean endOfStream) {
        if (decided && status == ADMITTED && filter.headersOnAdmitted()) {
            addRateLimitFields(response.headers());
        }
    }

    private void addRateLimitFields(HttpHeaders fields) {
        String policy = filter.policyField();
        if (policy != null && remaining >= 0) {
            fields.set("RateLimit-Policy", policy);
            fields.set("RateLimit", RateLimitFilter.rateLimitField(remaining, resetSeconds));
        }
    }

    /** Gives back the in-flight slot: the store releases each slot once, whatever calls it again. */
    @Override
    public void responseDone(Session session) {
        finished = true;
        filter.store().release(this);
    }
}
