package dev.relay.server.internal.metrics;

import dev.relay.core.ClientCertificate;
import dev.relay.core.ErrorType;
import dev.relay.core.HttpPeer;
import dev.relay.core.TlsInfo;
import dev.relay.core.cache.CacheResult;
import dev.relay.server.internal.config.ProxyConfig.AccessLogFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The lines {@link AccessLogFormatter} writes: the documented examples literally, non-ASCII text and
 * JSON escapes, and byte for byte the lines of the {@code StringBuilder} format it replaced, for many
 * generated entries.
 */
@Timeout(60)
class AccessLogFormatterTest {
    private static final long NOV_25_2026_15_07_05_297 = Instant.parse("2026-11-25T15:07:05.297Z").toEpochMilli();

    private static String format(AccessLog.Entry e, AccessLogFormat format, ZoneId zone) {
        LogLineBuffer out = new LogLineBuffer(16);
        new AccessLogFormatter(new LogTimestamps(zone)).format(e, format, out);
        return new String(out.array(), 0, out.length(), StandardCharsets.UTF_8);
    }

    private static AccessLog.Entry proxiedRequest() {
        AccessLog.Entry e = new AccessLog.Entry(null, 0);
        e.epochMillis = NOV_25_2026_15_07_05_297;
        e.client(new InetSocketAddress("127.0.0.1", 50123));
        e.method("GET");
        e.uri("/x?q=1");
        e.protocol("HTTP/1.1");
        e.status = 200;
        e.responseBytes = 9;
        e.userAgent("curl/8.0");
        e.host("api.test");
        e.route("api");
        e.upstream("web");
        e.peer(HttpPeer.plain("10.0.0.11:8080"));
        e.attempts = 1;
        e.upstreamReused = true;
        e.upstreamNanos = 2_400_000;
        e.totalNanos = 3_900_000;
        return e;
    }

    @Test
    void writesTheReadmesCombinedAndJsonLines() {
        AccessLog.Entry e = proxiedRequest();
        assertEquals("127.0.0.1 - - [25/Nov/2026:15:07:05 +0000] \"GET /x?q=1 HTTP/1.1\" 200 9 \"-\" \"curl/8.0\" "
                + "host=api.test route=api upstream=web peer=10.0.0.11:8080 attempts=1 reused=1 connect_time=0.000 "
                + "upstream_time=0.002 request_bytes=0 time=0.003\n", format(e, AccessLogFormat.COMBINED, ZoneOffset.UTC));
        assertEquals("{\"time\":\"2026-11-25T15:07:05.297Z\",\"client\":\"127.0.0.1\",\"method\":\"GET\",\"uri\":\"/x?q=1\","
                + "\"protocol\":\"HTTP/1.1\",\"status\":200,\"request_bytes\":0,\"response_bytes\":9,\"referer\":null,"
                + "\"user_agent\":\"curl/8.0\",\"host\":\"api.test\",\"route\":\"api\",\"upstream\":\"web\","
                + "\"peer\":\"10.0.0.11:8080\",\"attempts\":1,\"upstream_reused\":true,\"upstream_connect_time\":0.000,"
                + "\"upstream_time\":0.002,\"time_total\":0.003,\"error\":null}\n", format(e, AccessLogFormat.JSON, ZoneOffset.UTC));
    }

    @Test
    void aRequestThatEnabledACacheSaysWhatItDidBeforeTheError() {
        AccessLog.Entry e = proxiedRequest();
        e.cache(CacheResult.STALE);
        e.error(ErrorType.CONNECT_REFUSED);

        assertTrue(format(e, AccessLogFormat.COMBINED, ZoneOffset.UTC).endsWith(" time=0.003 cache=stale error=CONNECT_REFUSED\n"));
        assertTrue(format(e, AccessLogFormat.JSON, ZoneOffset.UTC).endsWith(
                ",\"time_total\":0.003,\"cache\":\"stale\",\"error\":\"CONNECT_REFUSED\"}\n"));
    }

