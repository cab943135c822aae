package dev.relay.core;

import org.jspecify.annotations.Nullable;

/**
 * A module factory whose modules give every request an id in a request header field (propagated
 * from the client or generated), which then travels upstream and back to the client: what a
 * request-id filter's provider creates. The server finds it in its configuration to print the id
 * in the access log ({@code request_id=}, as nginx's {@code $request_id}) and in the error-log line
 * of a failed request.
 *
 * <p>The id logged is the one the module says it chose ({@link RequestIdModule#requestId()}), never
 * the header field as it stands when the request ends: a request that an earlier filter answered (an
 * {@code ip-acl} 403, a {@code rate-limit} 429) never ran the module, and its field is still what the
 * client wrote. A module that does not implement {@link RequestIdModule}, or has not run, logs
 * {@code -}.
 *
 * <pre>{@code
 * final class MyRequestIds implements RequestIdModuleFactory {
 *     public String name() { return "my-request-id"; }
 *     public String header() { return "X-Correlation-ID"; }
 *     public HttpModule newModule() { return new MyModule(); } // one per request
 * }
 * final class MyModule implements RequestIdModuleFactory.RequestIdModule {
 *     private String id;
 *     public CompletionStage<Void> requestHeaderFilter(Session session) {
 *         id = newId();
 *         session.requestHeader().headers().set("X-Correlation-ID", id);
 *         return Stages.done();
 *     }
 *     public String requestId() { return id; }
 * }
 * }</pre>
 */
public interface RequestIdModuleFactory extends HttpModuleFactory {

    /** The request header field that holds the request's id once the module's request hook ran. */
    String header();

    /**
     * The module of one request (a new one per {@link #newModule()}), telling the server which id it
     * gave its request.
     */
    interface RequestIdModule extends HttpModule {
        /**
         * The id this module's request hook chose and wrote into {@link #header()}; null until that hook
         * ran. Read on the request's event loop.
         */
        @Nullable String requestId();
    }
}
