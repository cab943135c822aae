package dev.relay.core.internal;

import dev.relay.core.HttpHeaders;
import dev.relay.core.ResponseHeader;

/** A plain {@link ResponseHeader}. */
public final class SimpleResponseHeader implements ResponseHeader {
    private final HttpHeaders headers = new SimpleHttpHeaders();
    private int status;

    public SimpleResponseHeader(int status) {
        setStatus(status);
    }

    @Override public int status() { return status; }

    @Override
    public void setStatus(int status) {
        if (status < 100 || status > 999) {
            throw new IllegalArgumentException("status: " + status + " (expected: 100..999)");
        }
        this.status = status;
    }

    @Override public HttpHeaders headers() { return headers; }

    @Override
    public String toString() {
        return status + " " + ReasonPhrases.of(status) + ' ' + headers;
    }
}