    @Test
    void aRequestOfAConfigurationWithARequestIdFilterHasItsIdBeforeTheCacheField() {
        AccessLog.Entry e = proxiedRequest();
        e.requestIdField = true;
        e.requestId("3b241101-e2bb-4255-8caf-4136c566a962");
        e.cache(CacheResult.HIT);

        assertTrue(format(e, AccessLogFormat.COMBINED, ZoneOffset.UTC).endsWith(
                " time=0.003 request_id=3b241101-e2bb-4255-8caf-4136c566a962 cache=hit\n"));
        assertTrue(format(e, AccessLogFormat.JSON, ZoneOffset.UTC).endsWith(
                ",\"time_total\":0.003,\"request_id\":\"3b241101-e2bb-4255-8caf-4136c566a962\",\"cache\":\"hit\",\"error\":null}\n"));

        e.requestId(null);
        e.cache(null);
        assertTrue(format(e, AccessLogFormat.COMBINED, ZoneOffset.UTC).endsWith(" time=0.003 request_id=-\n"));
        assertTrue(format(e, AccessLogFormat.JSON, ZoneOffset.UTC).endsWith(",\"time_total\":0.003,\"request_id\":null,\"error\":null}\n"));
    }

    @Test
    void aRequestIdIsEscapedAsNginxEscapesSoItCannotWriteFieldsOfItsOwn() {
        AccessLog.Entry e = proxiedRequest();
        e.requestIdField = true;
        e.requestId("x\" error=CONNECT_REFUSED\\cache=hit\n\u00e9");

        String combined = format(e, AccessLogFormat.COMBINED, ZoneOffset.UTC);
        assertTrue(combined.endsWith(" time=0.003 request_id=x\\x22\\x20error=CONNECT_REFUSED\\x5ccache=hit\\x0a\\xc3\\xa9\n"),
                combined);
        assertTrue(format(e, AccessLogFormat.JSON, ZoneOffset.UTC).contains(
                ",\"request_id\":\"x\\\" error=CONNECT_REFUSED\\\\cache=hit\\n\u00e9\","));
    }

    @Test
    void writesTheLocalOffsetOfTheServersZone() {
        AccessLog.Entry e = proxiedRequest();
        String combined = format(e, AccessLogFormat.COMBINED, ZoneId.of("Asia/Kolkata"));
        assertTrue(combined.startsWith("127.0.0.1 - - [25/Nov/2026:20:37:05 +0530] \"GET /x"), combined);
        String json = format(e, AccessLogFormat.JSON, ZoneId.of("Asia/Kolkata"));
        assertTrue(json.startsWith("{\"time\":\"2026-11-25T20:37:05.297+05:30\",\"client\""), json);
    }

    @Test
    void writesNonAsciiTextInUtf8AsTheLoggingFrameworkDid() {
        AccessLog.Entry e = proxiedRequest();
        // A URI as the HTTP/1.1 decoder gives it (one char per byte: "é" sent in UTF-8 is two chars),
        // a route name from the configuration (real Unicode), and an emoji beside a lone surrogate.
        e.uri("/caf\u00c3\u00a9?x=\u00ff");
        e.route("caf\u00e9-\u4e2d");
        e.userAgent("Mozilla \uD83D\uDE00 \uD800!");
        for (AccessLogFormat format : AccessLogFormat.values()) {
            String oracle = format == AccessLogFormat.JSON ? StringBuilderAccessLogFormat.json(e) : StringBuilderAccessLogFormat.combined(e);
            assertArrayEquals((oracle + "\n").getBytes(StandardCharsets.UTF_8), bytes(e, format), format.name());
        }
        String combined = format(e, AccessLogFormat.COMBINED, ZoneOffset.UTC);
        assertTrue(combined.contains("\"GET /caf\u00c3\u00a9?x=\u00ff HTTP/1.1\""), combined);
        assertTrue(combined.contains(" route=caf\u00e9-\u4e2d "), combined);
        // The lone surrogate becomes '?', as String.getBytes(UTF_8) writes it.
        assertTrue(combined.contains("\"Mozilla \uD83D\uDE00 ?!\""), combined);
        byte[] line = bytes(e, AccessLogFormat.COMBINED);
        int at = new String(line, StandardCharsets.ISO_8859_1).indexOf(" route=") + 7;
        assertArrayEquals(new byte[] {'c', 'a', 'f', (byte) 0xc3, (byte) 0xa9, '-', (byte) 0xe4, (byte) 0xb8, (byte) 0xad, ' '},
                Arrays.copyOfRange(line, at, at + 10));
    }

