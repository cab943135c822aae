package dev.relay.core;

import org.jspecify.annotations.Nullable;

import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * A mutable, multi-valued HTTP header map. Lookup ignores case; iteration keeps the order in
 * which fields arrived and the case in which their names were written, so a proxy forwards a
 * message the way it received it.
 *
 * <p>Implementations are not thread-safe: a header belongs to one request, used on its event loop.
 */
public interface HttpHeaders extends Iterable<Map.Entry<String, String>> {

    /** Creates an empty header map (the plain implementation, for tests and non-Netty use). */
    static HttpHeaders create() {
        return new dev.relay.core.internal.SimpleHttpHeaders();
    }

    /** The first value of {@code name}, or {@code null} when the field is absent. */
    @Nullable String get(CharSequence name);

    /** Every value of {@code name} in arrival order; empty when the field is absent. */
    List<String> getAll(CharSequence name);

    /** Whether at least one field named {@code name} is present. */
    boolean contains(CharSequence name);

    /** Replaces every field named {@code name} by one field with {@code value}. */
    HttpHeaders set(CharSequence name, CharSequence value);

    /** Appends a field, keeping existing fields of the same name. */
    HttpHeaders add(CharSequence name, CharSequence value);

    /** Removes every field named {@code name}; returns whether one was present. */
    boolean remove(CharSequence name);

    /** Removes every field. */
    void clear();

    /** The number of fields (a multi-valued name counts once per value). */
    int size();

    /** Whether there are no fields. */
    default boolean isEmpty() {
        return size() == 0;
    }

    /** Calls {@code action} for each field in order, with the name as written. */
    void forEach(BiConsumer<String, String> action);

    /**
     * Copies the first value of {@code name} into {@code into} from {@code at}, one byte per
     * character as the value travels (ISO-8859-1; a character above {@code 0xFF} as {@code '?'}, as
     * the HTTP/1.1 encoder writes it), for a reader that keeps values as bytes: the Netty engine's
     * headers copy a value that arrived on the wire straight from the bytes it came in, no
     * {@code String} made. Nothing is copied when the value does not fit: call again with room.
     *
     * @return the value's length in bytes, or -1 when the field is absent
     */
    default int copyValue(CharSequence name, byte[] into, int at) {
        String value = get(name);
        if (value == null) {
            return -1;
        }
        int length = value.length();
        if (length <= into.length - at) {
            for (int i = 0; i < length; i++) {
                char c = value.charAt(i);
                into[at + i] = c <= 0xff ? (byte) c : (byte) '?';
            }
        }
        return length;
    }
}
