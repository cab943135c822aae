package dev.relay.core;

import org.jspecify.annotations.Nullable;

import java.util.concurrent.CompletionStage;

/**
 * A reusable filter, one instance per request (so it may keep per-request state in fields). The
 * engine calls every registered module's hooks in {@link HttpModuleFactory#order()} order, around
 * the {@link ProxyHttp} phases: request hooks after {@link ProxyHttp#earlyRequestFilter} and before
 * {@link ProxyHttp#requestFilter}, response hooks after {@link ProxyHttp#responseFilter}.
 * Body chunks follow the {@link BodyChunk} ownership rules.
 */
public interface HttpModule {

    /** Sees, and may change, the request header; may answer by itself through the session. */
    default CompletionStage<Void> requestHeaderFilter(Session session) {
        return Stages.done();
    }

    /**
     * Sees, and may change, a request body chunk on its way upstream. Each chunk passes once per
     * request, whatever the retries (a retry sends again what was sent, as it was sent), so a module
     * may keep per-request state here, such as a decoder or a byte count.
     */
    default void requestBodyFilter(Session session, BodyChunk body, boolean endOfStream) {}

    /** Sees, and may change, the response header about to go to the client. */
    default void responseHeaderFilter(Session session, ResponseHeader response, boolean endOfStream) {}

    /** Sees, and may change, a response body chunk about to go to the client. */
    default void responseBodyFilter(Session session, BodyChunk body, boolean endOfStream) {}

    /**
     * Sees, and may change, the upstream response's trailer fields about to go to the client, after
     * {@link ProxyHttp#responseTrailerFilter} and after the body filters saw the last chunk (Pingora's
     * {@code response_trailer_filter}). It may turn them into body bytes instead: a protocol bridge
     * whose client cannot receive trailers (gRPC-web encodes them as a last message). Modules run in
     * order until one returns bytes; the later ones do not see the trailers.
     *
     * @return null to send the trailers (as changed) when the client's protocol can carry them; or the
     *         bytes to send as the end of the body in their place, the trailer fields then not sent (the
     *         bytes are sent as they are: body filters do not see them)
     */
    default byte @Nullable [] responseTrailerFilter(Session session, HttpHeaders trailers) {
        return null;
    }

    /** Called once the response is complete (or failed), before {@link ProxyHttp#logging}. */
    default void responseDone(Session session) {}
}
