package dev.relay.testing;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/** The default routes of a {@link TestOrigin} (documented there) and the route for custom handlers. */
final class OriginRoutes {
    static final String TEXT = "text/plain; charset=utf-8";
    static final String OCTETS = "application/octet-stream";

    private OriginRoutes() {
    }

    /**
     * The route for {@code path}: a custom handler first, then a default route, else the fallback handler
     * when there is one (nullable), else the root route.
     */
    static Route resolve(String path, Map<String, RequestHandler> handlers, RequestHandler fallbackHandler) {
        RequestHandler handler = handlers.get(path);
        if (handler != null) {
            return new HandlerRoute(handler);
        }
        switch (path) {
            case "/small":
                return new PatternRoute(100, false);
            case "/64k":
                return new PatternRoute(64 * 1024, false);
            case "/echo":
                return EchoRoute.INSTANCE;
            case "/sink":
                return SinkRoute.INSTANCE;
            case "/headers":
                return HeadersRoute.INSTANCE;
            case "/close-after-headers":
                return CloseAfterHeadersRoute.INSTANCE;
            case "/hang":
                return HangRoute.INSTANCE;
            case "/slow-headers":
                return new ParameterizedRoute(OriginRoutes::slowHeaders);
            case "/drip-body":
                return new ParameterizedRoute(OriginRoutes::dripBody);
            case "/stall-body":
                return new ParameterizedRoute(OriginRoutes::stallBody);
            case "/reset-before-response":
                return ResetBeforeResponseRoute.INSTANCE;
            case "/reset-mid-body":
                return new ParameterizedRoute(OriginRoutes::resetMidBody);
            case "/close-on-next":
                return new ParameterizedRoute(OriginRoutes::closeOnNext);
            case "/bad-status-line":
                return new RawRoute("HTTP/1.1 2x0 Broken\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n",
                        "hello", true);
            case "/bad-header":
                return new ParameterizedRoute(OriginRoutes::badHeader);
            case "/cl-and-te":
                return new RawRoute("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"
                        + "Transfer-Encoding: chunked\r\n", "5\r\nhello\r\n0\r\n\r\n", false);
            case "/trailers":
                return new RawRoute("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n",
                        "5\r\nhello\r\n0\r\nX-Checksum: 5d41402a\r\n\r\n", false);
            case "/early-hints":
                return new RawRoute("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
                        + "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n", "hinted", false);
            case "/too-many-bytes":
                return new RawRoute("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n",
                        "hello" + TOO_MANY_BYTES_EXTRA, false);
            default:
                break;
        }
        if (path.startsWith("/bytes/")) {
            return patternRoute(path, "/bytes/", false);
        }
        if (path.startsWith("/chunked/")) {
            return patternRoute(path, "/chunked/", true);
        }
        if (path.startsWith("/status/")) {
            String code = path.substring("/status/".length());
            try {
                int status = Integer.parseInt(code);
                if (status >= 200 && status <= 599) {
                    return new StatusRoute(status);
                }
            } catch (NumberFormatException ignored) {
                // answered below
            }
            return new BadRequestRoute("status: " + code + " (expected: 200..599)");
        }
        return fallbackHandler != null ? new HandlerRoute(fallbackHandler) : RootRoute.INSTANCE;
    }

    private static Route patternRoute(String path, String prefix, boolean chunked) {
        String length = path.substring(prefix.length());
        try {
            long n = Long.parseLong(length);
            if (n >= 0) {
                return new PatternRoute(n, chunked);
            }
        } catch (NumberFormatException ignored) {
            // answered below
        }
        return new BadRequestRoute("length: " + length + " (expected: a non-negative byte count)");
    }

    /** What {@code /too-many-bytes} sends after the 5 bytes it announced: no line break, so nothing ends it. */
    static final String TOO_MANY_BYTES_EXTRA = "0123456789";

    /** The malformed header lines {@code /bad-header?kind=} can send. */
    static final Map<String, String> BAD_HEADER_LINES = Map.of(
            "no-colon", "NoColonInThisLine",
            "no-colon-spaces", "This header line has no colon",
            "space-in-name", "X-Bad Name: value",
            "space-before-colon", "X-Bad-Name : value",
            "control-char", "X-Bad\u0001Name: value",
            "obs-fold", "X-Folded: first\r\n  continued");

    /** {@code /bad-header?kind=}: a 200 whose head has one malformed line, a 5-byte body, then close. */
    private static void badHeader(Exchange exchange) {
        String kind = exchange.stringParameter("kind", "no-colon");
        String line = BAD_HEADER_LINES.get(kind);
        if (line == null) {
            throw new IllegalArgumentException("kind: " + kind + " (expected: one of "
                    + new java.util.TreeSet<>(BAD_HEADER_LINES.keySet()) + ")");
        }
        new RawRoute("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n" + line + "\r\n",
                "hello", true).onRequestComplete(exchange);
    }

