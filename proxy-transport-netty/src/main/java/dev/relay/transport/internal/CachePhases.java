package dev.relay.transport.internal;

import dev.relay.core.ErrorSource;
import dev.relay.core.ProxyError;
import dev.relay.core.ProxyHttp;
import dev.relay.core.RequestHeader;
import dev.relay.core.ResponseHeader;
import dev.relay.core.cache.ByteRange;
import dev.relay.core.cache.CacheControl;
import dev.relay.core.cache.CacheKey;
import dev.relay.core.cache.CacheMeta;
import dev.relay.core.cache.CachePolicy;
import dev.relay.core.cache.CacheResult;
import dev.relay.core.cache.CachedObject;
import dev.relay.core.cache.ForcedFreshness;
import dev.relay.core.cache.HttpCache;
import dev.relay.core.cache.NoCacheReason;
import dev.relay.core.cache.RespCacheable;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import org.jspecify.annotations.Nullable;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Future;

/**
 * The cache part of one request's phases (Pingora's {@code proxy_cache.rs}), between
 * {@link ProxyHttp#requestFilter} and the origin: key, purge, lookup, variant, hit filter; then a hit
 * answered from the cache, a wait on another request's fetch of the same key (the cache lock), or a
 * fetch from the origin that fills the cache as it streams to the client. On the origin's answer it
 * turns a 304 into the stored response, serves a stale copy in place of an error (stale-if-error), or
 * decides on storing ({@link ProxyHttp#responseCacheFilter}); it sends a stale-while-revalidate
 * refresh into the background as a subrequest of its own.
 *
 * <p>Made by {@link ProxyCall} only for a request whose cache is enabled, and the only class besides
 * it that calls {@link ProxyHttp} (the cache phases). Everything runs on the call's event loop but
 * the wake-ups of a {@link CacheFill}, which hop to it.
 */
final class CachePhases<C> implements CacheFill.Reader {
    private final ProxyCall<C> call;
    private final C ctx;
    private final ProxyEngine<C> engine;
    private final DownstreamStream downstream;
    private final ProxyHttp<C> proxy;
    private final CallSession session;
    private final CallCache state;
    private final HttpCache cache;
    private final EventLoop loop;
    private final EngineClock clock;
    private final CacheFills fills;
    /** This request is a background refresh: it revalidates or refetches, and never serves stale. */
    private final boolean refresh;

    /** A stored response that may not answer as it is: revalidated with the origin, or served if the origin fails. */
    private @Nullable CachedObject stored;
    /** The fill this request writes as it fetches from the origin, or null when it fetches uncached. */
    private @Nullable CacheFill fill;
    /** The fill this request waits on, until it has a header or the wait times out. */
    private @Nullable CacheFill waitingOn;
    private @Nullable Future<?> lockTimer;
    /** The wait on a fill was retried once already (its writer failed): the next failure goes to the origin. */
    private boolean retriedLock;
    /** The origin's answer is copied into {@link #fill} as it streams. */
    private boolean storing;
    private boolean served;
    /** The client went away while this request was fetching for the cache: the fetch goes on only while it is stored. */
    private boolean clientGone;

    CachePhases(ProxyCall<C> call, ProxyEngine<C> engine, DownstreamStream downstream, CallCache state, C ctx) {
        this.call = call;
        this.ctx = ctx;
        this.engine = engine;
        this.downstream = downstream;
        this.proxy = engine.proxy;
        this.session = call.session();
        this.state = state;
        this.cache = java.util.Objects.requireNonNull(state.cache());
        this.loop = downstream.eventLoop();
        this.clock = engine.clock;
        this.fills = engine.cacheFills;
        this.refresh = downstream instanceof RefreshDownstream;
    }

    /** The key {@link ProxyHttp#cacheKeyCallback} made, with the variance once a stored {@code Vary} selected one. */
    private CacheKey key() {
        return java.util.Objects.requireNonNull(state.key, "the key is made first");
    }

    // ---------------------------------------------------------------------------------------------
    // Key, purge, lookup

    /** Runs the cache phases before the origin: answers, waits, or goes on to {@link ProxyCall#proceedToUpstream}. */
    void start() {
        state.lookedUp = true;
        try {
            state.key = proxy.cacheKeyCallback(session, ctx);
            if (proxy.isPurge(session, ctx)) {
                purge();
                return;
            }
        } catch (Throwable t) {
            call.failRequest(ProxyError.from(t, "cacheKeyCallback/isPurge"));
            return;
        }
        if (!CachePolicy.isCacheableMethod(session.requestHeader().method())
                || downstream.tunnelKind() != TunnelRequests.Kind.NONE) {
            // A tunnel (an upgrade or CONNECT) is a conversation, not a representation to store.
            state.result = CacheResult.BYPASS;
            call.proceedToUpstream();
            return;
        }
        lookup(key().storageKey(), false);
    }

