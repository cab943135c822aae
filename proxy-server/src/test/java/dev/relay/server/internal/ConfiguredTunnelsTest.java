package dev.relay.server.internal;

import dev.relay.server.testing.InProcessRelay;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The configured server's tunnels: a listener's connect.allow, a route's websocket = false. */
@Timeout(30)
class ConfiguredTunnelsTest {
    @TempDir
    Path dir;
    private TestOrigin origin;
    private InProcessRelay relay;

    @AfterEach
    void close() {
        if (relay != null) {
            relay.close();
        }
        if (origin != null) {
            origin.close();
        }
    }

    private InProcessRelay relay(String routes) throws IOException {
        origin = TestOrigin.builder().name("app").build().start();
        relay = new InProcessRelay(dir.resolve("relay.conf"), """
                proxy {
                  listeners = [ { address = "127.0.0.1:0", connect { allow = [ "127.0.0.1:%d" ] } } ]
                  server { upgrade-socket = none, access-log = false }
                  upstreams { app { backends = [ "%s" ] } }
                  routes = %s
                }
                """.formatted(origin.port(), origin.address(), routes));
        return relay;
    }

    @Test
    void connectGoesToTheAllowedTargetWithoutARoute() throws Exception {
        relay("[ { match.path-prefix = \"/only\", upstream = app } ]");
        try (Socket client = connect(relay.proxy())) {
            String target = "127.0.0.1:" + origin.port();
            write(client, "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n");
            String established = readHeader(client.getInputStream());
            assertTrue(established.startsWith("HTTP/1.1 200"), established);
            write(client, "GET /inside HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n");
            String inside = new String(client.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertTrue(inside.startsWith("HTTP/1.1 200") && inside.contains("origin app"), inside);
        }
        try (Socket client = connect(relay.proxy())) {
            write(client, "CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n");
            String refused = new String(client.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertTrue(refused.startsWith("HTTP/1.1 403"), refused);
        }
    }

    @Test
    void aRouteWithWebsocketOffSendsNoUpgradeUpstream() throws Exception {
        relay("[ { upstream = app, websocket = false } ]");
        try (Socket client = connect(relay.proxy())) {
            write(client, "GET /ws HTTP/1.1\r\nHost: app\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
            String response = new String(client.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertTrue(response.startsWith("HTTP/1.1 200"), response);
        }
        assertEquals(1, origin.requests().size());
        assertTrue(origin.requests().get(0).headers().stream().noneMatch(h -> h.name().equalsIgnoreCase("upgrade")),
                origin.requests().get(0).headers().toString());
    }

    private static Socket connect(InetSocketAddress address) throws IOException {
        Socket socket = new Socket(address.getAddress(), address.getPort());
        socket.setSoTimeout(5000);
        return socket;
    }

    private static void write(Socket socket, String text) throws IOException {
        socket.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
        socket.getOutputStream().flush();
    }

    private static String readHeader(InputStream in) throws IOException {
        StringBuilder out = new StringBuilder();
        while (!out.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            out.append((char) b);
        }
        return out.toString();
    }
}
