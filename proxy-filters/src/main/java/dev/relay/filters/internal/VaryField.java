package dev.relay.filters.internal;

import dev.relay.core.HttpHeaders;

/**
 * The {@code Vary} response field (RFC 9110 §12.5.5): the request fields a response was selected by, as
 * a comma-separated list of names over any number of field lines, or {@code *} for "anything".
 */
public final class VaryField {
    private VaryField() {}

    /**
     * Whether the {@code Vary} fields of {@code headers} already say the response varies by
     * {@code name} (compared without case) or by everything ({@code *}).
     */
    public static boolean covers(HttpHeaders headers, String name) {
        for (String value : headers.getAll("vary")) {
            for (String listed : value.split(",")) {
                String field = listed.strip();
                if (field.equals("*") || field.equalsIgnoreCase(name)) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Adds {@code name} to {@code Vary} unless it is {@linkplain #covers covered} already, as a field
     * line of its own (the other lines are left as the origin sent them).
     */
    public static void addIfMissing(HttpHeaders headers, String name) {
        if (!covers(headers, name)) {
            headers.add("Vary", name);
        }
    }
}
