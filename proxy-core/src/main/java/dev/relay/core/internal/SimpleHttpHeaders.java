package dev.relay.core.internal;

import dev.relay.core.HttpHeaders;

import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

import static java.util.Objects.requireNonNull;

/** An ordered list of fields with case-insensitive lookup; fine for the few fields of a message. */
public final class SimpleHttpHeaders implements HttpHeaders {
    private final List<String> names = new ArrayList<>();
    private final List<String> values = new ArrayList<>();

    @Override
    public String get(CharSequence name) {
        for (int i = 0; i < names.size(); i++) {
            if (names.get(i).equalsIgnoreCase(name.toString())) {
                return values.get(i);
            }
        }
        return null;
    }

    @Override
    public List<String> getAll(CharSequence name) {
        List<String> all = new ArrayList<>(2);
        for (int i = 0; i < names.size(); i++) {
            if (names.get(i).equalsIgnoreCase(name.toString())) {
                all.add(values.get(i));
            }
        }
        return all;
    }

    @Override
    public boolean contains(CharSequence name) {
        return get(name) != null;
    }

    @Override
    public HttpHeaders set(CharSequence name, CharSequence value) {
        // Both checked before anything changes: a rejected set keeps the fields it would have replaced.
        requireNonNull(name, "name");
        requireNonNull(value, "value");
        remove(name);
        return add(name, value);
    }

    @Override
    public HttpHeaders add(CharSequence name, CharSequence value) {
        // Both converted before either list grows: the two lists must stay the same length.
        String n = requireNonNull(name, "name").toString();
        String v = requireNonNull(value, "value").toString();
        names.add(n);
        values.add(v);
        return this;
    }

    @Override
    public boolean remove(CharSequence name) {
        boolean removed = false;
        for (int i = names.size() - 1; i >= 0; i--) {
            if (names.get(i).equalsIgnoreCase(name.toString())) {
                names.remove(i);
                values.remove(i);
                removed = true;
            }
        }
        return removed;
    }

    @Override
    public void clear() {
        names.clear();
        values.clear();
    }

    @Override
    public int size() {
        return names.size();
    }

    @Override
    public void forEach(BiConsumer<String, String> action) {
        for (int i = 0; i < names.size(); i++) {
            action.accept(names.get(i), values.get(i));
        }
    }

    @Override
    public Iterator<Map.Entry<String, String>> iterator() {
        List<Map.Entry<String, String>> entries = new ArrayList<>(names.size());
        forEach((n, v) -> entries.add(new AbstractMap.SimpleImmutableEntry<>(n, v)));
        return entries.iterator();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("[");
        forEach((n, v) -> sb.append(sb.length() > 1 ? ", " : "").append(n).append(": ").append(v));
        return sb.append(']').toString();
    }
}
