package dev.relay.lb;

import dev.relay.core.Backend;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Backend lists and keys for the selection tests. */
final class TestBackends {
    private TestBackends() {}

    /** {@code count} backends 10.x.y.z:80 with the given weights (cycled). */
    static List<Backend> of(int count, int... weights) {
        List<Backend> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int w = weights.length == 0 ? 1 : weights[i % weights.length];
            out.add(Backend.of(new InetSocketAddress("10." + (i >> 16 & 0xff) + "." + (i >> 8 & 0xff) + "." + (i & 0xff), 80), w));
        }
        return out;
    }

    /** A key per index, as a URI would be. */
    static byte[] key(int i) {
        return ("/users/" + i + "/profile?session=" + Integer.toHexString(i * 0x9E3779B1)).getBytes(StandardCharsets.ISO_8859_1);
    }
}
