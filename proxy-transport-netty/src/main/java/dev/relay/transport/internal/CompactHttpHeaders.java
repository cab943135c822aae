package dev.relay.transport.internal;

import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.HttpHeaderValidationUtil;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;

import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Calendar;
import java.util.Collections;
import java.util.Date;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.TreeSet;

/**
 * The header fields of one HTTP/1.1 message as one flat array of names and values, in arrival order.
 *
 * <p>Netty's {@code DefaultHttpHeaders} is a hash table: a table of 16 buckets and an entry object
 * per field, every name hashed on insertion. A proxied message has a dozen fields or fewer, read a
 * handful of times and then written out in order, so a linear scan of one array (names compared by
 * length first, then ASCII-case-insensitively) costs less to build and as little to search: one
 * object and one array per message. The fields are kept as the decoder made them ({@code AsciiString}s
 * over the received bytes) and written out by {@link Http1Encoder} straight from the array.
 *
 * <p>Fields added through the public methods are validated like Netty's (a name must be a token, a
 * value must not contain CR, LF or NUL), so a filter cannot split a message; the decoder and the
 * upstream copy add fields they have validated already through {@link #addTrusted}.
 */
public final class CompactHttpHeaders extends HttpHeaders {
    private static final int INITIAL_FIELDS = 12;
    private static final CharSequence[] NONE = {};

    /** name0, value0, name1, value1, ...; {@code size} fields in use. */
    private CharSequence[] fields;
    private int size;

    /** Empty headers with room for a typical message's fields (allocated on the first add). */
    public CompactHttpHeaders() {
        fields = NONE;
    }

    /** Empty headers with room for {@code fields} fields (the decoder counted them). */
    public CompactHttpHeaders(int fields) {
        this.fields = fields <= 0 ? NONE : new CharSequence[fields << 1];
    }

    private CompactHttpHeaders(CharSequence[] fields, int size) {
        this.fields = fields;
        this.size = size;
    }

    // ---------------------------------------------------------------------------------------------
    // Trusted access for the codec

    /** Adds a field the caller validated already (the decoder, a copy of validated fields). */
    public void addTrusted(CharSequence name, CharSequence value) {
        int at = size << 1;
        if (at == fields.length) {
            fields = Arrays.copyOf(fields, fields.length == 0 ? INITIAL_FIELDS * 2 : fields.length * 2);
        }
        fields[at] = name;
        fields[at + 1] = value;
        size++;
    }

    /** The name of field {@code i} (0 ≤ i &lt; {@link #size()}), as stored. */
    public CharSequence nameAt(int i) {
        return fields[i << 1];
    }

    /** The value of field {@code i} (0 ≤ i &lt; {@link #size()}), as stored. */
    public CharSequence valueAt(int i) {
        return fields[(i << 1) + 1];
    }

