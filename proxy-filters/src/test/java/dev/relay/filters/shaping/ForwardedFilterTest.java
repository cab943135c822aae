package dev.relay.filters.shaping;

import dev.relay.core.FilterSettings;
import dev.relay.core.FilterSettings.InvalidSettingException;
import dev.relay.core.HttpModuleFactory;
import dev.relay.core.RequestHeader;
import dev.relay.core.Session;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

@Timeout(10)
class ForwardedFilterTest {
    private final ForwardedFilterProvider provider = new ForwardedFilterProvider();
    private RequestHeader request;
    private Session session;

    @BeforeEach
    void setUp() {
        request = RequestHeader.of("GET", "/");
        request.headers().set("Host", "site.example:8443");
        session = mock(Session.class);
        when(session.requestHeader()).thenReturn(request);
        when(session.serverAddress()).thenReturn(new InetSocketAddress("192.0.2.1", 8443));
        from("203.0.113.7", false);
    }

    private void from(String address, boolean tls) {
        when(session.clientAddress()).thenReturn(new InetSocketAddress(address, 50000));
        when(session.isTls()).thenReturn(tls);
    }

    private void run(Map<String, ?> settings) {
        HttpModuleFactory factory = provider.create(FilterSettings.of(settings));
        assertTrue(factory.newModule().requestHeaderFilter(session).toCompletableFuture().isDone());
    }

    private String header(String name) {
        List<String> values = request.headers().getAll(name);
        assertTrue(values.size() <= 1, name + ": " + values);
        return values.isEmpty() ? null : values.get(0);
    }

    @Test
    void anUntrustedClientsForwardingFieldsAreReplacedNotAppendedTo() {
        request.headers().add("X-Forwarded-For", "1.2.3.4").add("X-Forwarded-For", "5.6.7.8")
                .add("X-Forwarded-Proto", "https").add("X-Forwarded-Host", "bank.example")
                .add("X-Forwarded-Port", "443").add("Forwarded", "for=1.2.3.4");

        run(Map.of("trusted-proxies", List.of("10.0.0.0/8")));

        assertEquals("203.0.113.7", header("X-Forwarded-For"));
        assertEquals("http", header("X-Forwarded-Proto"));
        assertEquals("site.example:8443", header("X-Forwarded-Host"));
        assertEquals("8443", header("X-Forwarded-Port"));
        assertNull(header("Forwarded"), "a forged Forwarded goes, even in x-forwarded mode");
    }

    @Test
    void anUntrustedClientsOtherClientIpFieldsAreRemovedAndATrustedProxysKept() {
        request.headers().add("X-Real-IP", "1.2.3.4").add("True-Client-IP", "1.2.3.4").add("X-Client-IP", "1.2.3.4");
        run(Map.of("trusted-proxies", List.of("10.0.0.0/8")));
        assertNull(header("X-Real-IP"), "an origin that trusts X-Real-IP would take a forged address");
        assertNull(header("True-Client-IP"));
        assertNull(header("X-Client-IP"));

        setUp();
        from("10.1.2.3", false);
        request.headers().add("X-Real-IP", "198.51.100.9").add("CF-Connecting-IP", "198.51.100.9");
        run(Map.of("trusted-proxies", List.of("10.0.0.0/8"), "client-ip-fields", List.of("CF-Connecting-IP")));
        assertEquals("198.51.100.9", header("X-Real-IP"));
        assertEquals("198.51.100.9", header("CF-Connecting-IP"), "a trusted proxy's are kept");

        setUp();
        request.headers().add("X-Real-IP", "1.2.3.4").add("CF-Connecting-IP", "1.2.3.4");
        run(Map.of("client-ip-fields", List.of("CF-Connecting-IP")));
        assertNull(header("CF-Connecting-IP"));
        assertEquals("1.2.3.4", header("X-Real-IP"), "the list replaces the default");
    }

