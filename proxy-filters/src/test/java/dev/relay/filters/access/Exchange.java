package dev.relay.filters.access;

import dev.relay.core.HttpModule;
import dev.relay.core.HttpModuleFactory;
import dev.relay.core.RequestHeader;
import dev.relay.core.ResponseHeader;
import dev.relay.core.Session;
import dev.relay.core.Stages;
import org.jspecify.annotations.Nullable;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyBoolean;
import static org.mockito.Mockito.CALLS_REAL_METHODS;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;
import static org.mockito.Mockito.withSettings;

/**
 * One request through one module's hooks, as the engine calls them: a Mockito session (as the other
 * filter tests use) whose default methods ({@code respond}) run for real and whose writes are kept.
 */
final class Exchange {
    final RequestHeader request;
    final Session session;
    private @Nullable ResponseHeader written;
    private byte[] body = new byte[0];

    private Exchange(RequestHeader request, SocketAddress client) {
        this.request = request;
        this.session = mock(Session.class, withSettings().defaultAnswer(CALLS_REAL_METHODS));
        when(session.requestHeader()).thenReturn(request);
        when(session.clientAddress()).thenReturn(client);
        when(session.eventLoop()).thenReturn(Runnable::run);
        doAnswer(call -> {
            written = call.getArgument(0);
            return Stages.done();
        }).when(session).writeResponseHeader(any(), anyBoolean());
        doAnswer(call -> {
            body = call.<byte[]>getArgument(0).clone();
            return Stages.done();
        }).when(session).writeResponseBody(any(), anyBoolean());
        when(session.responseWritten()).thenAnswer(call -> written != null);
    }

    static Exchange of(String method, String path) {
        return new Exchange(RequestHeader.of(method, path), new InetSocketAddress("127.0.0.1", 40000));
    }

    static Exchange from(SocketAddress client) {
        return new Exchange(RequestHeader.of("GET", "/"), client);
    }

    Exchange header(String name, String value) {
        request.headers().add(name, value);
        return this;
    }

    /** Runs the request hook of a fresh module of {@code filter}; returns that module. */
    HttpModule run(HttpModuleFactory filter) {
        HttpModule module = filter.newModule();
        try {
            module.requestHeaderFilter(session).toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        return module;
    }

    /** Starts the request hook of a fresh module of {@code filter} without waiting for it. */
    java.util.concurrent.CompletionStage<Void> start(HttpModuleFactory filter) {
        return filter.newModule().requestHeaderFilter(session);
    }

    /** The response the filter wrote, or null when it let the request go on. */
    @Nullable ResponseHeader response() {
        return written;
    }

    int status() {
        return written == null ? 0 : written.status();
    }

    String body() {
        return new String(body, StandardCharsets.UTF_8);
    }
}