    private void purge() {
        state.result = CacheResult.PURGE;
        int status;
        String text;
        if (!cache.mayPurge(session.clientAddress())) {
            status = 403;
            text = "purging is not allowed from this address\n";
        } else {
            String primary = key().primary();
            boolean prefix = primary.endsWith("*");
            int removed = cache.purge(prefix ? CacheKey.of(primary.substring(0, primary.length() - 1)) : key(), prefix);
            status = removed > 0 ? 200 : 404;
            text = removed > 0 ? "purged " + removed + "\n" : "not cached\n";
        }
        ResponseHeader header = ResponseHeader.of(status);
        header.headers().set("Content-Type", "text/plain; charset=utf-8");
        session.respond(header, text.getBytes(StandardCharsets.UTF_8));
        call.afterRequestFilter(true);
    }

    private void lookup(String storageKey, boolean variant) {
        CompletionStage<@Nullable CachedObject> found;
        try {
            found = cache.storage().lookup(storageKey);
        } catch (RuntimeException e) {
            ProxyEngine.LOG.log(System.Logger.Level.WARNING, "cache lookup failed; treated as a miss", e);
            onLookedUp(null, variant);
            return;
        }
        if (found instanceof java.util.concurrent.CompletableFuture<@Nullable CachedObject> f && f.isDone()
                && !f.isCompletedExceptionally()) {
            onLookedUp(f.getNow(null), variant);
            return;
        }
        found.whenComplete((object, failure) -> loop.execute(() -> {
            if (call.isActive()) {
                if (failure != null) {
                    ProxyEngine.LOG.log(System.Logger.Level.WARNING, "cache lookup failed; treated as a miss", failure);
                }
                onLookedUp(failure == null ? object : null, variant);
            }
        }));
    }

