package dev.relay.core.cache;

import dev.relay.core.RequestHeader;
import dev.relay.core.ResponseHeader;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/** Requests, responses and verdicts for the cache's tests, at a fixed clock. */
final class CacheFixtures {
    /** The test clock's "now": a whole second, as HTTP dates are. */
    static final long T0 = 1_700_000_000_000L;

    private CacheFixtures() {}

    /** {@code seconds} after {@link #T0}, in epoch milliseconds (negative: before). */
    static long at(long seconds) {
        return T0 + seconds * 1000;
    }

    /** The HTTP-date {@code seconds} after {@link #T0}. */
    static String date(long seconds) {
        return HttpDates.format(at(seconds));
    }

    /** A request with {@code fields} given as alternating names and values. */
    static RequestHeader request(String method, String... fields) {
        RequestHeader request = RequestHeader.of(method, "/x");
        for (int i = 0; i < fields.length; i += 2) {
            request.headers().add(fields[i], fields[i + 1]);
        }
        return request;
    }

    static RequestHeader get(String... fields) {
        return request("GET", fields);
    }

    /** A response with {@code fields} given as alternating names and values. */
    static ResponseHeader response(int status, String... fields) {
        ResponseHeader response = ResponseHeader.of(status);
        for (int i = 0; i < fields.length; i += 2) {
            response.headers().add(fields[i], fields[i + 1]);
        }
        return response;
    }

    /** RFC 9111's verdict on {@code response} to {@code request}, both at {@link #T0}, with the RFC defaults. */
    static RespCacheable decide(RequestHeader request, ResponseHeader response) {
        return CachePolicy.decide(request, response, T0, T0, CacheDefaults.RFC9111);
    }

    /** The metadata of a verdict that must be "store it". */
    static CacheMeta stored(RespCacheable verdict) {
        return assertInstanceOf(RespCacheable.Cacheable.class, verdict).meta();
    }

    /** The reason of a verdict that must be "do not store". */
    static NoCacheReason refused(RespCacheable verdict) {
        return assertInstanceOf(RespCacheable.Uncacheable.class, verdict).reason();
    }

    /** The metadata of {@code response} (to a plain GET at {@link #T0}), which must be storable. */
    static CacheMeta storedAtT0(ResponseHeader response) {
        return stored(decide(get(), response));
    }
}