    @Test
    void escapesQuotesBackslashesAndControlCharactersInJson() {
        AccessLog.Entry e = proxiedRequest();
        e.userAgent("a\"b\\c\n\r\t\u0001\u001f\u007f\u00e9");
        e.referer("");
        String json = format(e, AccessLogFormat.JSON, ZoneOffset.UTC);
        assertTrue(json.contains(",\"referer\":\"\",\"user_agent\":\"a\\\"b\\\\c\\n\\r\\t\\u0001\\u001f\u007f\u00e9\","), json);
        // combined escapes as nginx does (a quote, a backslash or a line break from the client cannot end
        // the field or the line), keeps other text in UTF-8, and writes an empty referer as "-".
        String combined = format(e, AccessLogFormat.COMBINED, ZoneOffset.UTC);
        assertTrue(combined.contains(" \"-\" \"a\\x22b\\x5cc\\x0a\\x0d\\x09\\x01\\x1f\\x7f\u00e9\" host="), combined);
        e.uri("/a\" 200 0 \"-\" \"forged\"\n1.2.3.4 - - [x] \"GET /");
        String forged = format(e, AccessLogFormat.COMBINED, ZoneOffset.UTC);
        assertEquals(1, forged.split("\n", -1).length - 1, forged);
        assertTrue(forged.contains("\"GET /a\\x22 200 0 \\x22-\\x22 \\x22forged\\x22\\x0a1.2.3.4 - - [x] \\x22GET / HTTP/1.1\""), forged);
    }

    @Test
    void writesStreamLinesWithTheirTlsFields() {
        AccessLog.Entry e = new AccessLog.Entry(null, 0);
        e.epochMillis = NOV_25_2026_15_07_05_297 - 297;
        e.stream("tls-db");
        e.client(UnixDomainSocketAddress.of("/run/x.sock"));
        e.upstream("db");
        e.peer(HttpPeer.plain("10.0.0.12:5432"));
        e.attempts = 2;
        e.requestBytes = 46;
        e.responseBytes = 144;
        e.totalNanos = 1_234_000_000;
        e.end("completed");
        e.error(ErrorType.CONNECT_REFUSED);
        e.tls(new TlsInfo("TLSv1.3", "TLS_AES_128_GCM_SHA256", "db.test", null, new ClientCertificate("CN=alice",
                "CN=ca", List.of(), "ab", "01", Instant.EPOCH, Instant.EPOCH, ClientCertificate.Verification.FAILED, "expired")));
        assertEquals("unix - - [25/Nov/2026:15:07:05 +0000] stream=tls-db upstream=db peer=10.0.0.12:5432 attempts=2 "
                + "request_bytes=46 response_bytes=144 time=1.234 end=completed error=CONNECT_REFUSED tls=TLSv1.3 "
                + "sni=db.test client_verify=FAILED:expired\n", format(e, AccessLogFormat.COMBINED, ZoneOffset.UTC));
        assertEquals("{\"time\":\"2026-11-25T15:07:05Z\",\"stream\":\"tls-db\",\"client\":\"unix\",\"upstream\":\"db\","
                + "\"peer\":\"10.0.0.12:5432\",\"attempts\":2,\"request_bytes\":46,\"response_bytes\":144,\"time_total\":1.234,"
                + "\"end\":\"completed\",\"error\":\"CONNECT_REFUSED\",\"tls\":\"TLSv1.3\",\"sni\":\"db.test\","
                + "\"client_verify\":\"FAILED:expired\",\"client_subject\":\"CN=alice\"}\n", format(e, AccessLogFormat.JSON, ZoneOffset.UTC));
    }

    @Test
    void writesTheLinesOfTheStringBuilderFormatByteForByte() {
        Random random = new Random(11);
        for (int i = 0; i < 5000; i++) {
            AccessLog.Entry e = randomEntry(random);
            for (AccessLogFormat format : AccessLogFormat.values()) {
                String oracle = format == AccessLogFormat.JSON ? StringBuilderAccessLogFormat.json(e) : StringBuilderAccessLogFormat.combined(e);
                byte[] expected = (oracle + "\n").getBytes(StandardCharsets.UTF_8);
                byte[] actual = bytes(e, format);
                if (!Arrays.equals(expected, actual)) {
                    assertEquals(oracle + "\n", new String(actual, StandardCharsets.UTF_8), "entry " + i + ", " + format);
                    assertArrayEquals(expected, actual, "entry " + i + ", " + format);
                }
            }
        }
    }