    private void onLookedUp(@Nullable CachedObject object, boolean variant) {
        try {
            if (object != null && !variant && !object.meta().vary().isEmpty()) {
                // The primary key holds a marker: its Vary names the fields that select the variant.
                String variance = proxy.cacheVaryFilter(object.meta(), ctx, session.requestHeader());
                state.key = key().withVariance(variance);
                if (variance == null) {
                    miss();
                } else {
                    lookup(key().storageKey(), true);
                }
                return;
            }
            if (object == null) {
                miss();
                return;
            }
            long now = clock.currentTimeMillis();
            CacheMeta meta = object.meta();
            boolean fresh = meta.isFresh(now);
            ForcedFreshness forced = proxy.cacheHitFilter(session, meta, fresh, ctx);
            if (forced == ForcedFreshness.FORCE_MISS) {
                miss();
                return;
            }
            fresh = forced == ForcedFreshness.FORCE_FRESH || fresh && forced != ForcedFreshness.FORCE_EXPIRED;
            RequestHeader request = session.requestHeader();
            if (refresh) {
                revalidate(object);
            } else if (fresh && (forced == ForcedFreshness.FORCE_FRESH
                    || !CachePolicy.requestRequiresValidation(request, meta, now))) {
                serve(object, CacheResult.HIT, null);
            } else if (!fresh && CachePolicy.requestAcceptsStale(request, meta, now)) {
                serve(object, CacheResult.STALE, "max-stale");
            } else if (!fresh && meta.withinStaleWhileRevalidate(now) && proxy.shouldServeStale(session, ctx, null)) {
                refreshInBackground();
                serve(object, CacheResult.STALE, "stale-while-revalidate");
            } else {
                revalidate(object);
            }
        } catch (Throwable t) {
            call.failRequest(ProxyError.from(t, "cacheVaryFilter/cacheHitFilter/shouldServeStale"));
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Miss, revalidation and the lock

    private void miss() {
        if (CacheControl.parse(session.requestHeader().headers()).onlyIfCached()) {
            // RFC 9111 §5.2.1.7: nothing stored that may answer, and the client forbids asking the origin.
            state.result = CacheResult.MISS;
            session.respondError(504);
            call.afterRequestFilter(true);
            return;
        }
        fetch();
    }

    private void revalidate(CachedObject object) {
        stored = object;
        fetch();
    }

    /** Goes to the origin as the writer of this key's fill, or waits on the fill in progress. */
    private void fetch() {
        if ("HEAD".equals(session.requestHeader().method())) {
            // A HEAD response has no body to store: it goes to the origin as it is.
            toOrigin(CacheResult.MISS);
            return;
        }
        String lockKey = key().storageKey();
        CacheFills.Claim claim = fills.claim(cache, lockKey);
        if (claim.started()) {
            CacheFill mine = claim.fill();
            fill = mine;
            state.result = stored != null ? CacheResult.EXPIRED : CacheResult.MISS;
            try {
                proxy.cacheMissFilter(session, ctx);
            } catch (Throwable t) {
                mine.abandon(NoCacheReason.DECLINED, true);
                fill = null;
                call.failRequest(ProxyError.from(t, "cacheMissFilter"));
                return;
            }
            call.proceedToUpstream();
            return;
        }
        CacheFill theirs = claim.fill();
        if (refresh || !theirs.attach(this)) {
            // A refresh finds another request already fetching: nothing left for it to do but to go, uncached.
            toOrigin(CacheResult.MISS);
            return;
        }
        waitingOn = theirs;
        cache.recordLockWait();
        lockTimer = clock.schedule(loop, this::onLockTimeout, cache.lockTimeout().toNanos());
        onFillProgress();
    }

    private void toOrigin(CacheResult result) {
        state.result = result;
        call.proceedToUpstream();
    }

    @Override
    public void wake() {
        loop.execute(this::onFillProgress);
    }

    /** The fill this request waits on moved on: serve from it once it has a header; fetch if it was given up. */
    private void onFillProgress() {
        CacheFill f = waitingOn;
        if (f == null || !call.isActive()) {
            return;
        }
        CacheFill.State s = f.state();
        if (s == CacheFill.State.WAITING_FOR_HEADER) {
            return;
        }
        stopWaiting(f, false);
        if (s == CacheFill.State.ABANDONED) {
            if (f.retryable() && !retriedLock) {
                retriedLock = true;
                fetch();
            } else {
                toOrigin(CacheResult.MISS);
            }
            return;
        }
        CacheMeta meta = f.meta();
        String variance;
        try {
            variance = meta.vary().isEmpty() ? null : proxy.cacheVaryFilter(meta, ctx, session.requestHeader());
        } catch (Throwable t) {
            call.failRequest(ProxyError.from(t, "cacheVaryFilter"));
            return;
        }
        if (!java.util.Objects.equals(variance, f.variance())) {
            // The response varies, and this request selects another variant than the one being fetched.
            state.key = key().withVariance(variance);
            fetch();
            return;
        }
        byte[] whole = f.completeBody();
        if (whole != null) {
            serve(new CachedObject(meta, whole), CacheResult.COLLAPSED, null);
            return;
        }
        // Still arriving: the stored header, with the origin's Content-Length if it sent one (a HEAD
        // never waits on a fill), and the parts as they come.
        ResponseHeader header = storedHeader(meta, clock.currentTimeMillis(), CacheResult.COLLAPSED, null);
        CacheHitStream reader = new CacheHitStream(loop, header, f);
        if (!f.attach(reader)) {
            // Given up since its header came: as any abandoned fill.
            toOrigin(CacheResult.MISS);
            return;
        }
        served = true;
        state.result = CacheResult.COLLAPSED;
        call.serveFromCache(reader);
    }

    private void onLockTimeout() {
        CacheFill f = waitingOn;
        if (f != null && call.isActive()) {
            stopWaiting(f, true);
            toOrigin(CacheResult.MISS);
        }
    }

    private void stopWaiting(CacheFill f, boolean timedOut) {
        f.detach(this);
        waitingOn = null;
        if (lockTimer != null) {
            lockTimer.cancel(false);
            lockTimer = null;
        }
        if (timedOut) {
            cache.recordLockTimeout();
        }
    }

    /** Starts a subrequest that revalidates (or refetches) this key while the stale copy is served. */
    private void refreshInBackground() {
        if (fills.inProgress(cache, key().storageKey()) == null) {
            cache.recordBackgroundRevalidation();
            RequestHeader copy = RequestHeader.of("GET", session.requestHeader().uri());
            session.requestHeader().headers().forEach((name, value) -> copy.headers().add(name, value));
            ProxyCall<C> refreshCall = engine.newCall(new RefreshDownstream(downstream, copy));
            refreshCall.start();
            // The end of its (empty) body, as a client's connection would deliver it.
            refreshCall.requestBody().onPart(io.netty.buffer.Unpooled.EMPTY_BUFFER, true, null);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // The origin's answer

    /** The request going to the origin: a fill asks for the whole response, a revalidation conditionally. */
    void beforeUpstreamRequest(RequestHeader upstreamRequest) {
        state.upstreamRequestMillis = clock.currentTimeMillis();
        if (stored != null && fill != null && stored.meta().hasValidator()) {
            CachePolicy.makeConditional(upstreamRequest, stored.meta());
        } else if (fill != null) {
            // The fill stores a whole response: the client's own preconditions and range stay here.
            for (String name : new String[] {"Range", "If-Range", "If-None-Match", "If-Modified-Since"}) {
                upstreamRequest.headers().remove(name);
            }
        }
    }

    /**
     * The origin's response header, after {@link ProxyHttp#upstreamResponseFilter}: true when the cache
     * answers instead (a 304 confirmed the stored response; an error is replaced by a stale copy).
     */
    boolean onUpstreamResponse(UpstreamAttempt a) {
        ResponseHeader response = a.response;
        long now = clock.currentTimeMillis();
        CachedObject old = stored;
        if (old != null && response.status() == 304 && fill != null) {
            CacheMeta merged = CachePolicy.revalidated(old.meta(), session.requestHeader(), response,
                    state.upstreamRequestMillis, now, cache.defaults());
            CachedObject confirmed = old.withMeta(merged != null ? merged : old.meta());
            if (merged != null) {
                cache.storage().updateMeta(key().storageKey(), merged);
                fill.completeWith(confirmed, key());
            } else {
                cache.purge(key(), false);
                fill.abandon(NoCacheReason.NO_STORE, false);
            }
            fill = null;
            a.drainAndRelease();
            serve(confirmed, CacheResult.REVALIDATED, null);
            return true;
        }
        if (old != null && response.status() >= 500 && response.status() <= 504 && old.meta().withinStaleIfError(now)) {
            ProxyError error = ProxyError.httpStatus(response.status(), ErrorSource.UPSTREAM);
            if (proxy.shouldServeStale(session, ctx, error)) {
                a.abandon();
                serveStale(old);
                return true;
            }
        }
        CacheFill f = fill;
        if (f != null) {
            decideStoring(f, response, ctx);
            if (fill == null && clientGone) {
                // Not stored after all, and nobody to send it to.
                call.failRequest(ProxyError.downstream(dev.relay.core.ErrorType.CONNECTION_CLOSED,
                        "client closed the connection", null));
                return true;
            }
        }
        response.headers().set("Cache-Status", cacheStatus(state.result, response.status(), null, 0));
        return false;
    }

    private void decideStoring(CacheFill f, ResponseHeader response, C ctx) {
        RespCacheable verdict = proxy.responseCacheFilter(session, response, ctx);
        NoCacheReason reason = null;
        if (verdict instanceof RespCacheable.Cacheable cacheable) {
            long length = contentLength(response);
            if (length > cache.storage().maxObjectSize()) {
                reason = NoCacheReason.RESPONSE_TOO_LARGE;
            } else {
                CacheMeta meta = cacheable.meta();
                String variance = meta.vary().isEmpty() ? null
                        : proxy.cacheVaryFilter(meta, ctx, session.requestHeader());
                storing = true;
                f.begin(meta, key().withVariance(variance));
            }
        } else {
            reason = ((RespCacheable.Uncacheable) verdict).reason();
        }
        if (reason != null) {
            f.abandon(reason, false);
            fill = null;
        }
    }

    /** A body part of the origin's response, after {@link ProxyHttp#upstreamResponseBodyFilter}. */
    void onBodyPart(ByteBuf data, boolean last) {
        CacheFill f = fill;
        if (!storing || f == null) {
            return;
        }
        if (!f.append(data)) {
            storing = false;
            fill = null;
            return;
        }
        if (last) {
            storing = false;
            fill = null;
            f.complete();
        }
    }

    /**
     * The request failed with {@code error}: true when a stale copy answers instead (stale-if-error).
     * Only before any response was written.
     */
    boolean serveStaleInsteadOf(ProxyError error) {
        CachedObject old = stored;
        if (old == null || served || session.responseWritten
                || !old.meta().withinStaleIfError(clock.currentTimeMillis())) {
            return false;
        }
        try {
            if (!proxy.shouldServeStale(session, ctx, error)) {
                return false;
            }
        } catch (Throwable t) {
            return false;
        }
        serveStale(old);
        return true;
    }

    private void serveStale(CachedObject old) {
        CacheFill f = fill;
        if (f != null) {
            fill = null;
            storing = false;
            f.abandon(NoCacheReason.UPSTREAM_ERROR, true);
        }
        serve(old, CacheResult.STALE, "stale-if-error");
    }

    /**
     * The client went away: true when the origin's answer is still being stored, which then goes on
     * to its end into the cache only (others may wait on it; nginx finishes such a fetch too).
     */
    boolean continueWithoutClient() {
        ClientResponse response = call.response();
        if (fill == null || response.isComplete()) {
            return false;
        }
        clientGone = true;
        response.detach();
        UpstreamAttempt a = call.attempt();
        if (a != null) {
            a.updateReading();
        }
        return true;
    }

    /** The request is over: a fill it did not finish is given up, a wait is ended, and the outcome counted. */
    void release() {
        CacheFill f = fill;
        if (f != null) {
            fill = null;
            f.abandon(NoCacheReason.UPSTREAM_ERROR, true);
        }
        CacheFill w = waitingOn;
        if (w != null) {
            stopWaiting(w, false);
        }
        cache.record(state.result);
    }

    // ---------------------------------------------------------------------------------------------
    // Answering from the cache

    /** Answers from a stored object: the whole of it, a range, a 304 to a conditional request, or a HEAD. */
    private void serve(CachedObject object, CacheResult result, @Nullable String detail) {
        served = true;
        state.result = result;
        CacheMeta meta = object.meta();
        byte[] body = object.body();
        RequestHeader request = session.requestHeader();
        ResponseHeader header = storedHeader(meta, clock.currentTimeMillis(), result, detail);
        header.headers().set("Content-Length", Integer.toString(body.length));
        long first = 0;
        long end = body.length;
        boolean ok = meta.status() == 200;
        if (ok && CachePolicy.isNotModified(request, meta)) {
            header.setStatus(304);
            header.headers().remove("Content-Length");
            end = 0;
        } else if (ok) {
            ByteRange range = CachePolicy.range(request, meta, body.length);
            if (range == ByteRange.UNSATISFIABLE) {
                header.setStatus(416);
                header.headers().set("Content-Range", range.contentRange(body.length));
                header.headers().set("Content-Length", "0");
                end = 0;
            } else if (range != null) {
                header.setStatus(206);
                header.headers().set("Content-Range", range.contentRange(body.length));
                header.headers().set("Content-Length", Long.toString(range.length()));
                first = range.first();
                end = range.last() + 1;
            }
        }
        if ("HEAD".equals(request.method())) {
            end = first;
        }
        call.serveFromCache(new CacheHitStream(loop, header, body, first, end));
    }

    /**
     * The stored header as it goes to this client, with its current {@code Age} and the
     * {@code Cache-Status}. It holds no connection-specific field (the upstream streams strip them,
     * {@code HopByHop}, before any phase sees the response), and the downstream stream frames it.
     */
    private ResponseHeader storedHeader(CacheMeta meta, long now, CacheResult result, @Nullable String detail) {
        ResponseHeader header = meta.toResponseHeader();
        header.headers().set("Age", Long.toString(meta.ageSeconds(now)));
        header.headers().set("Cache-Status", cacheStatus(result, meta.status(), detail, meta.ttlSeconds(now)));
        return header;
    }

    /** The {@code Cache-Status} value (RFC 9211) of this cache for {@code result}. */
    private String cacheStatus(CacheResult result, int status, @Nullable String detail, long ttl) {
        String name = cache.statusName();
        String text = switch (result) {
            case HIT, STALE -> name + "; hit; ttl=" + ttl;
            case COLLAPSED -> name + "; fwd=miss; collapsed";
            case REVALIDATED -> name + "; fwd=stale; fwd-status=304";
            case EXPIRED -> name + "; fwd=stale; fwd-status=" + status + (storing ? "; stored" : "");
            case MISS -> name + "; fwd=miss; fwd-status=" + status + (storing ? "; stored" : "");
            default -> name + "; fwd=bypass";
        };
        return detail == null ? text : text + "; detail=" + detail;
    }

    private static long contentLength(ResponseHeader response) {
        String value = response.headers().get("Content-Length");
        if (value == null) {
            return -1;
        }
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
