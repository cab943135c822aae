package dev.relay.examples;

import dev.relay.lb.LoadBalancer;
import dev.relay.lb.RoundRobin;
import dev.relay.server.Server;
import dev.relay.server.Services;
import dev.relay.server.StreamProxyService;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The TCP load balancer example's own code in front of two origins and a dead backend, spoken to in raw HTTP. */
@Timeout(60)
class TcpLoadBalancerExampleTest {

    @Test
    void alternatesConnectionsBetweenLiveBackendsAndSkipsADeadOne() throws Exception {
        try (TestOrigin first = TestOrigin.builder().name("first").build().start();
             TestOrigin second = TestOrigin.builder().name("second").build().start()) {
            LoadBalancer<RoundRobin> backends = LoadBalancer.tryFromIterable(RoundRobin.create(),
                    first.address(), "127.0.0.1:" + TestOrigin.closedPort(), second.address());
            Server server = Server.create();
            server.bootstrap();
            StreamProxyService tcp = Services.streamProxy(new TcpLoadBalancerExample(backends));
            tcp.addTcp("127.0.0.1:0");
            server.addService(tcp);
            server.start();
            try {
                InetSocketAddress address = tcp.boundAddresses().get(0);
                List<String> servedBy = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    try (Socket client = new Socket()) {
                        client.connect(address, 5000);
                        client.setSoTimeout(10_000);
                        client.getOutputStream().write("GET / HTTP/1.1\r\nHost: db\r\nConnection: close\r\n\r\n"
                                .getBytes(StandardCharsets.US_ASCII));
                        String response = new String(client.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                        assertTrue(response.startsWith("HTTP/1.1 200"), response);
                        servedBy.add(response.contains("origin first") ? "first" : "second");
                    }
                }
                assertEquals(2, servedBy.stream().filter("first"::equals).count(), servedBy.toString());
                assertEquals(2, servedBy.stream().filter("second"::equals).count(), servedBy.toString());
            } finally {
                server.stop(Duration.ofSeconds(5)).toCompletableFuture().join();
            }
        }
    }
}
