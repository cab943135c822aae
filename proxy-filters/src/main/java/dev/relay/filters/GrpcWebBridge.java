package dev.relay.filters;

import dev.relay.core.BodyChunk;
import dev.relay.core.ErrorSource;
import dev.relay.core.HttpHeaders;
import dev.relay.core.HttpModule;
import dev.relay.core.HttpModuleFactory;
import dev.relay.core.ProxyError;
import dev.relay.core.RequestHeader;
import dev.relay.core.ResponseHeader;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import org.jspecify.annotations.Nullable;

import java.util.Locale;
import java.util.concurrent.CompletionStage;

/**
 * Bridges gRPC-web clients (browsers, over HTTP/1.1 or HTTP/2) to gRPC origins, as Pingora's
 * {@code GrpcWebBridge} module does (grpc/grpc {@code doc/PROTOCOL-WEB.md}). One instance per request.
 *
 * <ul>
 *   <li><b>Request</b>: a {@code Content-Type} of {@code application/grpc-web} (or
 *       {@code application/grpc-web+proto}, {@code +json} ...) becomes {@code application/grpc} (with the
 *       same suffix) and {@code te: trailers} is added, which gRPC over HTTP/2 requires. The
 *       {@code -text} variants ({@code application/grpc-web-text[+proto]}) have a base64 body, decoded on
 *       the way up; their {@code Content-Length} is removed since the decoded body is shorter (the
 *       origin must then be HTTP/2, as a gRPC origin is). Any other request passes untouched, and so
 *       does its response.</li>
 *   <li><b>Response</b>: an {@code application/grpc[+suffix]} response gets the matching
 *       {@code application/grpc-web[+suffix]} type ({@code application/grpc-web-text[+suffix]} when the
 *       request was {@code -text} or its {@code Accept} asks for {@code application/grpc-web-text}), loses
 *       its {@code Content-Length}, and its trailers ({@code grpc-status}, {@code grpc-message} ...) are
 *       sent at the end of the body as a trailer frame: {@code 0x80}, the block length in four bytes,
 *       then {@code name: value\r\n} lines. A {@code -text} response has each body piece and the frame
 *       base64-encoded (padded segments, as the protocol allows). A trailers-only response (the status in
 *       the header, no body, as gRPC sends an immediate error) keeps the status in its header: the
 *       protocol leaves trailers-only responses unchanged.</li>
 * </ul>
 *
 * <p>From Java, register the factory in {@code initDownstreamModules}; in the server's configuration,
 * use the {@code grpc-web} filter ({@link GrpcWebFilterProvider}):
 *
 * <pre>{@code
 * public void initDownstreamModules(HttpModules modules) {
 *     modules.add(GrpcWebBridge.factory());
 * }
 * }</pre>
 *
 * <p>CORS is not handled here: a browser page from another origin needs a filter that answers the
 * preflight {@code OPTIONS} and adds the {@code Access-Control-*} fields.
 */
public final class GrpcWebBridge implements HttpModule {
    /** The name of the module and of the configuration filter. */
    public static final String NAME = "grpc-web";

    private static final String GRPC = "application/grpc";
    private static final String GRPC_WEB = "application/grpc-web";
    private static final String GRPC_WEB_TEXT = "application/grpc-web-text";
    private static final String GRPC_WEB_TEXT_BASE64 = "application/grpc-web-text-base64";
    private static final HttpModuleFactory FACTORY = new HttpModuleFactory() {
        @Override
        public String name() {
            return NAME;
        }

        @Override
        public HttpModule newModule() {
            return new GrpcWebBridge();
        }

        @Override
        public String toString() {
            return NAME;
        }
    };

    /** Where the bridge is in its request (Pingora's {@code GrpcWebCtx}: Init, Upgrade, Trailers, Done). */
    private enum State {
        /** Not a gRPC-web request, or its response is not gRPC: nothing to do. */
        OFF,
        /** The request was turned into gRPC; the response header has not come yet. */
        REQUEST_BRIDGED,
        /** The response is gRPC and goes back as gRPC-web; its trailers are still to come. */
        RESPONSE_BRIDGED,
        /** The trailer frame was sent. */
        DONE
    }

    private State state = State.OFF;
    private boolean textResponse;
    private GrpcWebFraming.@Nullable Base64Decoder requestDecoder;

