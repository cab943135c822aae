package dev.relay.transport.internal;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * The core views over Netty's messages make their field view on first use and keep it: it is the
 * message's own fields, before and after, whichever side changes them.
 */
class NettyHeaderViewsTest {
    @Test
    void aRequestsFieldViewIsMadeOnceAndIsTheMessagesFields() {
        DefaultHttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/", new CompactHttpHeaders());
        request.headers().add("Host", "a.test");
        NettyRequestHeader view = new NettyRequestHeader(request);
        assertSame(view.headers(), view.headers());
        assertEquals("a.test", view.headers().get("host"));
        view.headers().set("X-Added", "1");
        assertEquals("1", request.headers().get("x-added"));
        request.headers().remove("Host");
        assertNull(view.headers().get("Host"));
    }

    @Test
    void aResponsesFieldViewIsMadeOnceAndIsTheMessagesFields() {
        DefaultHttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, new CompactHttpHeaders());
        response.headers().add("Server", "origin");
        NettyResponseHeader view = new NettyResponseHeader(response);
        assertSame(view.headers(), view.headers());
        assertEquals("origin", view.headers().get("server"));
        view.headers().remove("Server");
        assertEquals(0, response.headers().size());
    }
}
