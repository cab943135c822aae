package dev.relay.core;

/**
 * A module factory whose modules give every request an id in a request header field (propagated
 * from the client or generated), which then travels upstream and back to the client: what a
 * request-id filter's provider creates. The server finds it in its configuration to print the id
 * in the access log ({@code request_id=}, as nginx's {@code $request_id}) and in the error-log line
 * of a failed request; the id is read from the request header once the request has ended, so it is
 * exactly what the origin received.
 *
 * <pre>{@code
 * final class MyRequestIds implements RequestIdModuleFactory {
 *     public String name() { return "my-request-id"; }
 *     public String header() { return "X-Correlation-ID"; }
 *     public HttpModule newModule() { ... } // requestHeaderFilter: session.requestHeader().headers().set(header(), id)
 * }
 * }</pre>
 */
public interface RequestIdModuleFactory extends HttpModuleFactory {

    /** The request header field that holds the request's id once the module's request hook ran. */
    String header();
}