    /** In the server's zone, as the {@code StringBuilder} format wrote it. */
    private static byte[] bytes(AccessLog.Entry e, AccessLogFormat format) {
        LogLineBuffer out = new LogLineBuffer(16);
        new AccessLogFormatter(new LogTimestamps(ZoneId.systemDefault())).format(e, format, out);
        return Arrays.copyOf(out.array(), out.length());
    }

    private static final String[] TEXTS = {
        null, "", "-", "GET", "/index.html?a=b&c=%20", "curl/8.0", "a\"b", "back\\slash", "tab\there", "nl\ncr\r",
        "\u0000\u0001\u001f\u007f", "caf\u00e9", "\u00c3\u00a9", "\u4e2d\u6587", "\uD83D\uDE00", "\uDC00lone", "x\uD800",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    };

    private static String text(Random random) {
        String a = TEXTS[random.nextInt(TEXTS.length)];
        return random.nextInt(4) == 0 && a != null ? a + TEXTS[1 + random.nextInt(TEXTS.length - 1)] : a;
    }

    private static AccessLog.Entry randomEntry(Random random) {
        AccessLog.Entry e = new AccessLog.Entry(null, 0);
        // 1950 to 2100, any millisecond (a whole second and trailing zeros included).
        e.epochMillis = -631_152_000_000L + (long) (random.nextDouble() * 4_733_510_400_000L);
        if (random.nextInt(3) == 0) {
            e.epochMillis -= Math.floorMod(e.epochMillis, 1000) - random.nextInt(10) * 100L;
        }
        e.client(client(random));
        e.method(text(random));
        e.uri(text(random));
        e.protocol(random.nextBoolean() ? "HTTP/1.1" : text(random));
        e.status = random.nextInt(600);
        e.requestBytes = random.nextInt(3) == 0 ? random.nextLong() & Long.MAX_VALUE : random.nextInt(100_000);
        e.responseBytes = random.nextInt(3) == 0 ? -1 : random.nextInt(1 << 20);
        e.referer(text(random));
        e.userAgent(text(random));
        e.host(text(random));
        e.route(text(random));
        e.upstream(text(random));
        e.peer(random.nextBoolean() ? null : random.nextBoolean() ? HttpPeer.plain("10.0.0." + random.nextInt(256) + ":8080")
                : HttpPeer.unix(Path.of("/run/origin.sock")));
        e.attempts = random.nextInt(4);
        e.upstreamReused = random.nextBoolean();
        e.upstreamConnectNanos = random.nextInt(5) == 0 ? -5 : random.nextInt(2_000_000_000);
        e.upstreamNanos = random.nextInt(2_000_000_000);
        e.totalNanos = random.nextInt(4) == 0 ? random.nextLong() & Long.MAX_VALUE : random.nextInt(2_000_000_000);
        e.error(random.nextBoolean() ? null : ErrorType.values()[random.nextInt(ErrorType.values().length)]);
        if (random.nextInt(4) == 0) {
            e.stream(random.nextBoolean() ? "db" : "str\"eam\u00e9");
            e.end(random.nextBoolean() ? null : text(random));
            e.tls(random.nextBoolean() ? null : new TlsInfo(random.nextBoolean() ? "TLSv1.3" : "TLSv1.2",
                    "TLS_AES_128_GCM_SHA256", text(random), null, null));
        }
        return e;
    }

    private static SocketAddress client(Random random) {
        return switch (random.nextInt(6)) {
            case 0 -> null;
            case 1 -> UnixDomainSocketAddress.of("/run/relay.sock");
            case 2 -> new InetSocketAddress("::1", 443);
            case 3 -> new InetSocketAddress("2001:db8::" + Integer.toHexString(random.nextInt(65536)), 443);
            case 4 -> InetSocketAddress.createUnresolved("client.test", 80);
            default -> new InetSocketAddress((random.nextInt(256)) + "." + random.nextInt(256) + "." + random.nextInt(256)
                    + "." + random.nextInt(256), 1 + random.nextInt(65535));
        };
    }
}
