package dev.relay.transport.internal;

import dev.relay.transport.ProxyOptions;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import org.jspecify.annotations.Nullable;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static dev.relay.transport.internal.Http1Bytes.SP;
import static dev.relay.transport.internal.Http1Bytes.TOKEN;
import static dev.relay.transport.internal.Http1Bytes.equalsIgnoreCase;
import static dev.relay.transport.internal.Http1Bytes.quote;

/**
 * The HTTP/1.1 request decoder of a client connection, in place of Netty's {@code HttpRequestDecoder}:
 * emits {@link DecodedHttpRequest}s (with their {@link Http1Framing}), body parts and a last part per
 * request, pipelined requests one after another, and a request whose head is malformed with a failed
 * decoder result (a {@link io.netty.handler.codec.http.TooLongHttpLineException} for a request line
 * over the limit, a {@link io.netty.handler.codec.http.TooLongHttpHeaderException} for fields over
 * it), after which it discards what the client sends. Removed from the pipeline, it hands the bytes
 * it has not decoded on as they are (a connection held for a tunnel).
 *
 * <p>The request line is {@code method SP request-target SP HTTP-version} with single spaces, a token
 * for the method, no control character, space or DEL in the target, and the version {@code HTTP/1.0}
 * or {@code HTTP/1.1} (any other {@code HTTP/x.y} fails with status 505). The target is in origin form,
 * {@code *}, authority form (CONNECT) or {@code http(s)://} absolute form, which becomes origin form
 * with its authority as the one {@code Host} (RFC 9112 §3.2.2). {@code Host} is required on HTTP/1.1,
 * at most once, and a valid authority (RFC 9112 §3.2, {@link HostSyntax}). Fields are limited one by one
 * and in number (431), and names with {@code _} follow {@link dev.relay.transport.UnderscoresInHeaders}.
 * See {@link Http1MessageDecoder} for the rest.
 */
public final class Http1RequestDecoder extends Http1MessageDecoder {
    /** Per byte: whether it may stand in a request target (VCHAR and obs-text: no CTL, SP or DEL). */
    private static final boolean[] TARGET = new boolean[256];

    static {
        for (int c = 0x21; c < 0x7f; c++) {
            TARGET[c] = true;
        }
        for (int c = 0x80; c < 0x100; c++) {
            TARGET[c] = true;
        }
    }

    private @Nullable HttpMethod method;
    private @Nullable String uri;
    private @Nullable HttpVersion version;
    /** The authority of an absolute-form target, in the block of the request line, or {@code targetAuthorityStart} -1. */
    private byte @Nullable [] targetBlock;
    private int targetAuthorityStart = -1;
    private int targetAuthorityEnd;

    /**
     * A decoder with these limits: {@code maxRequestLineBytes} for the request line (and a chunk-size
     * line), {@code maxHeaderBytes} for the header fields (and the trailer fields), and body parts of at
     * most {@code maxChunkBytes}.
     */
    public Http1RequestDecoder(int maxRequestLineBytes, int maxHeaderBytes, int maxChunkBytes) {
        super(maxRequestLineBytes, maxHeaderBytes, maxChunkBytes);
    }

    /**
     * A decoder with the request limits and the underscore policy of {@code options}, and body parts of
     * at most {@code maxChunkBytes}: the request line, the header section, each field line (431 beyond
     * {@link ProxyOptions#maxFieldBytes()}) and the number of fields (431 beyond {@link ProxyOptions#maxFields()}).
     */
    public Http1RequestDecoder(ProxyOptions options, int maxChunkBytes) {
        super(options.maxRequestLineBytes(), options.maxHeaderBytes(), maxChunkBytes, options.maxFieldBytes(),
                options.maxFields(), options.underscoresInHeaders());
    }

