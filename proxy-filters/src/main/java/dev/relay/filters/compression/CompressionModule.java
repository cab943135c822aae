package dev.relay.filters.compression;

import dev.relay.core.BodyChunk;
import dev.relay.core.ErrorSource;
import dev.relay.core.ErrorType;
import dev.relay.core.HttpHeaders;
import dev.relay.core.HttpModule;
import dev.relay.core.ProxyError;
import dev.relay.core.ResponseHeader;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import dev.relay.core.cache.CacheControl;
import dev.relay.filters.internal.VaryField;
import org.jspecify.annotations.Nullable;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * One request's compression: what the client accepts (read before the proxy's own filters can change
 * the request), the response codec chosen from the response header, and the request body's decoder.
 * Every codec is closed at the end of its body, when decoding fails, and in {@link #responseDone}
 * (which runs for every request, also when the client left mid-body), so native memory never waits for
 * the garbage collector.
 */
final class CompressionModule implements HttpModule {
    /**
     * The most one response body part may decode to. An origin's part is at most tens of KiB, so only a
     * ratio past several hundred (a bomb, or a broken origin) gets here; the response then fails rather
     * than the proxy holding it.
     */
    static final long RESPONSE_PART_LIMIT = 16L * 1024 * 1024;
    /** A request body may decode to this much whatever its ratio (small bodies have extreme ratios). */
    static final long RATIO_GRACE = 64 * 1024;

    private final CompressionFilter.Settings settings;
    private List<String> acceptEncoding = List.of();
    /** The requester's validators: what its stored copy carries, for the ETag of a 304. */
    private List<String> ifNoneMatch = List.of();
    private @Nullable AcceptEncoding accept;
    private boolean head;
    private boolean connect;
    private boolean responseDecided;
    private @Nullable BodyCodec responseCodec;
    private boolean responseDecoding;
    private @Nullable ContentCoding requestCoding;
    private @Nullable BodyCodec requestCodec;
    private long requestEncoded;
    private long requestDecoded;

    CompressionModule(CompressionFilter.Settings settings) {
        this.settings = settings;
    }

    // ---------------------------------------------------------------------------------------------
    // Request

    @Override
    public CompletionStage<Void> requestHeaderFilter(Session session) {
        String method = session.requestHeader().method();
        head = method.equalsIgnoreCase("HEAD");
        connect = method.equalsIgnoreCase("CONNECT");
        HttpHeaders headers = session.requestHeader().headers();
        acceptEncoding = headers.getAll("accept-encoding");
        ifNoneMatch = headers.getAll("if-none-match");
        if (settings.requestDecompress()) {
            prepareRequestDecoding(headers);
        }
        return Stages.done();
    }

    private void prepareRequestDecoding(HttpHeaders headers) {
        List<String> encodings = headers.getAll("content-encoding");
        if (encodings.size() != 1 || !hasBody(headers)) {
            return;
        }
        ContentCoding coding = ContentCoding.fromToken(encodings.get(0));
        if (coding == null || coding == ContentCoding.BR && !BrotliCodecs.available()) {
            // An unknown coding, or several ("gzip, br"): the origin gets the body as it came.
            return;
        }
        requestCoding = coding;
        headers.remove("content-encoding");
        // The decoded length is unknown until the end: the body goes on chunked (HTTP/1.1) or in DATA
        // frames (HTTP/2), as a body of unannounced length from an HTTP/2 client does.
        headers.remove("content-length");
        headers.set("Transfer-Encoding", "chunked");
    }

    private static boolean hasBody(HttpHeaders headers) {
        String length = headers.get("content-length");
        return length != null ? !length.trim().equals("0") : headers.contains("transfer-encoding");
    }

    @Override
    public void requestBodyFilter(Session session, BodyChunk body, boolean endOfStream) {
        ContentCoding coding = requestCoding;
        if (coding == null) {
            return;
        }
        // One decoder for the whole request, whatever the attempt: on a retry the engine sends the bytes
        // already sent (this module's output, kept in its replay buffer) upstream again by itself, and only
        // the parts not yet sent come through here, so the decoder carries on where it was.
        BodyCodec codec = requestCodec;
        if (codec == null) {
            codec = newCodec(coding, false);
            requestCodec = codec;
        }
        if (body.isEmpty() && !endOfStream) {
            return;
        }
        requestEncoded += body.length();
        long ratioCap = Math.max(RATIO_GRACE, saturatedMultiply(settings.maxRatio(), requestEncoded));
        long cap = Math.min(settings.maxRequestSize(), ratioCap);
        CodecOutput output = CodecOutput.borrow(cap - requestDecoded);
        try {
            codec.transform(body.asReadOnlyByteBuffer(), endOfStream, output);
            requestDecoded += output.length();
            replace(body, output);
        } catch (CodecOutput.LimitExceededException e) {
            closeRequestCodec();
            String why = cap == settings.maxRequestSize()
                    ? "decodes to more than max-request-size (" + settings.maxRequestSize() + " bytes)"
                    : "decodes to more than max-ratio (" + settings.maxRatio() + ") times its encoded size";
            throw ProxyError.httpStatus(413, ErrorSource.DOWNSTREAM).setContext("compression: the " + coding
                    + " request body " + why);
        } catch (IOException e) {
            closeRequestCodec();
            throw ProxyError.httpStatus(400, ErrorSource.DOWNSTREAM).setContext("compression: the " + coding
                    + " request body is not valid " + coding + ": " + e.getMessage());
        } finally {
            output.release();
        }
        if (endOfStream) {
            closeRequestCodec();
        }
    }

    private static long saturatedMultiply(long a, long b) {
        long high = Math.multiplyHigh(a, b);
        long low = a * b;
        return high != 0 || low < 0 ? Long.MAX_VALUE : low;
    }

    // ---------------------------------------------------------------------------------------------
    // Response

    @Override
    public void responseHeaderFilter(Session session, ResponseHeader response, boolean endOfStream) {
        int status = response.status();
        if (responseDecided || status < 200) {
            // An interim response (100, 103): the decision waits for the final one.
            return;
        }
        responseDecided = true;
        HttpHeaders headers = response.headers();
        if (head || connect || CacheControl.parse(headers).noTransform()) {
            return;
        }
        if (status == 304) {
            considerNotModified(headers);
            return;
        }
        if (endOfStream || status == 204 || status == 206 || headers.contains("content-range")) {
            return;
        }
        List<String> encodings = headers.getAll("content-encoding");
        if (isIdentity(encodings)) {
            considerCompressing(headers);
        } else if (settings.decompress() && encodings.size() == 1) {
            considerDecoding(headers, encodings.get(0));
        }
    }

    private static boolean isIdentity(List<String> encodings) {
        return encodings.isEmpty() || encodings.size() == 1 && encodings.get(0).trim().equalsIgnoreCase("identity");
    }

    private void considerCompressing(HttpHeaders headers) {
        if (settings.encodings().isEmpty() || !settings.types().matches(headers.get("content-type"))
                || belowMinLength(headers)) {
            return;
        }
        addVary(headers);
        ContentCoding coding = chooseCoding();
        if (coding == null) {
            return;
        }
        responseCodec = newCodec(coding, true);
        headers.set("Content-Encoding", coding.token());
        afterRepresentationChange(headers);
    }

    /** The coding to compress into for this client, or null when it accepts none the proxy can make. */
    private @Nullable ContentCoding chooseCoding() {
        return accept().choose(settings.encodings());
    }

    private boolean belowMinLength(HttpHeaders headers) {
        long length = contentLength(headers);
        return length >= 0 && length < settings.minLength();
    }

    private void considerDecoding(HttpHeaders headers, String encoding) {
        ContentCoding coding = ContentCoding.fromToken(encoding);
        if (coding == null) {
            return;
        }
        addVary(headers);
        if (!decodesFor(coding)) {
            return;
        }
        responseCodec = newCodec(coding, false);
        responseDecoding = true;
        headers.remove("content-encoding");
        afterRepresentationChange(headers);
    }

    /** Whether a body in {@code coding} is decoded for this client: it refuses the coding and takes identity. */
    private boolean decodesFor(ContentCoding coding) {
        AcceptEncoding accept = accept();
        return accept.quality(coding) == 0 && accept.acceptsIdentity()
                && (coding != ContentCoding.BR || BrotliCodecs.available());
    }

    /**
     * A 304 carries the {@code Vary} and {@code ETag} its 200 would have had (RFC 9110 §15.4.5), and a
     * cache matches a 304's strong tag only against the same strong tag (RFC 9111 §4.3.4): after the
     * proxy sent the 200 as {@code W/"x"}, a 304 with {@code "x"} would refresh nothing. A 304 usually
     * has no {@code Content-Type}, so whether the 200 was transformed is decided from what is known:
     * the requester's {@code If-None-Match} first (it holds the tag its stored copy carries: {@code W/"x"}
     * says transformed, {@code "x"} untransformed), else the same rules as for a 200 on the fields the
     * 304 has ({@code Content-Encoding}, {@code Content-Type}, {@code Content-Length}) and the client's
     * {@code Accept-Encoding}. Where the type is unknown and the client would get a coding, the tag is
     * weakened: a weak tag still matches a strong stored one under weak comparison, the reverse never.
     */
    private void considerNotModified(HttpHeaders headers) {
        List<String> encodings = headers.getAll("content-encoding");
        boolean typed = headers.contains("content-type");
        // Whether the 200 has Vary whatever this client gets (a compressible type, or a decodable coding).
        boolean varies;
        boolean transformed;
        if (!isIdentity(encodings)) {
            ContentCoding coding = settings.decompress() && encodings.size() == 1
                    ? ContentCoding.fromToken(encodings.get(0)) : null;
            if (coding == null) {
                return;
            }
            varies = true;
            transformed = decodesFor(coding);
        } else {
            if (settings.encodings().isEmpty() || typed && !settings.types().matches(headers.get("content-type"))
                    || belowMinLength(headers)) {
                return;
            }
            varies = typed;
            transformed = chooseCoding() != null;
        }
        String etag = headers.get("etag");
        boolean strong = etag != null && etag.startsWith("\"");
        if (strong) {
            StoredTag stored = storedTag(etag);
            if (stored != StoredTag.UNKNOWN) {
                transformed = stored == StoredTag.WEAK;
            }
        }
        if (varies || transformed) {
            addVary(headers);
        }
        if (strong && transformed) {
            headers.set("ETag", "W/" + etag);
        }
    }

    /** How the requester's {@code If-None-Match} names a tag: the form its stored copy carries. */
    private enum StoredTag { WEAK, STRONG, UNKNOWN }

    /** How {@link #ifNoneMatch} names {@code strongTag} (with its quotes). */
    private StoredTag storedTag(String strongTag) {
        for (String list : ifNoneMatch) {
            // An entity-tag's quoted part holds no '"' (RFC 9110 §8.8.3), so quotes pair up from the start.
            int open = list.indexOf('"');
            while (open >= 0) {
                int close = list.indexOf('"', open + 1);
                if (close < 0) {
                    break;
                }
                if (close + 1 - open == strongTag.length() && list.startsWith(strongTag, open)) {
                    return open >= 2 && list.startsWith("W/", open - 2) ? StoredTag.WEAK : StoredTag.STRONG;
                }
                open = list.indexOf('"', close + 1);
            }
        }
        return StoredTag.UNKNOWN;
    }

    /** The body's bytes change: its length is the proxy's to frame, ranges of it are gone, its ETag is weak. */
    private static void afterRepresentationChange(HttpHeaders headers) {
        headers.remove("content-length");
        headers.remove("accept-ranges");
        String etag = headers.get("etag");
        if (etag != null && etag.startsWith("\"")) {
            // RFC 9110 §8.8.3: a strong validator promises identical bytes, which these no longer are.
            headers.set("ETag", "W/" + etag);
        }
    }

    @Override
    public void responseBodyFilter(Session session, BodyChunk body, boolean endOfStream) {
        BodyCodec codec = responseCodec;
        if (codec == null || body.isEmpty() && !endOfStream) {
            return;
        }
        CodecOutput output = CodecOutput.borrow(responseDecoding ? RESPONSE_PART_LIMIT : Long.MAX_VALUE);
        try {
            codec.transform(body.asReadOnlyByteBuffer(), endOfStream, output);
            replace(body, output);
        } catch (IOException e) {
            closeResponseCodec();
            throw ProxyError.upstream(ErrorType.READ_ERROR, "compression: "
                    + (responseDecoding ? "decoding the origin's response: " : "compressing the response: ")
                    + e.getMessage(), e);
        } finally {
            output.release();
        }
        if (endOfStream) {
            closeResponseCodec();
        }
    }

    @Override
    public void responseDone(Session session) {
        closeResponseCodec();
        closeRequestCodec();
    }

    // ---------------------------------------------------------------------------------------------

    private AcceptEncoding accept() {
        AcceptEncoding parsed = accept;
        if (parsed == null) {
            parsed = AcceptEncoding.parse(acceptEncoding);
            accept = parsed;
        }
        return parsed;
    }

    private BodyCodec newCodec(ContentCoding coding, boolean encoder) {
        try {
            return encoder ? Codecs.encoder(coding, settings.level(coding)) : Codecs.decoder(coding);
        } catch (IOException e) {
            throw ProxyError.internal("compression: cannot create a " + coding + (encoder ? " encoder" : " decoder"), e);
        }
    }

    private static void replace(BodyChunk body, CodecOutput output) {
        if (output.length() == 0) {
            body.clear();
        } else {
            body.replace(output.written());
        }
    }

    private void closeResponseCodec() {
        BodyCodec codec = responseCodec;
        if (codec != null) {
            responseCodec = null;
            codec.close();
        }
    }

    private void closeRequestCodec() {
        BodyCodec codec = requestCodec;
        if (codec != null) {
            requestCodec = null;
            codec.close();
        }
    }

    /** The {@code Content-Length}, or -1 when absent or not one number. */
    private static long contentLength(HttpHeaders headers) {
        String value = headers.get("content-length");
        if (value == null) {
            return -1;
        }
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Adds {@code Accept-Encoding} to {@code Vary} unless it, or {@code *}, is there. */
    private static void addVary(HttpHeaders headers) {
        VaryField.addIfMissing(headers, "Accept-Encoding");
    }

    @Override
    public String toString() {
        return "CompressionModule{" + (responseCodec == null ? "idle" : responseDecoding ? "decoding" : "encoding")
                + (requestCoding == null ? "" : ", request " + requestCoding) + '}';
    }
}
