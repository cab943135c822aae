package dev.relay.filters.shaping;

import dev.relay.core.ErrorSource;
import dev.relay.core.FilterSettings;
import dev.relay.core.FilterSettings.InvalidSettingException;
import dev.relay.core.ProxyError;
import dev.relay.core.RequestHeader;
import dev.relay.core.ResponseHeader;
import dev.relay.core.Session;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mockito.ArgumentCaptor;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

@Timeout(10)
class RewriteFilterTest {
    private final RewriteFilterProvider provider = new RewriteFilterProvider();

    private static Map<String, Object> rule(Object... keysAndValues) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            map.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return map;
    }

    private RewriteFilter filter(List<Map<String, Object>> rules) {
        return (RewriteFilter) provider.create(FilterSettings.of(Map.of("rules", rules)));
    }

    /** The target after the rules, or {@code "=> status location"} for a redirect. */
    private static String target(RewriteFilter filter, String uri) {
        RequestHeader request = RequestHeader.of("GET", uri);
        RewriteFilter.Redirect redirect = filter.apply(request);
        return redirect == null ? request.uri() : "=> " + redirect.status() + " " + redirect.location();
    }

    private InvalidSettingException invalid(List<Map<String, Object>> rules) {
        return assertThrows(InvalidSettingException.class, () -> filter(rules));
    }

    @Test
    void rewritesThePathAndKeepsTheQueryAsNginxDoes() {
        RewriteFilter filter = filter(List.of(
                rule("match", "^/old/(.*)$", "replace", "/new/$1"),
                rule("match", "^/search$", "replace", "/find?engine=relay"),
                rule("match", "^/clean/(.*)", "replace", "/$1?")));

        assertEquals("/new/a/b.html?x=1&y=2", target(filter, "/old/a/b.html?x=1&y=2"));
        assertEquals("/new/", target(filter, "/old/"));
        assertEquals("/find?engine=relay&q=proxy", target(filter, "/search?q=proxy"));
        assertEquals("/find?engine=relay", target(filter, "/search"));
        assertEquals("/page", target(filter, "/clean/page?utm=spam"));
        assertEquals("/a?b=c", RewriteFilter.withQuery("/a?b=c?", "old=1"), "only a final ? drops the query");
        assertEquals("/other?old=1", target(filter, "/other?old=1"));
        assertEquals("/old?q=/old/x", target(filter, "/old?q=/old/x"), "the query is not matched");
    }

    @Test
    void theFirstMatchWinsUnlessItSaysContinue() {
        RewriteFilter filter = filter(List.of(
                rule("match", "^/v1/(.*)", "replace", "/api/v1/$1", "continue", true),
                rule("match", "^/api/(?<rest>.*)$", "replace", "/backend/${rest}"),
                rule("match", "^/backend/", "replace", "/never")));

        assertEquals("/backend/v1/users?id=3", target(filter, "/v1/users?id=3"));
        assertEquals("/backend/x", target(filter, "/api/x"));
    }

    @Test
    void redirectsWithTheStatusALocationAndAShortBody() {
        RewriteFilter filter = filter(List.of(
                rule("match", "^/blog/(.*)", "redirect", "https://blog.example/$1", "status", 301),
                rule("match", "^/temp$", "redirect", "/elsewhere")));
        assertEquals("=> 301 https://blog.example/post/1?ref=x", target(filter, "/blog/post/1?ref=x"));
        assertEquals("=> 302 /elsewhere", target(filter, "/temp"));

        Session session = mock(Session.class);
        when(session.requestHeader()).thenReturn(RequestHeader.of("GET", "/blog/a"));
        assertTrue(filter.newModule().requestHeaderFilter(session).toCompletableFuture().isDone());
        ArgumentCaptor<ResponseHeader> header = ArgumentCaptor.forClass(ResponseHeader.class);
        ArgumentCaptor<byte[]> body = ArgumentCaptor.forClass(byte[].class);
        verify(session).respond(header.capture(), body.capture());
        assertEquals(301, header.getValue().status());
        assertEquals("https://blog.example/a", header.getValue().headers().get("Location"));
        assertEquals("Redirecting to https://blog.example/a\n", new String(body.getValue(), StandardCharsets.UTF_8));
    }

    @Test
    void aResultStartingWithTwoSlashesIsMergedSoNoMatchLeavesTheSite() {
        RewriteFilter rewrite = filter(List.of(rule("match", "^/old/(.*)", "replace", "/$1")));
        assertEquals("/evil.com/x?q=1", target(rewrite, "/old//evil.com/x?q=1"), "not a network-path target upstream");
        assertEquals("/evil.com", target(rewrite, "/old/\\evil.com"));
        assertEquals("/evil.com", target(rewrite, "/old///\\/evil.com"));
        assertEquals("/a//b", target(rewrite, "/old/a//b"), "only the leading run: the rest of the path is the client's");

        RewriteFilter redirect = filter(List.of(rule("match", "^/go/(.*)", "redirect", "/$1", "status", 301),
                rule("match", "^/site/(.*)", "redirect", "https://site.example/$1")));
        assertEquals("=> 301 /evil.com", target(redirect, "/go//evil.com"));
        assertEquals("=> 301 /evil.com", target(redirect, "/go/\\evil.com"));
        assertEquals("=> 302 https://site.example//x", target(redirect, "/site//x"), "a URL's path is not the host");

        Session session = mock(Session.class);
        when(session.requestHeader()).thenReturn(RequestHeader.of("GET", "/go//evil.com/login"));
        redirect.newModule().requestHeaderFilter(session);
        ArgumentCaptor<ResponseHeader> header = ArgumentCaptor.forClass(ResponseHeader.class);
        verify(session).respond(header.capture(), any(byte[].class));
        assertEquals("/evil.com/login", header.getValue().headers().get("Location"));
    }

    @Test
    void leavesTargetsThatAreNotPathsAlone() {
        RewriteFilter filter = filter(List.of(rule("match", ".*", "replace", "/x")));
        assertEquals("*", target(filter, "*"));
        assertEquals("/x", target(filter, "/anything"));
    }

    @Test
    void aPathOverTheCapIsAnswered414BeforeAnyPatternRuns() {
        RewriteFilter filter = (RewriteFilter) provider.create(FilterSettings.of(Map.of(
                "rules", List.of(rule("match", "^(a+)+$", "replace", "/never")), "max-path-length", 64)));
        Session session = mock(Session.class);
        when(session.requestHeader()).thenReturn(RequestHeader.of("GET", "/" + "a".repeat(200) + "!"));

        CompletableFuture<Void> stage = filter.newModule().requestHeaderFilter(session).toCompletableFuture();

        ProxyError e = (ProxyError) assertThrows(CompletionException.class, stage::join).getCause();
        assertEquals(414, e.httpStatus());
        assertEquals(ErrorSource.DOWNSTREAM, e.source());
        verify(session, org.mockito.Mockito.never()).respond(any(), any());
    }

    @Test
    void replacementSyntax() {
        RewriteFilter filter = filter(List.of(
                rule("match", "^/(\\w+)/(\\w+)/(\\w+)/(\\w+)/(\\w+)/(\\w+)/(\\w+)/(\\w+)/(\\w+)/(\\w+)$",
                        "replace", "/${10}/$1\\$/$0"),
                rule("match", "^/opt(/x)?/(.*)", "replace", "/o$1-$2")));
        assertEquals("/j/a$//a/b/c/d/e/f/g/h/i/j", target(filter, "/a/b/c/d/e/f/g/h/i/j"));
        assertEquals("/o-y", target(filter, "/opt/y"), "a group that took no part is empty");
    }

    @Test
    void badRulesFailAtLoadNamingTheirKey() {
        assertEquals("rules[1].match", invalid(List.of(rule("match", "^/a", "replace", "/b"),
                rule("match", "^/(", "replace", "/c"))).key());
        assertEquals("rules[0].replace", invalid(List.of(rule("match", "^/(a)", "replace", "/$2"))).key());
        assertEquals("rules[0].replace", invalid(List.of(rule("match", "^/(a)", "replace", "/${name}"))).key());
        assertEquals("rules[0].replace", invalid(List.of(rule("match", "^/(a)", "replace", "/cost$"))).key());
        assertEquals("rules[0].replace", invalid(List.of(rule("match", "^/(a)", "replace", "$1"))).key());
        assertEquals("rules[0].replace", invalid(List.of(rule("match", "^/(a)", "replace", "/a b"))).key());
        assertEquals("rules[0].replace", invalid(List.of(rule("match", "^/(a)", "replace", "/a#frag"))).key());
        assertEquals("rules[0].redirect", invalid(List.of(rule("match", "^/a", "redirect", "ftp://x/"))).key());
        assertEquals("rules[0].status", invalid(List.of(rule("match", "^/a", "redirect", "/b", "status", 200))).key());
        assertEquals("rules[0].status", invalid(List.of(rule("match", "^/a", "replace", "/b", "status", 301))).key());
        assertEquals("rules[0].continue", invalid(List.of(rule("match", "^/a", "redirect", "/b", "continue", true))).key());
        assertEquals("rules[0].replace", invalid(List.of(rule("match", "^/a"))).key());
        assertEquals("rules[0].redirect", invalid(List.of(rule("match", "^/a", "replace", "/b", "redirect", "/c"))).key());
        assertEquals("rules[0].match", invalid(List.of(rule("replace", "/b"))).key());
        assertEquals("rules[0].flag", invalid(List.of(rule("match", "^/a", "replace", "/b", "flag", "last"))).key());
        assertEquals("rules", invalid(List.of()).key());
        assertEquals("max-path-length", assertThrows(InvalidSettingException.class, () -> provider.create(
                FilterSettings.of(Map.of("rules", List.of(rule("match", "a", "replace", "/b")), "max-path-length", 0)))).key());
        InvalidSettingException group = invalid(List.of(rule("match", "^/(a)", "replace", "/$2")));
        assertTrue(group.getMessage().contains("refers to group 2 but the pattern '^/(a)' has 1"), group.getMessage());
    }

    @Test
    void aRuleWithoutAMatchLeavesTheRequestAsItIs() {
        RequestHeader request = RequestHeader.of("GET", "/keep?x");
        assertNull(filter(List.of(rule("match", "^/other", "replace", "/b"))).apply(request));
        assertEquals("/keep?x", request.uri());
    }
}