    /** {@code /slow-headers?delay=ms&interval=ms}: see {@link TestOrigin}. */
    private static void slowHeaders(Exchange exchange) {
        long delay = exchange.longParameter("delay", 200, 0);
        long interval = exchange.longParameter("interval", -1, 0);
        byte[] body = utf8("slow headers\n");
        if (interval < 0) {
            exchange.schedule(delay, () -> exchange.respond(HttpResponseStatus.OK, TEXT, body));
            return;
        }
        // The head goes out one line at a time, raw, so the client sees it arrive in pieces.
        java.util.List<String> pieces = new java.util.ArrayList<>();
        pieces.add("HTTP/1.1 200 OK\r\n");
        pieces.add("Content-Type: " + TEXT + "\r\n");
        pieces.add("Content-Length: " + body.length + "\r\n");
        pieces.add("X-Origin: " + exchange.originName() + "\r\n");
        pieces.add("X-Origin-Connection: " + exchange.connectionId() + "\r\n");
        if (exchange.closesConnection()) {
            pieces.add("Connection: close\r\n");
        }
        pieces.add("\r\nslow headers\n");
        exchange.schedule(delay, () -> writePieces(exchange, pieces, 0, interval));
    }

    private static void writePieces(Exchange exchange, java.util.List<String> pieces, int index, long interval) {
        io.netty.channel.ChannelFuture write = exchange.writeRaw(pieces.get(index));
        if (index == pieces.size() - 1) {
            exchange.completeRaw(write, exchange.closesConnection());
            return;
        }
        exchange.schedule(interval, () -> writePieces(exchange, pieces, index + 1, interval));
    }

    /** {@code /drip-body?bytes=N&interval=ms}: the head at once, then one pattern byte per interval. */
    private static void dripBody(Exchange exchange) {
        long bytes = exchange.longParameter("bytes", 10, 0);
        long interval = exchange.longParameter("interval", 100, 0);
        HttpResponse head = Exchange.head(HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, OCTETS);
        HttpUtil.setContentLength(head, bytes);
        exchange.sendHead(head);
        exchange.ctx().flush();
        dripByte(exchange, 0, bytes, interval);
    }

    private static void dripByte(Exchange exchange, long offset, long length, long interval) {
        if (offset == length) {
            exchange.finish();
            return;
        }
        exchange.schedule(interval, () -> {
            exchange.sendContent(BytePattern.chunk(exchange.ctx().alloc(), offset, 1));
            dripByte(exchange, offset + 1, length, interval);
        });
    }

    /** {@code /stall-body?after=N&length=L}: promises L bytes, sends N, then nothing, ever. */
    private static void stallBody(Exchange exchange) {
        long after = exchange.longParameter("after", 100, 0);
        long length = exchange.longParameter("length", after + 100, after + 1);
        HttpResponse head = Exchange.head(HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, OCTETS);
        HttpUtil.setContentLength(head, length);
        exchange.sendHead(head);
        if (after > 0) {
            exchange.sendContent(BytePattern.chunk(exchange.ctx().alloc(), 0, (int) after));
        } else {
            exchange.ctx().flush();
        }
        exchange.stall();
    }

    /**
     * {@code /reset-mid-body?after=N&length=L&delay=ms}: promises L bytes, sends N, and once they are
     * written waits {@code delay} (default 50 ms, so the client has read them) and resets the connection.
     */
    private static void resetMidBody(Exchange exchange) {
        long after = exchange.longParameter("after", 100, 0);
        long length = exchange.longParameter("length", after + 100, after + 1);
        long delay = exchange.longParameter("delay", 50, 0);
        HttpResponse head = Exchange.head(HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, OCTETS);
        HttpUtil.setContentLength(head, length);
        io.netty.channel.ChannelFuture written = exchange.sendHead(head);
        if (after > 0) {
            written = exchange.ctx().write(new io.netty.handler.codec.http.DefaultHttpContent(
                    BytePattern.chunk(exchange.ctx().alloc(), 0, (int) after)));
        }
        exchange.ctx().flush();
        written.addListener(f -> exchange.schedule(delay, exchange::reset));
    }