    @Override
    void parseStartLine(byte[] a, int end) {
        int i = 0;
        while (TOKEN[a[i] & 0xff] != 0) {
            i++;
        }
        if (i == 0 || i == end || a[i] != SP) {
            throw new Http1ParseException("invalid method in the request line: " + quote(a, 0, end));
        }
        int targetStart = ++i;
        while (i < end && TARGET[a[i] & 0xff]) {
            i++;
        }
        if (i == targetStart || i == end || a[i] != SP) {
            throw new Http1ParseException("invalid request target in the request line: " + quote(a, 0, end));
        }
        HttpMethod parsedMethod = method(a, targetStart - 1);
        // The line's shape is sound: a request refused from here on (505, 400) is named in the logs.
        method = parsedMethod;
        uri = new String(a, targetStart, i - targetStart, StandardCharsets.ISO_8859_1);
        HttpVersion parsedVersion = version(a, i + 1, end);
        int authorityStart = a[targetStart] == '/' || parsedMethod == HttpMethod.CONNECT ? -1
                : absoluteFormAuthority(a, targetStart, i);
        if (i - targetStart == 1 && a[targetStart] == '*' && parsedMethod != HttpMethod.OPTIONS) {
            // RFC 9112 §3.2.4: the asterisk form is only for a server-wide OPTIONS.
            throw new Http1ParseException("the asterisk form with a method other than OPTIONS: " + quote(a, 0, end));
        }
        if (authorityStart >= 0) {
            int authorityEnd = authorityStart;
            while (authorityEnd < i && a[authorityEnd] != '/' && a[authorityEnd] != '?') {
                authorityEnd++;
            }
            if (!HostSyntax.isValidAuthority(a, authorityStart, authorityEnd)) {
                throw new Http1ParseException("invalid authority in the request target: " + quote(a, 0, end));
            }
            // RFC 9112 §3.2.2: the target's authority is the host; the origin gets the origin form.
            String path = new String(a, authorityEnd, i - authorityEnd, StandardCharsets.ISO_8859_1);
            if (path.isEmpty() && parsedMethod == HttpMethod.OPTIONS) {
                // RFC 9112 §3.2.4: OPTIONS for a whole server, as the last proxy sends it: "*".
                uri = "*";
            } else {
                uri = path.isEmpty() || path.charAt(0) == '?' ? "/" + path : path;
            }
            targetBlock = a;
            targetAuthorityEnd = authorityEnd;
        }
        targetAuthorityStart = authorityStart;
        version = parsedVersion;
    }

    private static final AsciiString HOST = AsciiString.cached("Host");
    /** The method of a request whose request line could not be read. */
    private static final HttpMethod UNREADABLE = new HttpMethod("-");
    private static final String[] ABSOLUTE_FORM_SCHEMES = {"http://", "https://"};

    /**
     * Where the authority of the absolute-form target {@code a[start, end)} begins; -1 for the asterisk
     * form ({@code OPTIONS *}).
     *
     * @throws Http1ParseException when the target is in none of the forms of RFC 9112 §3.2 a proxy
     *         serves: origin form (handled by the caller), {@code http://} or {@code https://} absolute
     *         form, {@code *}
     */
    private static int absoluteFormAuthority(byte[] a, int start, int end) {
        if (end - start == 1 && a[start] == '*') {
            return -1;
        }
        for (String scheme : ABSOLUTE_FORM_SCHEMES) {
            if (end - start >= scheme.length() && equalsIgnoreCase(a, start, start + scheme.length(), scheme)) {
                return start + scheme.length();
            }
        }
        throw new Http1ParseException("a request target in no form of RFC 9112 §3.2: " + quote(a, start, end - start));
    }

