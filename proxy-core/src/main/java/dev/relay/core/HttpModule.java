package dev.relay.core;

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

    /** Sees, and may change, a request body chunk on its way upstream. */
    default void requestBodyFilter(Session session, BodyChunk body, boolean endOfStream) {}

    /** Sees, and may change, the response header about to go to the client. */
    default void responseHeaderFilter(Session session, ResponseHeader response, boolean endOfStream) {}

    /** Sees, and may change, a response body chunk about to go to the client. */
    default void responseBodyFilter(Session session, BodyChunk body, boolean endOfStream) {}

    /** Called once the response is complete (or failed), before {@link ProxyHttp#logging}. */
    default void responseDone(Session session) {}
}
