package dev.relay.server.testing;

import com.google.inject.Injector;
import com.google.inject.Key;
import com.google.inject.TypeLiteral;
import dev.relay.server.HttpProxyService;
import dev.relay.server.Server;
import dev.relay.server.internal.ConfigModule.ConfigSource;
import dev.relay.server.internal.FilterRegistry;
import dev.relay.server.internal.ServerAssembly;
import dev.relay.server.internal.admin.AdminServer;
import dev.relay.server.internal.config.ConfigLoader;
import dev.relay.server.internal.config.ProxyConfig;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The configured server assembled in this JVM from a configuration file (so that reloads re-read
 * it), with its admin listener; for tests. {@link #close()} stops it at once.
 */
public final class InProcessRelay implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    public final Path file;
    public final Injector injector;
    public final Server server;

    /** Writes {@code conf} to {@code file} and starts a server on it. */
    public InProcessRelay(Path file, String conf) throws IOException {
        this.file = file;
        Files.writeString(file, conf);
        FilterRegistry registry = FilterRegistry.load(getClass().getClassLoader());
        ProxyConfig config = new ConfigLoader(registry).load(file);
        injector = ServerAssembly.injector(config, new ConfigSource(file), registry, List.of());
        server = ServerAssembly.instance(injector, Server.class);
        server.start();
    }

    /** The proxy's first listener. */
    public InetSocketAddress proxy() {
        return injector.getInstance(HttpProxyService.class).boundAddresses().get(0);
    }

    /** The proxy service. */
    public HttpProxyService service() {
        return injector.getInstance(HttpProxyService.class);
    }

    /** The admin listener. */
    public InetSocketAddress admin() {
        return injector.getInstance(Key.get(new TypeLiteral<Optional<AdminServer>>() {})).orElseThrow().boundAddress();
    }

    /** {@code GET path} on the admin listener. */
    public HttpResponse<String> adminGet(String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(adminUri(path)).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** {@code POST path} on the admin listener. */
    public HttpResponse<String> adminPost(String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(adminUri(path)).timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    private URI adminUri(String path) {
        InetSocketAddress a = admin();
        return URI.create("http://" + a.getAddress().getHostAddress() + ":" + a.getPort() + path);
    }

    /** The admin listener's {@code /upstreams} JSON (which must answer 200). */
    public String upstreamsJson() {
        try {
            HttpResponse<String> r = adminGet("/upstreams");
            if (r.statusCode() != 200) {
                throw new AssertionError("/upstreams answered " + r.statusCode() + ": " + r.body());
            }
            return r.body();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** The {@code field} of backend {@code address} in {@link #upstreamsJson()}; null when absent. */
    public String backendField(String address, String field) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                "\\{\"address\":\"" + java.util.regex.Pattern.quote(address) + "\"[^}]*}").matcher(upstreamsJson());
        if (!m.find()) {
            return null;
        }
        java.util.regex.Matcher f = java.util.regex.Pattern.compile("\"" + field + "\":([^,}]*)").matcher(m.group());
        return f.find() ? f.group(1) : null;
    }

    /**
     * The value of the series {@code series} (name and labels as the exposition writes them, e.g.
     * {@code relay_x_total{a="b"}}) in {@code GET /metrics}; null when absent.
     */
    public String metric(String series) {
        try {
            for (String line : adminGet("/metrics").body().split("\n")) {
                if (line.startsWith(series + " ")) {
                    return line.substring(series.length() + 1);
                }
            }
            return null;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Rewrites the configuration file (for a reload). */
    public void rewrite(String conf) throws IOException {
        Files.writeString(file, conf);
    }

    @Override
    public void close() {
        server.close();
    }
}
