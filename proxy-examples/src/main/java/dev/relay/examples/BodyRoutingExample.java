package dev.relay.examples;

import dev.relay.core.BodyChunk;
import dev.relay.core.HttpPeer;
import dev.relay.core.ProxyHttp;
import dev.relay.core.RequestHeader;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import dev.relay.server.HttpProxyService;
import dev.relay.server.Server;
import dev.relay.server.Services;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import static java.util.Objects.requireNonNull;

/**
 * Pingora's {@code body_routing} example: the request body is read before the proxy decides anything,
 * so that it can be inspected ("peek") and replaced ("mutate"). A {@code POST} body of up to 4 KiB is read
 * whole in {@link #requestFilter} ({@link Session#readRequestBody}; longer gets 413); a body that mentions
 * {@code beta} routes the request to the beta upstream, and the upstream receives the body wrapped in an
 * envelope, {@code {"envelope":true,"original":BODY}}. Other requests pass through unchanged.
 *
 * <p>How it maps on Relay's API, which differs from Pingora's here. Pingora buffers the body before the
 * header phases ({@code request_body_buffer_limit}) and calls {@code early_request_body_filter} for each
 * chunk as it arrives; Relay has no per-chunk phase before {@code requestFilter}: {@code readRequestBody}
 * hands over the whole body at once. Pingora replaces the buffered body with {@code set_buffered_body};
 * Relay replaces it on its way out: {@link #upstreamRequestFilter} sets the new {@code Content-Length} and
 * {@link #requestBodyFilter} sends the envelope in place of the body's chunks. The original routes nowhere
 * in particular (it only logs the peek); this one uses it, so give two upstreams to see it.
 *
 * <pre>
 * java -cp proxy-examples/target/proxy-examples.jar dev.relay.examples.BodyRoutingExample
 * curl -X POST 127.0.0.1:6193/post -H "Host: httpbin.org" -H "Content-Type: application/json" -d '{"route": "beta"}'
 * curl -X POST 127.0.0.1:6193/post -H "Host: httpbin.org" -H "Content-Type: application/json" -d '{"route": "default"}'
 * curl 127.0.0.1:6193/get -H "Host: httpbin.org"
 * </pre>
 */
public final class BodyRoutingExample implements ProxyHttp<BodyRoutingExample.MyCtx> {
    private static final Logger LOG = LoggerFactory.getLogger(BodyRoutingExample.class);
    /** The longest body read for routing (Pingora's {@code request_body_buffer_limit} of the example). */
    public static final int BUFFER_LIMIT = 4096;

    /** What {@link #requestFilter} learned from the body. */
    public static final class MyCtx {
        boolean routeBeta;
        /** The body to send instead of the client's; null to send the client's. */
        byte @Nullable [] replacement;
        boolean replacementSent;
    }

    private final HttpPeer defaultUpstream;
    private final HttpPeer betaUpstream;

    /** Sends bodies that mention {@code beta} to {@code betaUpstream}, everything else to {@code defaultUpstream}. */
    public BodyRoutingExample(HttpPeer defaultUpstream, HttpPeer betaUpstream) {
        this.defaultUpstream = requireNonNull(defaultUpstream, "defaultUpstream");
        this.betaUpstream = requireNonNull(betaUpstream, "betaUpstream");
    }

    @Override
    public MyCtx newCtx() {
        return new MyCtx();
    }

    @Override
    public CompletionStage<Boolean> requestFilter(Session session, MyCtx ctx) {
        if (!session.requestHeader().method().equals("POST")) {
            return Stages.completedFalse();
        }
        return session.readRequestBody(BUFFER_LIMIT).thenApply(body -> {
            if (body.length == 0) {
                return false;
            }
            String text = new String(body, StandardCharsets.UTF_8);
            ctx.routeBeta = text.contains("beta");
            LOG.info("peek: {} bytes, route_beta={}", body.length, ctx.routeBeta);
            String wrapped = "{\"envelope\":true,\"original\":" + text + "}";
            LOG.info("mutate: {}", wrapped);
            ctx.replacement = wrapped.getBytes(StandardCharsets.UTF_8);
            return false;
        });
    }

    @Override
    public CompletionStage<HttpPeer> upstreamPeer(Session session, MyCtx ctx) {
        return CompletableFuture.completedFuture(ctx.routeBeta ? betaUpstream : defaultUpstream);
    }

    @Override
    public CompletionStage<Void> upstreamRequestFilter(Session session, RequestHeader upstreamRequest, MyCtx ctx) {
        byte[] replacement = ctx.replacement;
        if (replacement != null) {
            // The whole body was read, so the request goes up with a Content-Length: the new body's.
            upstreamRequest.insertHeader("Content-Length", Integer.toString(replacement.length));
        }
        return Stages.done();
    }

    @Override
    public CompletionStage<Void> requestBodyFilter(Session session, BodyChunk body, boolean endOfStream, MyCtx ctx) {
        byte[] replacement = ctx.replacement;
        if (replacement == null) {
            return Stages.done();
        }
        // The envelope goes out with the first chunk, and the client's chunks are dropped. A retry replays
        // what was sent (the envelope), not the client's chunks, so this runs once per request.
        if (ctx.replacementSent) {
            body.clear();
        } else {
            body.replace(replacement);
            ctx.replacementSent = true;
        }
        return Stages.done();
    }

    /** Listens on 0.0.0.0:6193 and sends everything to httpbin.org:443 (or the default and beta upstreams given). */
    public static void main(String[] args) {
        Server server = Server.create();
        server.bootstrap();
        HttpPeer defaultUpstream = args.length > 0 ? HttpPeer.plain(args[0]) : HttpPeer.tls("httpbin.org:443", "httpbin.org");
        HttpPeer betaUpstream = args.length > 1 ? HttpPeer.plain(args[1]) : defaultUpstream;
        HttpProxyService proxy = Services.httpProxy(new BodyRoutingExample(defaultUpstream, betaUpstream));
        proxy.addTcp("0.0.0.0:6193");
        server.addService(proxy);
        server.runForever();
    }
}