    private static HttpVersion version(byte[] a, int start, int end) {
        if (end - start == 8 && a[start] == 'H' && a[start + 1] == 'T' && a[start + 2] == 'T' && a[start + 3] == 'P'
                && a[start + 4] == '/' && a[start + 6] == '.' && isDigit(a[start + 5]) && isDigit(a[start + 7])) {
            if (a[start + 5] == '1' && a[start + 7] == '1') {
                return HttpVersion.HTTP_1_1;
            }
            if (a[start + 5] == '1' && a[start + 7] == '0') {
                return HttpVersion.HTTP_1_0;
            }
            throw new Http1ParseException(505, "HTTP version not supported: " + quote(a, start, end - start));
        }
        throw new Http1ParseException("invalid HTTP version in the request line: " + quote(a, start, end - start));
    }

    private static boolean isDigit(byte b) {
        return b >= '0' && b <= '9';
    }

    /** The method {@code a[0, length)}: Netty's constant for the common ones, without a String. */
    private static HttpMethod method(byte[] a, int length) {
        switch (length) {
            case 3 -> {
                if (a[0] == 'G' && a[1] == 'E' && a[2] == 'T') {
                    return HttpMethod.GET;
                }
                if (a[0] == 'P' && a[1] == 'U' && a[2] == 'T') {
                    return HttpMethod.PUT;
                }
            }
            case 4 -> {
                if (a[0] == 'P' && a[1] == 'O' && a[2] == 'S' && a[3] == 'T') {
                    return HttpMethod.POST;
                }
                if (a[0] == 'H' && a[1] == 'E' && a[2] == 'A' && a[3] == 'D') {
                    return HttpMethod.HEAD;
                }
            }
            default -> {
                // The rarer ones below.
            }
        }
        return HttpMethod.valueOf(new String(a, 0, length, StandardCharsets.ISO_8859_1));
    }

    @Override
    void emitHead(CompactHttpHeaders headers, List<Object> out) {
        HttpVersion v = version;
        boolean http11 = v == HttpVersion.HTTP_1_1;
        if (hosts > 1) {
            throw new Http1ParseException("more than one Host");
        }
        if (hosts == 0 && http11) {
            throw new Http1ParseException("an HTTP/1.1 request without Host");
        }
        if (hosts == 1 && !HostSyntax.isValidAuthority(hostBlock, hostStart, hostEnd)) {
            throw new Http1ParseException("invalid Host: " + quote(hostBlock, hostStart, hostEnd - hostStart));
        }
        if (targetAuthorityStart >= 0) {
            // The target wins over Host (RFC 9112 §3.2.2): one Host, the target's, goes on.
            headers.set(HOST, new AsciiString(targetBlock, targetAuthorityStart,
                    targetAuthorityEnd - targetAuthorityStart, false));
        }
        checkTransferEncoding(!http11);
        boolean keepAlive = !connectionClose && (http11 || connectionKeepAlive);
        Http1Framing framing = Http1Framing.of(contentLength, transferEncoding, keepAlive, http11 && expectContinue);
        out.add(new DecodedHttpRequest(v, method, uri, headers, framing));
        // The request has them now: an idle keep-alive connection would otherwise keep the last
        // target (a String and the header block it was cut from) until its next request.
        uri = null;
        targetBlock = null;
        // A request without Content-Length or Transfer-Encoding has no body (RFC 9112 §6.3).
        if (!expectBody(false)) {
            out.add(LastHttpContent.EMPTY_LAST_CONTENT);
        }
    }

    /**
     * The stand-in for a request that could not be decoded: its method and target when the request
     * line had them, else {@code -} for both (nothing of it can be trusted: a TLS handshake on a plain
     * port, a scanner's garbage), as the access and error logs then show it.
     */
    @Override
    HttpMessage invalidHead() {
        return new DecodedHttpRequest(version == null ? HttpVersion.HTTP_1_0 : version,
                method == null ? UNREADABLE : method, method == null ? "-" : uri,
                DefaultHttpHeadersFactory.headersFactory().newHeaders(), Http1Framing.REJECTED);
    }

    @Override
    void messageDone() {
        state = State.HEAD;
    }

    @Override
    void forgetStartLine() {
        method = null;
        uri = null;
        version = null;
        targetBlock = null;
        targetAuthorityStart = -1;
    }
}