    /** A module for one request; {@link #factory()} makes them for a service. */
    public GrpcWebBridge() {}

    /** The factory of this module, shared by every request of a service. */
    public static HttpModuleFactory factory() {
        return FACTORY;
    }

    @Override
    public CompletionStage<Void> requestHeaderFilter(Session session) {
        RequestHeader request = session.requestHeader();
        HttpHeaders headers = request.headers();
        String type = headers.get("content-type");
        if (type == null) {
            return Stages.done();
        }
        String lower = type.toLowerCase(Locale.ROOT);
        if (lower.startsWith(GRPC_WEB_TEXT_BASE64)) {
            // The protocol's explicit name for the default text encoding.
            lower = GRPC_WEB_TEXT + lower.substring(GRPC_WEB_TEXT_BASE64.length());
        }
        boolean text = lower.startsWith(GRPC_WEB_TEXT);
        String suffix = suffixAfter(lower, text ? GRPC_WEB_TEXT : GRPC_WEB);
        if (suffix == null) {
            return Stages.done();
        }
        headers.set("content-type", GRPC + suffix);
        // gRPC over HTTP/2 requires it: it tells the origin that the path to it carries trailers.
        headers.set("te", "trailers");
        if (text) {
            headers.remove("content-length");
            requestDecoder = new GrpcWebFraming.Base64Decoder();
        }
        String accept = headers.get("accept");
        textResponse = text || accept != null && accept.toLowerCase(Locale.ROOT).contains(GRPC_WEB_TEXT);
        state = State.REQUEST_BRIDGED;
        return Stages.done();
    }

    @Override
    public void requestBodyFilter(Session session, BodyChunk body, boolean endOfStream) {
        GrpcWebFraming.Base64Decoder decoder = requestDecoder;
        if (decoder == null || body.isEmpty() && !endOfStream) {
            return;
        }
        try {
            body.replace(decoder.decode(body.toByteArray(), endOfStream));
        } catch (IllegalArgumentException e) {
            throw ProxyError.httpStatus(400, ErrorSource.DOWNSTREAM)
                    .setContext("grpc-web-text request body: " + e.getMessage());
        }
    }

    @Override
    public void responseHeaderFilter(Session session, ResponseHeader response, boolean endOfStream) {
        if (state != State.REQUEST_BRIDGED || response.status() < 200) {
            return;
        }
        HttpHeaders headers = response.headers();
        String type = headers.get("content-type");
        String suffix = type == null ? null : suffixAfter(type.toLowerCase(Locale.ROOT), GRPC);
        if (suffix == null) {
            // Not gRPC (an error page of the origin, or of the proxy): it goes back as it is.
            state = State.OFF;
            return;
        }
        headers.set("content-type", (textResponse ? GRPC_WEB_TEXT : GRPC_WEB) + suffix);
        // The trailer frame (and base64) make the body longer than the origin said.
        headers.remove("content-length");
        state = State.RESPONSE_BRIDGED;
    }

    @Override
    public void responseBodyFilter(Session session, BodyChunk body, boolean endOfStream) {
        if (state == State.RESPONSE_BRIDGED && textResponse && !body.isEmpty()) {
            body.replace(GrpcWebFraming.base64(body.toByteArray()));
        }
    }

    @Override
    public byte @Nullable [] responseTrailerFilter(Session session, HttpHeaders trailers) {
        if (state != State.RESPONSE_BRIDGED) {
            return null;
        }
        state = State.DONE;
        byte[] frame = GrpcWebFraming.trailerFrame(trailers);
        return textResponse ? GrpcWebFraming.base64(frame) : frame;
    }

    /**
     * What follows {@code prefix} in the lower-case media type {@code type}: empty, a {@code +format}
     * suffix or parameters; null when {@code type} is another type that merely starts the same way
     * ({@code application/grpc-webfoo}, or {@code application/grpc-web} for the prefix {@code application/grpc}).
     */
    private static @Nullable String suffixAfter(String type, String prefix) {
        if (!type.startsWith(prefix)) {
            return null;
        }
        String rest = type.substring(prefix.length());
        return rest.isEmpty() || rest.charAt(0) == '+' || rest.charAt(0) == ';' ? rest : null;
    }

    @Override
    public String toString() {
        return "GrpcWebBridge{" + state + (textResponse ? ", text" : "") + '}';
    }
}
