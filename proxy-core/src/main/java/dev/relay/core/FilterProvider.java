package dev.relay.core;

/**
 * The service-provider interface of a filter jar: {@code java.util.ServiceLoader} finds every
 * implementation named in {@code META-INF/services/dev.relay.core.FilterProvider}, and the server
 * makes each available in its configuration under {@link #name()}.
 *
 * <pre>{@code
 * public final class AddHeaderProvider implements FilterProvider {
 *     public String name() { return "add-header"; }
 *     public HttpModuleFactory create(FilterSettings settings) { ... }
 * }
 * }</pre>
 */
public interface FilterProvider {

    /** The name by which configurations refer to this filter; unique on the classpath. */
    String name();

    /**
     * Creates a module factory from the filter's settings. Validate everything here: throw
     * {@link FilterSettings.InvalidSettingException} naming the key, so a bad configuration fails at
     * load time, not on the first request.
     */
    HttpModuleFactory create(FilterSettings settings);
}