    /** {@code /close-on-next?reset=1}: answers 200 and arms the connection to drop the next request. */
    private static void closeOnNext(Exchange exchange) {
        exchange.closeConnectionOnNextRequest(exchange.flagParameter("reset"));
        exchange.respond(HttpResponseStatus.OK, TEXT, utf8("the next request on this connection closes it\n"));
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** {@code GET /} and every unknown path: {@code origin <name>\n}. */
    private enum RootRoute implements Route {
        INSTANCE;

        @Override
        public void onRequestComplete(Exchange exchange) {
            exchange.respond(HttpResponseStatus.OK, TEXT, utf8("origin " + exchange.originName() + '\n'));
        }
    }

    /** {@code /small}, {@code /64k}, {@code /bytes/{n}}, {@code /chunked/{n}}: generated pattern bytes. */
    private static final class PatternRoute implements Route {
        private final long length;
        private final boolean chunked;

        PatternRoute(long length, boolean chunked) {
            this.length = length;
            this.chunked = chunked;
        }

        @Override
        public void onRequestComplete(Exchange exchange) {
            HttpResponse head = Exchange.head(HttpResponseStatus.OK);
            head.headers().set(HttpHeaderNames.CONTENT_TYPE, OCTETS);
            if (chunked) {
                HttpUtil.setTransferEncodingChunked(head, true);
            } else {
                HttpUtil.setContentLength(head, length);
            }
            exchange.streamPattern(head, length);
        }
    }

    /**
     * {@code /echo}: streams the request body back as it arrives, with the request's
     * {@code Content-Length} when it had one, else chunked. The head goes out with the first body bytes
     * (or at the end for an empty body) so that a client waiting on {@code 100 Continue} is not answered
     * with a final status before it has sent anything.
     */
    private enum EchoRoute implements Route {
        INSTANCE;

        @Override
        public void onRequestBody(Exchange exchange, ByteBuf content) {
            startIfNeeded(exchange);
            exchange.sendContent(content.retain());
        }

        @Override
        public void onRequestComplete(Exchange exchange) {
            startIfNeeded(exchange);
            exchange.finish();
        }

        private static void startIfNeeded(Exchange exchange) {
            if (exchange.responseStarted()) {
                return;
            }
            HttpRequest request = exchange.request();
            HttpResponse head = Exchange.head(HttpResponseStatus.OK);
            String contentType = request.headers().get(HttpHeaderNames.CONTENT_TYPE);
            head.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType != null ? contentType : OCTETS);
            if (HttpUtil.isContentLengthSet(request)) {
                HttpUtil.setContentLength(head, HttpUtil.getContentLength(request));
            } else {
                HttpUtil.setTransferEncodingChunked(head, true);
            }
            exchange.sendHead(head);
        }
    }

    /** {@code /sink}: consumes the body, answers {@code {"bytes":N,"sha256":"hex"}}. */
    private enum SinkRoute implements Route {
        INSTANCE;

        @Override
        public void onRequestComplete(Exchange exchange) {
            RecordedRequest r = exchange.recorded();
            String json = "{\"bytes\":" + r.bodyBytes() + ",\"sha256\":\"" + r.bodySha256() + "\"}";
            exchange.respond(HttpResponseStatus.OK, HttpHeaderValues.APPLICATION_JSON, utf8(json));
        }
    }

    /** {@code /headers}: the request's header fields as {@code Name: value} lines, in order. */
    private enum HeadersRoute implements Route {
        INSTANCE;

        @Override
        public void onRequestComplete(Exchange exchange) {
            StringBuilder text = new StringBuilder();
            for (RecordedRequest.Header header : exchange.recorded().headers()) {
                text.append(header.name()).append(": ").append(header.value()).append('\n');
            }
            exchange.respond(HttpResponseStatus.OK, TEXT, utf8(text.toString()));
        }
    }

    /** {@code /status/{code}}: that status and a short body (none where HTTP forbids one). */
    private static final class StatusRoute implements Route {
        private final int status;

        StatusRoute(int status) {
            this.status = status;
        }

        @Override
        public void onRequestComplete(Exchange exchange) {
            exchange.respond(HttpResponseStatus.valueOf(status), TEXT, utf8("status " + status + '\n'));
        }
    }

    /** {@code /close-after-headers}: promises 100 bytes, then closes without sending any. */
    private enum CloseAfterHeadersRoute implements Route {
        INSTANCE;

        @Override
        public void onRequestComplete(Exchange exchange) {
            HttpResponse head = Exchange.head(HttpResponseStatus.OK);
            head.headers().set(HttpHeaderNames.CONTENT_TYPE, OCTETS);
            HttpUtil.setContentLength(head, 100);
            exchange.closeAfter(exchange.sendHead(head));
        }
    }

    /** {@code /hang}: reads the whole request, then never answers. */
    private enum HangRoute implements Route {
        INSTANCE;

