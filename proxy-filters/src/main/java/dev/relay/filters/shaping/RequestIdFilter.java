package dev.relay.filters.shaping;

import dev.relay.core.FilterSettings.InvalidSettingException;
import dev.relay.core.HttpModule;
import dev.relay.core.RequestHeader;
import dev.relay.core.RequestIdModuleFactory;
import dev.relay.core.ResponseHeader;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import dev.relay.filters.internal.HttpSyntax;
import org.jspecify.annotations.Nullable;

import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;

import static java.util.Objects.requireNonNull;

/**
 * The {@code request-id} filter: every request gets an id in a header field ({@code X-Request-ID} by
 * default), which the origin receives, the client gets back on the response, and the server's access
 * log prints ({@code request_id=}, nginx's {@code $request_id}).
 *
 * <pre>{@code
 * RequestIdFilter ids = RequestIdFilter.builder()
 *         .header("X-Correlation-ID")
 *         .trustIncoming(false)
 *         .format(RequestIdFilter.Format.HEX)
 *         .build();
 * }</pre>
 *
 * <p>With {@code trustIncoming} (the default) an id the client (or a proxy in front) sent is kept when
 * it is valid: one field, 1 to {@code maxLength} characters (128 by default), each a letter, a digit
 * or one of {@code -_.:+/=@}, enough for UUIDs, ULIDs, hex and base64 ids and W3C trace ids, and nothing
 * that could break a log line or a header. Anything else is replaced by a new id. Without it every
 * request gets a new one.
 *
 * <p>New ids come from {@link ThreadLocalRandom}: 128 random bits per id from the event loop's own
 * generator, without locking and without {@link java.security.SecureRandom}, whose blocking for
 * entropy or contention on a shared instance would stall an event loop. An id must be unique, not
 * secret: a request id is a correlation handle and must never serve as a credential.
 */
public final class RequestIdFilter implements RequestIdModuleFactory {
    /**
     * Before every other filter of this module (ip-acl is -400): a request refused by any of them (a 403,
     * a 429, a 413) still gets its id, on the response and in the logs, as nginx's {@code $request_id}.
     */
    public static final int ORDER = -500;

    /** The name configurations use. */
    public static final String NAME = "request-id";
    /** The default header field. */
    public static final String DEFAULT_HEADER = "X-Request-ID";
    /** The default longest incoming id kept. */
    public static final int DEFAULT_MAX_LENGTH = 128;
    /** The longest {@code maxLength} allowed. */
    public static final int MAX_MAX_LENGTH = 1024;

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    /** How new ids are written. */
    public enum Format {
        /** A random (version 4) UUID, 36 characters: {@code 3b241101-e2bb-4255-8caf-4136c566a962}. */
        UUID("uuid"),
        /** 32 hexadecimal digits, as nginx's {@code $request_id}: {@code f3a4c1d25e7b40a19c6de1f0a2b3c4d5}. */
        HEX("hex");

        private final String setting;

        Format(String setting) {
            this.setting = setting;
        }

        /** The name in configurations. */
        public String setting() {
            return setting;
        }

        static Format parse(String key, String text) {
            for (Format f : values()) {
                if (f.setting.equals(text)) {
                    return f;
                }
            }
            throw new InvalidSettingException(key, "'" + text + "' (expected: uuid or hex)");
        }
    }

    private final String header;
    private final boolean trustIncoming;
    private final Format format;
    private final int maxLength;

    private RequestIdFilter(Builder b) {
        this.header = b.header;
        this.trustIncoming = b.trustIncoming;
        this.format = b.format;
        this.maxLength = b.maxLength;
    }

