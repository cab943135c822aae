package dev.relay.testing;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.KeyFactory;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(60)
class TlsOriginTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @RegisterExtension
    static final OriginExtension origin = OriginExtension.of(TestOrigin.builder()
            .name("secure")
            .tls(TestCertificates.server("localhost", "origin.test")));

    private static final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .sslContext(TestCertificates.clientSslContext())
            .connectTimeout(WAIT)
            .build();

    @Test
    void httpClientTrustingTheTestCaGetsEveryRouteOverTlsAndItsSniIsRecorded() throws Exception {
        URI uri = URI.create("https://localhost:" + origin.port() + "/64k");
        HttpResponse<byte[]> response = client.send(HttpRequest.newBuilder(uri).timeout(WAIT).build(),
                HttpResponse.BodyHandlers.ofByteArray());

        assertEquals(200, response.statusCode());
        assertArrayEquals(TestOrigin.patternBytes(0, 65536), response.body());
        RecordedRequest recorded = origin.requests().get(0);
        assertTrue(recorded.tls());
        assertEquals("localhost", recorded.sniHostName());
    }

    @Test
    void ipAddressConnectionsSendNoSni() throws Exception {
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(origin.uri("/")).timeout(WAIT).build(),
                HttpResponse.BodyHandlers.ofString());

        assertEquals("origin secure\n", response.body());
        assertNull(origin.requests().get(0).sniHostName());
    }

    @Test
    void largeDownloadAndUploadOverTls() throws Exception {
        long length = 16L * 1024 * 1024;
        HttpResponse<java.io.InputStream> download = client.send(HttpRequest.newBuilder(
                        URI.create("https://localhost:" + origin.port() + "/chunked/" + length)).timeout(WAIT).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        try (java.io.InputStream body = download.body()) {
            assertEquals(length, TestOriginTest.readVerifyingPattern(body));
        }

        byte[] upload = TestOriginTest.randomBytes(8 * 1024 * 1024, 7);
        HttpResponse<String> sink = client.send(HttpRequest.newBuilder(origin.uri("/sink")).timeout(WAIT)
                .POST(HttpRequest.BodyPublishers.ofByteArray(upload)).build(), HttpResponse.BodyHandlers.ofString());
        assertTrue(sink.body().contains(TestOrigin.sha256Hex(upload)), sink.body());
    }

    @Test
    void jdkSocketWithExplicitSniIsRecorded() throws Exception {
        try (SSLSocket socket = (SSLSocket) TestCertificates.clientSslContext().getSocketFactory()
                .createSocket("127.0.0.1", origin.port())) {
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setServerNames(List.of(new SNIHostName("origin.test")));
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            socket.setSSLParameters(parameters);
            try (RawHttpConnection connection = new RawHttpConnection(socket)) {
                connection.send("GET /headers HTTP/1.1\r\nHost: origin.test\r\n\r\n");
                assertEquals("Host: origin.test\n", connection.readResponse().bodyText());
            }
        }
        assertEquals("origin.test", origin.awaitRequests(1, WAIT).get(0).sniHostName());
    }

    @Test
    void nettyClientContextTrustsTheTestCa() throws Exception {
        SslContext sslContext = TestCertificates.nettyClientContext();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            CompletableFuture<String> body = new CompletableFuture<>();
            Channel channel = new Bootstrap().group(group).channel(NioSocketChannel.class)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(sslContext.newHandler(ch.alloc(), "origin.test", origin.port()),
                                    new HttpClientCodec(), new HttpObjectAggregator(1 << 20),
                                    new SimpleChannelInboundHandler<FullHttpResponse>() {
                                        @Override
                                        protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse msg) {
                                            body.complete(msg.content().toString(StandardCharsets.UTF_8));
                                        }

                                        @Override
                                        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                            body.completeExceptionally(cause);
                                            ctx.close();
                                        }
                                    });
                        }
                    })
                    .connect("127.0.0.1", origin.port()).sync().channel();
            FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
            request.headers().set(HttpHeaderNames.HOST, "origin.test");
            channel.writeAndFlush(request);

            assertEquals("origin secure\n", body.get(10, TimeUnit.SECONDS));
            channel.close().sync();
        } finally {
            group.shutdownGracefully(0, 5, TimeUnit.SECONDS).sync();
        }
        assertEquals("origin.test", origin.requests().get(0).sniHostName());
    }

    @Test
    void pemFilesHoldTheCaTheChainAndTheKey() throws Exception {
        TestCertificates.Server server = TestCertificates.server("localhost", "origin.test");
        CertificateFactory x509 = CertificateFactory.getInstance("X.509");

        X509Certificate ca = (X509Certificate) x509.generateCertificate(
                new ByteArrayInputStream(Files.readAllBytes(TestCertificates.caCertificatePem())));
        X509Certificate leaf = (X509Certificate) x509.generateCertificate(
                new ByteArrayInputStream(Files.readAllBytes(server.certificateChainPem())));
        String keyPem = Files.readString(server.privateKeyPem());

        assertEquals(TestCertificates.caCertificate(), ca);
        assertEquals(server.certificate(), leaf);
        leaf.verify(ca.getPublicKey());
        assertTrue(keyPem.startsWith("-----BEGIN PRIVATE KEY-----"), keyPem);
        String base64 = keyPem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        assertEquals(server.privateKey(), KeyFactory.getInstance(server.privateKey().getAlgorithm())
                .generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(base64))));
    }

    @Test
    void certificatesAreCachedPerJvm() {
        assertSame(TestCertificates.server("localhost", "origin.test"),
                TestCertificates.server("localhost", "origin.test"));
        assertSame(TestCertificates.localhost(), TestCertificates.server("localhost"));
        assertSame(TestCertificates.caCertificate(), TestCertificates.caCertificate());
        assertEquals(List.of("localhost", "origin.test"), TestCertificates.server("localhost", "origin.test")
                .dnsNames());
    }
}
