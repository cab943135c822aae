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

import java.nio.charset.StandardCharsets;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/** The default routes of a {@link TestOrigin} (documented there) and the route for custom handlers. */
final class OriginRoutes {
    static final String TEXT = "text/plain; charset=utf-8";
    static final String OCTETS = "application/octet-stream";

    private OriginRoutes() {
    }

    /** The route for {@code path}: a custom handler first, then a default route, else the root route. */
    static Route resolve(String path, Map<String, RequestHandler> handlers) {
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
        return RootRoute.INSTANCE;
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
}