    /** A builder with the defaults: {@code X-Request-ID}, incoming ids trusted, UUIDs, 128 characters. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public int order() {
        return ORDER;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String header() {
        return header;
    }

    @Override
    public HttpModule newModule() {
        return new IdModule();
    }

    /** Whether {@code id} would be kept as an incoming id: 1 to {@code maxLength} characters of the safe set. */
    public boolean isValid(@Nullable String id) {
        if (id == null || id.isEmpty() || id.length() > maxLength) {
            return false;
        }
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            boolean safe = c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
                    || "-_.:+/=@".indexOf(c) >= 0;
            if (!safe) {
                return false;
            }
        }
        return true;
    }

    /** A new id in this filter's format. */
    public String newId() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long high = random.nextLong();
        long low = random.nextLong();
        if (format == Format.HEX) {
            char[] out = new char[32];
            hex(high, out, 0, 16);
            hex(low, out, 16, 16);
            return new String(out);
        }
        // RFC 9562 version 4: the version nibble 4, the variant bits 10.
        high = (high & ~0xF000L) | 0x4000L;
        low = (low & 0x3FFF_FFFF_FFFF_FFFFL) | 0x8000_0000_0000_0000L;
        char[] out = new char[36];
        hex(high >>> 32, out, 0, 8);
        out[8] = '-';
        hex(high >>> 16, out, 9, 4);
        out[13] = '-';
        hex(high, out, 14, 4);
        out[18] = '-';
        hex(low >>> 48, out, 19, 4);
        out[23] = '-';
        hex(low, out, 24, 12);
        return new String(out);
    }

    /** Writes the low {@code digits} hex digits of {@code value} into {@code out} at {@code at}. */
    private static void hex(long value, char[] out, int at, int digits) {
        for (int i = digits - 1; i >= 0; i--) {
            out[at + i] = HEX[(int) (value & 0xF)];
            value >>>= 4;
        }
    }

    /** The id {@code request} goes on with: its own when trusted and valid, else a new one. */
    String idFor(RequestHeader request) {
        if (trustIncoming) {
            List<String> incoming = request.headers().getAll(header);
            // Two fields are ambiguous: which would the origin and the logs use? Neither.
            if (incoming.size() == 1 && isValid(incoming.get(0))) {
                return incoming.get(0);
            }
        }
        return newId();
    }

    @Override
    public String toString() {
        return NAME + "(header: " + header + ", trust-incoming: " + trustIncoming + ", format: " + format.setting
                + ", max-length: " + maxLength + ")";
    }

    /** One request's: it remembers the id for the response, whatever later filters do to the request. */
    private final class IdModule implements RequestIdModuleFactory.RequestIdModule {
        private @Nullable String id;

        @Override
        public @Nullable String requestId() {
            return id;
        }

        @Override
        public CompletionStage<Void> requestHeaderFilter(Session session) {
            RequestHeader request = session.requestHeader();
            String chosen = idFor(request);
            request.headers().set(header, chosen);
            id = chosen;
            return Stages.done();
        }

        @Override
        public void responseHeaderFilter(Session session, ResponseHeader response, boolean endOfStream) {
            String chosen = id;
            if (chosen != null) {
                response.headers().set(header, chosen);
            }
        }
    }

    /** Builds a {@link RequestIdFilter}; every setting is optional. */
    public static final class Builder {
        private String header = DEFAULT_HEADER;
        private boolean trustIncoming = true;
        private Format format = Format.UUID;
        private int maxLength = DEFAULT_MAX_LENGTH;

        private Builder() {}

        /** The header field of the id ({@code X-Request-ID}). */
        public Builder header(String header) {
            this.header = HttpSyntax.headerName("header", requireNonNull(header, "header"));
            return this;
        }

        /** Whether a valid id the request brings is kept ({@code true}); false: every request gets a new one. */
        public Builder trustIncoming(boolean trustIncoming) {
            this.trustIncoming = trustIncoming;
            return this;
        }

        /** How new ids are written ({@link Format#UUID}). */
        public Builder format(Format format) {
            this.format = requireNonNull(format, "format");
            return this;
        }

        /** The longest incoming id kept, 1 to {@value #MAX_MAX_LENGTH} ({@value #DEFAULT_MAX_LENGTH}). */
        public Builder maxLength(int maxLength) {
            if (maxLength < 1 || maxLength > MAX_MAX_LENGTH) {
                throw new InvalidSettingException("max-length", maxLength + " (expected: 1.." + MAX_MAX_LENGTH + ")");
            }
            this.maxLength = maxLength;
            return this;
        }

        /** The filter. */
        public RequestIdFilter build() {
            return new RequestIdFilter(this);
        }
    }
}