        @Override
        public void onRequestComplete(Exchange exchange) {
            exchange.stall();
        }
    }

    /** {@code /reset-before-response}: reads the whole request, then resets the connection. */
    private enum ResetBeforeResponseRoute implements Route {
        INSTANCE;

        @Override
        public void onRequestComplete(Exchange exchange) {
            exchange.reset();
        }
    }

    /**
     * A route that reads query parameters when the request is complete; a bad parameter is answered 400
     * instead of misbehaving.
     */
    private static final class ParameterizedRoute implements Route {
        private final java.util.function.Consumer<Exchange> action;

        ParameterizedRoute(java.util.function.Consumer<Exchange> action) {
            this.action = action;
        }

        @Override
        public void onRequestComplete(Exchange exchange) {
            try {
                action.accept(exchange);
            } catch (IllegalArgumentException e) {
                if (!exchange.responseStarted()) {
                    exchange.respond(HttpResponseStatus.BAD_REQUEST, TEXT, utf8(e.getMessage() + '\n'));
                }
            }
        }
    }

    /**
     * A response written byte for byte, bypassing the encoder: {@code head} (status line and fields, each
     * ending in CRLF), the origin's own fields, an empty line, then {@code body}; then the connection closes
     * when {@code close} (or when the request asked for it), otherwise it serves the next request.
     */
    private static final class RawRoute implements Route {
        private final String head;
        private final String body;
        private final boolean close;

        RawRoute(String head, String body, boolean close) {
            this.head = head;
            this.body = body;
            this.close = close;
        }

        @Override
        public void onRequestComplete(Exchange exchange) {
            boolean closing = close || exchange.closesConnection();
            String text = head + "X-Origin: " + exchange.originName() + "\r\nX-Origin-Connection: "
                    + exchange.connectionId() + "\r\n" + (closing ? "Connection: close\r\n" : "") + "\r\n" + body;
            exchange.completeRaw(exchange.writeRaw(text), closing);
        }
    }

    /** A request the origin cannot serve as asked, such as {@code /bytes/abc}. */
    private static final class BadRequestRoute implements Route {
        private final String message;

        BadRequestRoute(String message) {
            this.message = message;
        }

        @Override
        public void onRequestComplete(Exchange exchange) {
            exchange.respond(HttpResponseStatus.BAD_REQUEST, TEXT, utf8(message + '\n'));
        }
    }

    /** A test's {@link RequestHandler}. */
    private static final class HandlerRoute implements Route {
        private final RequestHandler handler;

        HandlerRoute(RequestHandler handler) {
            this.handler = handler;
        }

        @Override
        public void onRequestComplete(Exchange exchange) {
            SimpleResponseWriter response = new SimpleResponseWriter();
            try {
                handler.handle(exchange.recorded(), response);
            } catch (Exception | AssertionError e) {
                exchange.originHandlerFailed(e);
                exchange.respond(HttpResponseStatus.INTERNAL_SERVER_ERROR, TEXT,
                        utf8("handler for " + exchange.path() + " failed: " + e + '\n'));
                return;
            }
            exchange.respond(HttpResponseStatus.valueOf(response.status), response.headers, response.body);
        }
    }

    private static final class SimpleResponseWriter implements ResponseWriter {
        private static final byte[] EMPTY = new byte[0];
        int status = 200;
        final HttpHeaders headers = new DefaultHttpHeaders();
        byte[] body = EMPTY;

        @Override
        public ResponseWriter status(int code) {
            if (code < 200 || code > 599) {
                throw new IllegalArgumentException("code: " + code + " (expected: 200..599)");
            }
            status = code;
            return this;
        }

        @Override
        public ResponseWriter header(String name, String value) {
            headers.add(requireNonNull(name, "name"), requireNonNull(value, "value"));
            return this;
        }

        @Override
        public ResponseWriter body(byte[] body) {
            this.body = requireNonNull(body, "body").clone();
            return this;
        }

        @Override
        public ResponseWriter body(String body) {
            this.body = utf8(requireNonNull(body, "body"));
            return this;
        }
    }

    /** The decoded path of a request target, without the query; handles absolute-form targets. */
    static String pathOf(String uri) {
        String target = uri;
        if (uri.startsWith("http://") || uri.startsWith("https://")) {
            try {
                String raw = new URI(uri).getRawPath();
                target = raw == null || raw.isEmpty() ? "/" : raw;
            } catch (URISyntaxException e) {
                return uri;
            }
        }
        try {
            String path = new QueryStringDecoder(target).path();
            return path.isEmpty() ? "/" : path;
        } catch (IllegalArgumentException e) {
            return target;
        }
    }
}