    @Test
    void aTrustedProxysFieldsAreKeptAndThisHopAppended() {
        from("10.1.2.3", true);
        request.headers().add("X-Forwarded-For", "198.51.100.9").add("X-Forwarded-For", "172.16.0.1")
                .add("X-Forwarded-Proto", "https").add("Forwarded", "for=_hidden;proto=https");

        run(Map.of("mode", "both", "trusted-proxies", List.of("192.168.0.0/16", "10.0.0.0/8")));

        assertEquals("198.51.100.9, 172.16.0.1, 10.1.2.3", header("X-Forwarded-For"));
        assertEquals("https", header("X-Forwarded-Proto"));
        assertEquals("site.example:8443", header("X-Forwarded-Host"));
        assertEquals("for=_hidden;proto=https, for=10.1.2.3;proto=https;host=\"site.example:8443\"", header("Forwarded"));
    }

    @Test
    void forwardedQuotesAndBracketsIpv6AndSaysByWhenAsked() {
        from("2001:db8::17", true);
        request.headers().set("Host", "site.example");

        run(Map.of("mode", "forwarded", "by", "_relay-1"));

        assertEquals("by=_relay-1;for=\"[2001:db8::17]\";proto=https;host=site.example", header("Forwarded"));
        assertNull(header("X-Forwarded-For"), "forwarded mode writes no X-Forwarded-*");
    }

    @Test
    void byListenerNamesTheAcceptingAddress() {
        when(session.serverAddress()).thenReturn(new InetSocketAddress("::1", 80));

        run(Map.of("mode", "forwarded", "by", "listener"));

        assertEquals("by=\"[::1]\";for=203.0.113.7;proto=http;host=\"site.example:8443\"", header("Forwarded"));
    }

    @Test
    void aUnixSocketClientIsTrustedOnlyWithUnixInTheList() {
        SocketAddress unix = UnixDomainSocketAddress.of("/run/relay.sock");
        when(session.clientAddress()).thenReturn(unix);
        request.headers().set("X-Forwarded-For", "198.51.100.9");

        run(Map.of("mode", "both", "trusted-proxies", List.of("unix:")));

        assertEquals("198.51.100.9, unix:", header("X-Forwarded-For"));
        assertEquals("for=unknown;proto=http;host=\"site.example:8443\"", header("Forwarded"));
        ForwardedFilter untrusting = (ForwardedFilter) provider.create(FilterSettings.of(Map.of()));
        assertTrue(!untrusting.trusts(unix));
    }

    @Test
    void quotesAHostThatIsNotAToken() {
        StringBuilder out = new StringBuilder();
        ForwardedFilter.quotedIfNeeded("[2001:db8::1]:8080", out);
        assertEquals("\"[2001:db8::1]:8080\"", out.toString());
    }

    @Test
    void badSettingsNameTheirKey() {
        assertEquals("trusted-proxies[1]", assertThrows(InvalidSettingException.class,
                () -> run(Map.of("trusted-proxies", List.of("10.0.0.0/8", "10.0.0.1/8")))).key());
        assertEquals("trusted-proxies[0]", assertThrows(InvalidSettingException.class,
                () -> run(Map.of("trusted-proxies", List.of("proxy.example")))).key());
        assertEquals("mode", assertThrows(InvalidSettingException.class, () -> run(Map.of("mode", "xff"))).key());
        assertEquals("by", assertThrows(InvalidSettingException.class, () -> run(Map.of("by", "relay"))).key());
        assertEquals("by", assertThrows(InvalidSettingException.class, () -> run(Map.of("by", "_a b"))).key());
        assertEquals("trusted", assertThrows(InvalidSettingException.class, () -> run(Map.of("trusted", "x"))).key());
        assertEquals("client-ip-fields[1]", assertThrows(InvalidSettingException.class,
                () -> run(Map.of("client-ip-fields", List.of("X-Real-IP", "X Real IP")))).key());
    }
}