    /** A copy of {@code headers}' fields without validating them again (they were, when they were added). */
    public static CompactHttpHeaders copyOf(HttpHeaders headers) {
        if (headers instanceof CompactHttpHeaders compact) {
            int n = compact.size << 1;
            return new CompactHttpHeaders(Arrays.copyOf(compact.fields, Math.max(n + 4, INITIAL_FIELDS * 2)),
                    compact.size);
        }
        CompactHttpHeaders copy = new CompactHttpHeaders();
        Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence();
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            copy.addTrusted(e.getKey(), e.getValue());
        }
        return copy;
    }

    // ---------------------------------------------------------------------------------------------
    // Lookups

    private int indexOf(CharSequence name, int from) {
        int length = name.length();
        CharSequence[] f = fields;
        for (int i = from << 1, end = size << 1; i < end; i += 2) {
            CharSequence n = f[i];
            if (n == name || n.length() == length && AsciiString.contentEqualsIgnoreCase(n, name)) {
                return i >> 1;
            }
        }
        return -1;
    }

    @Override
    public String get(String name) {
        return get((CharSequence) name);
    }

    @Override
    public String get(CharSequence name) {
        int i = indexOf(name, 0);
        return i < 0 ? null : fields[(i << 1) + 1].toString();
    }

    /** The first value of {@code name} as stored (no String made), or null. */
    public CharSequence getCharSequence(CharSequence name) {
        int i = indexOf(name, 0);
        return i < 0 ? null : fields[(i << 1) + 1];
    }

    @Override
    public Integer getInt(CharSequence name) {
        CharSequence v = getCharSequence(name);
        if (v == null) {
            return null;
        }
        try {
            return Integer.parseInt(v.toString().trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    @Override
    public int getInt(CharSequence name, int defaultValue) {
        Integer v = getInt(name);
        return v == null ? defaultValue : v;
    }

    @Override
    public Short getShort(CharSequence name) {
        CharSequence v = getCharSequence(name);
        if (v == null) {
            return null;
        }
        try {
            return Short.parseShort(v.toString().trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    @Override
    public short getShort(CharSequence name, short defaultValue) {
        Short v = getShort(name);
        return v == null ? defaultValue : v;
    }

    @Override
    public Long getTimeMillis(CharSequence name) {
        CharSequence v = getCharSequence(name);
        if (v == null) {
            return null;
        }
        Date date = DateFormatter.parseHttpDate(v);
        return date == null ? null : date.getTime();
    }

    @Override
    public long getTimeMillis(CharSequence name, long defaultValue) {
        Long v = getTimeMillis(name);
        return v == null ? defaultValue : v;
    }

    @Override
    public List<String> getAll(String name) {
        return getAll((CharSequence) name);
    }

    @Override
    public List<String> getAll(CharSequence name) {
        int i = indexOf(name, 0);
        if (i < 0) {
            return Collections.emptyList();
        }
        List<String> values = new ArrayList<>(2);
        do {
            values.add(fields[(i << 1) + 1].toString());
            i = indexOf(name, i + 1);
        } while (i >= 0);
        return values;
    }

    @Override
    public Iterator<String> valueStringIterator(CharSequence name) {
        return getAll(name).iterator();
    }

    @Override
    public Iterator<? extends CharSequence> valueCharSequenceIterator(CharSequence name) {
        List<CharSequence> values = new ArrayList<>(2);
        for (int i = indexOf(name, 0); i >= 0; i = indexOf(name, i + 1)) {
            values.add(fields[(i << 1) + 1]);
        }
        return values.iterator();
    }

    @Override
    public List<Map.Entry<String, String>> entries() {
        List<Map.Entry<String, String>> entries = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            entries.add(new AbstractMap.SimpleImmutableEntry<>(fields[i << 1].toString(), fields[(i << 1) + 1].toString()));
        }
        return entries;
    }

    @Override
    public boolean contains(String name) {
        return indexOf(name, 0) >= 0;
    }

    @Override
    public boolean contains(CharSequence name) {
        return indexOf(name, 0) >= 0;
    }

    @Override
    public boolean contains(String name, String value, boolean ignoreCase) {
        return contains((CharSequence) name, value, ignoreCase);
    }

    @Override
    public boolean contains(CharSequence name, CharSequence value, boolean ignoreCase) {
        for (int i = indexOf(name, 0); i >= 0; i = indexOf(name, i + 1)) {
            CharSequence v = fields[(i << 1) + 1];
            if (ignoreCase ? AsciiString.contentEqualsIgnoreCase(v, value) : AsciiString.contentEquals(v, value)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public boolean containsValue(CharSequence name, CharSequence value, boolean ignoreCase) {
        // As Netty's: the value or one of the comma-separated elements of a value, trimmed.
        for (int i = indexOf(name, 0); i >= 0; i = indexOf(name, i + 1)) {
            CharSequence v = fields[(i << 1) + 1];
            int start = 0;
            int length = v.length();
            while (start <= length) {
                int comma = indexOfComma(v, start);
                int end = comma < 0 ? length : comma;
                if (elementEquals(v, start, end, value, ignoreCase)) {
                    return true;
                }
                if (comma < 0) {
                    break;
                }
                start = comma + 1;
            }
        }
        return false;
    }

    private static int indexOfComma(CharSequence v, int from) {
        for (int i = from, n = v.length(); i < n; i++) {
            if (v.charAt(i) == ',') {
                return i;
            }
        }
        return -1;
    }

    private static boolean elementEquals(CharSequence v, int start, int end, CharSequence value, boolean ignoreCase) {
        while (start < end && isOws(v.charAt(start))) {
            start++;
        }
        while (end > start && isOws(v.charAt(end - 1))) {
            end--;
        }
        int length = end - start;
        if (length != value.length()) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            char a = v.charAt(start + i);
            char b = value.charAt(i);
            if (a != b && !(ignoreCase && a < 0x80 && b < 0x80 && lowerAscii(a) == lowerAscii(b))) {
                return false;
            }
        }
        return true;
    }

    private static char lowerAscii(char c) {
        return c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c;
    }

    private static boolean isOws(char c) {
        return c == ' ' || c == '\t';
    }

    @Override
    public Iterator<Map.Entry<String, String>> iterator() {
        return new FieldIterator<>(true);
    }

    @Override
    public Iterator<Map.Entry<CharSequence, CharSequence>> iteratorCharSequence() {
        return new FieldIterator<>(false);
    }

    @Override
    public boolean isEmpty() {
        return size == 0;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public Set<String> names() {
        // Netty's are case-insensitive and unordered; these keep the first spelling, in order.
        Set<String> names = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        Set<String> ordered = new LinkedHashSet<>();
        for (int i = 0; i < size; i++) {
            String n = fields[i << 1].toString();
            if (names.add(n)) {
                ordered.add(n);
            }
        }
        return ordered;
    }

    // ---------------------------------------------------------------------------------------------
    // Changes (validated)

    @Override
    public HttpHeaders add(String name, Object value) {
        return add((CharSequence) name, value);
    }

    @Override
    public HttpHeaders add(CharSequence name, Object value) {
        addTrusted(validName(name), validValue(value));
        return this;
    }

    @Override
    public HttpHeaders add(String name, Iterable<?> values) {
        return add((CharSequence) name, values);
    }

    @Override
    public HttpHeaders add(CharSequence name, Iterable<?> values) {
        CharSequence n = validName(name);
        for (Object v : values) {
            addTrusted(n, validValue(v));
        }
        return this;
    }

    @Override
    public HttpHeaders add(HttpHeaders headers) {
        if (headers == this) {
            throw new IllegalArgumentException("can't add to itself.");
        }
        if (headers instanceof CompactHttpHeaders compact) {
            for (int i = 0; i < compact.size; i++) {
                addTrusted(compact.fields[i << 1], compact.fields[(i << 1) + 1]);
            }
            return this;
        }
        return super.add(headers);
    }

    @Override
    public HttpHeaders addInt(CharSequence name, int value) {
        addTrusted(validName(name), Integer.toString(value));
        return this;
    }

    @Override
    public HttpHeaders addShort(CharSequence name, short value) {
        addTrusted(validName(name), Short.toString(value));
        return this;
    }

    @Override
    public HttpHeaders set(String name, Object value) {
        return set((CharSequence) name, value);
    }

    @Override
    public HttpHeaders set(CharSequence name, Object value) {
        CharSequence v = validValue(value);
        CharSequence n = validName(name);
        // As Netty's: the old fields go and the new one comes last, in the new spelling of the name.
        removeFrom(n, 0);
        addTrusted(n, v);
        return this;
    }

    @Override
    public HttpHeaders set(String name, Iterable<?> values) {
        return set((CharSequence) name, values);
    }

    @Override
    public HttpHeaders set(CharSequence name, Iterable<?> values) {
        CharSequence n = validName(name);
        remove(n);
        for (Object v : values) {
            if (v == null) {
                break;
            }
            addTrusted(n, validValue(v));
        }
        return this;
    }

    @Override
    public HttpHeaders set(HttpHeaders headers) {
        if (headers == this) {
            return this;
        }
        clear();
        return add(headers);
    }

    @Override
    public HttpHeaders setInt(CharSequence name, int value) {
        return set(name, Integer.toString(value));
    }

    @Override
    public HttpHeaders setShort(CharSequence name, short value) {
        return set(name, Short.toString(value));
    }

    @Override
    public HttpHeaders remove(String name) {
        return remove((CharSequence) name);
    }

    @Override
    public HttpHeaders remove(CharSequence name) {
        removeFrom(name, 0);
        return this;
    }

    private void removeFrom(CharSequence name, int from) {
        int i = indexOf(name, from);
        if (i < 0) {
            return;
        }
        CharSequence[] f = fields;
        int write = i << 1;
        int end = size << 1;
        int kept = i;
        for (int read = write + 2; read < end; read += 2) {
            CharSequence n = f[read];
            if (n == name || n.length() == name.length() && AsciiString.contentEqualsIgnoreCase(n, name)) {
                continue;
            }
            f[write] = n;
            f[write + 1] = f[read + 1];
            write += 2;
            kept++;
        }
        Arrays.fill(f, write, end, null);
        size = kept;
    }

    @Override
    public HttpHeaders clear() {
        Arrays.fill(fields, 0, size << 1, null);
        size = 0;
        return this;
    }

    @Override
    public HttpHeaders copy() {
        return copyOf(this);
    }

    private static CharSequence validName(CharSequence name) {
        if (name == null || name.length() == 0) {
            throw new IllegalArgumentException("empty header name");
        }
        int bad = HttpHeaderValidationUtil.validateToken(name);
        if (bad >= 0) {
            throw new IllegalArgumentException("a header name can only contain \"token\" characters, but found invalid "
                    + "character 0x" + Integer.toHexString(name.charAt(bad)) + " at index " + bad + " of header '"
                    + name + "'.");
        }
        return name;
    }

    private static CharSequence validValue(Object value) {
        if (value == null) {
            throw new NullPointerException("value");
        }
        CharSequence v;
        if (value instanceof CharSequence cs) {
            v = cs;
        } else if (value instanceof Date date) {
            v = DateFormatter.format(date);
        } else if (value instanceof Calendar calendar) {
            v = DateFormatter.format(calendar.getTime());
        } else {
            v = value.toString();
        }
        int bad = HttpHeaderValidationUtil.validateValidHeaderValue(v);
        if (bad >= 0) {
            throw new IllegalArgumentException("a header value contains prohibited character 0x"
                    + Integer.toHexString(v.charAt(bad)) + " at index " + bad + '.');
        }
        return v;
    }

    /** Iterates the fields in order; {@code remove} is not supported (as for Netty's string iterator). */
    private final class FieldIterator<T extends CharSequence> implements Iterator<Map.Entry<T, T>> {
        private final boolean strings;
        private int next;

        FieldIterator(boolean strings) {
            this.strings = strings;
        }

        @Override
        public boolean hasNext() {
            return next < size;
        }

        @Override
        @SuppressWarnings("unchecked")
        public Map.Entry<T, T> next() {
            if (next >= size) {
                throw new NoSuchElementException();
            }
            CharSequence n = fields[next << 1];
            CharSequence v = fields[(next << 1) + 1];
            next++;
            return strings
                    ? (Map.Entry<T, T>) new AbstractMap.SimpleImmutableEntry<>(n.toString(), v.toString())
                    : (Map.Entry<T, T>) new AbstractMap.SimpleImmutableEntry<>(n, v);
        }
    }
}
