package dev.relay.transport.internal;

import dev.relay.core.HttpHeaders;

import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * The core header view over Netty's headers, without copying. Netty's {@code DefaultHttpHeaders}
 * already keeps arrival order and the case of names, and looks up ignoring case.
 */
final class NettyHttpHeaders implements HttpHeaders {
    private final io.netty.handler.codec.http.HttpHeaders headers;

    NettyHttpHeaders(io.netty.handler.codec.http.HttpHeaders headers) {
        this.headers = headers;
    }

    io.netty.handler.codec.http.HttpHeaders unwrap() {
        return headers;
    }

    @Override
    public String get(CharSequence name) {
        return headers.get(name);
    }

    @Override
    public int copyValue(CharSequence name, byte[] into, int at) {
        if (headers instanceof CompactHttpHeaders compact) {
            int length = compact.copyRawValue(name, into, at);
            if (length != CompactHttpHeaders.NOT_RAW_VALUE) {
                return length;
            }
        }
        return HttpHeaders.super.copyValue(name, into, at);
    }

    @Override
    public List<String> getAll(CharSequence name) {
        return headers.getAll(name);
    }

    @Override
    public boolean contains(CharSequence name) {
        return headers.contains(name);
    }

    @Override
    public HttpHeaders set(CharSequence name, CharSequence value) {
        headers.set(name, value);
        return this;
    }

    @Override
    public HttpHeaders add(CharSequence name, CharSequence value) {
        headers.add(name, value);
        return this;
    }

    @Override
    public boolean remove(CharSequence name) {
        if (!headers.contains(name)) {
            return false;
        }
        headers.remove(name);
        return true;
    }

    @Override
    public void clear() {
        headers.clear();
    }

    @Override
    public int size() {
        return headers.size();
    }

    @Override
    public void forEach(BiConsumer<String, String> action) {
        Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence();
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            action.accept(e.getKey().toString(), e.getValue().toString());
        }
    }

    @Override
    public Iterator<Map.Entry<String, String>> iterator() {
        return headers.iteratorAsString();
    }

    @Override
    public String toString() {
        return headers.toString();
    }
}
