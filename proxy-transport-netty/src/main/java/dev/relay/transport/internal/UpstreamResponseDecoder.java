package dev.relay.transport.internal;

import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.util.AsciiString;

/**
 * Netty's response decoder, made to fit a proxy that sends one request at a time:
 * <ul>
 *   <li>it knows whether the request in flight was HEAD (so the response has no body), which is what
 *       {@code HttpClientCodec} tracks with a queue;</li>
 *   <li>it rejects header lines that are not {@code name OWS ":" value}: the stock decoder cuts a name
 *       at the first space, turning {@code "X-Bad Name: v"} into {@code "X-Bad: v"}, which a proxy must
 *       not forward;</li>
 *   <li>it tells how many bytes it holds that no message accounts for, so a connection whose
 *       upstream sent more than it announced is never pooled.</li>
 * </ul>
 */
final class UpstreamResponseDecoder extends HttpResponseDecoder {
    private boolean headRequest;

    UpstreamResponseDecoder(HttpDecoderConfig config) {
        super(config);
    }

    /** Called before each request is written. */
    void expectResponseTo(boolean head) {
        this.headRequest = head;
    }

    /** Whether the response being decoded answers a HEAD request (and so has no body). */
    boolean isHeadResponse() {
        return headRequest;
    }

    /** Bytes received but not yet part of any decoded message. */
    int bufferedBytes() {
        return actualReadableBytes();
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpMessage msg) {
        // A 101 has no body whatever it says (the stock decoder reads one for an old WebSocket
        // draft's 101 without Sec-WebSocket-Accept): what follows it belongs to the new protocol.
        return headRequest || msg instanceof io.netty.handler.codec.http.HttpResponse r && r.status().code() == 101
                || super.isContentAlwaysEmpty(msg);
    }

    @Override
    protected AsciiString splitHeaderName(byte[] line, int start, int length) {
        // The decoder stops a response header name at the first space or tab (to repair "Name : v");
        // after that optional whitespace only the colon may follow.
        int i = start + length;
        while (i < line.length && (line[i] == ' ' || line[i] == '\t')) {
            i++;
        }
        if (i < line.length && line[i] != ':') {
            throw new IllegalArgumentException("invalid response header line: a field name may not contain "
                    + "whitespace: '" + new String(line, start, Math.min(line.length - start, 64),
                    java.nio.charset.StandardCharsets.ISO_8859_1).strip() + "'");
        }
        return super.splitHeaderName(line, start, length);
    }
}
