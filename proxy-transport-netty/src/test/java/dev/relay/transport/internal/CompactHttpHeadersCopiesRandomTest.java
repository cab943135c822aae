package dev.relay.transport.internal;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Copy-on-write under random use: a decoded store, copies of it and of its copies (an upstream copy per
 * attempt), each changed, read (which caches names and values) and stripped at random; after every
 * step each must read, and encode, exactly as Netty's headers that had the same changes.
 */
class CompactHttpHeadersCopiesRandomTest {
    private static final String[] NAMES = {"Host", "host", "Accept", "X-A", "x-a", "Connection", "Via", "TE"};
    private static final String[] VALUES = {"a", "b, c", "", "keep-alive", "x"};

    /** Field lines with odd whitespace now and then (none, several, a tab before the value; a blank after it). */
    private static String block(Random r) {
        StringBuilder sb = new StringBuilder();
        int n = 1 + r.nextInt(6);
        for (int i = 0; i < n; i++) {
            sb.append(NAMES[r.nextInt(NAMES.length)]).append(':');
            sb.append(switch (r.nextInt(4)) { case 0 -> ""; case 1 -> "  "; case 2 -> "\t"; default -> " "; });
            sb.append(VALUES[r.nextInt(VALUES.length)]);
            sb.append(r.nextInt(5) == 0 ? " " : "").append("\r\n");
        }
        return sb.toString();
    }

    /** The header block {@link Http1Encoder} writes for a response with {@code h}. */
    private static String encode(HttpHeaders h) {
        EmbeddedChannel ch = new EmbeddedChannel(new Http1Encoder());
        ch.writeAndFlush(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, h));
        String text = OutboundText.drain(ch);
        ch.finishAndReleaseAll();
        return text;
    }

    @Test
    void copiesNeverSeeEachOthersChangesAndEncodeTheirOwnFields() {
        Random r = new Random(7);
        for (int round = 0; round < 400; round++) {
            List<CompactHttpHeaders> objs = new ArrayList<>();
            List<HttpHeaders> models = new ArrayList<>();
            String block = block(r);
            CompactHttpHeaders probe = CompactHttpHeadersTest.decoded(block);
            DefaultHttpHeaders m0 = new DefaultHttpHeaders(false);
            for (int i = 0; i < probe.size(); i++) {
                m0.add(probe.nameAt(i).toString(), probe.valueAt(i).toString());
            }
            objs.add(CompactHttpHeadersTest.decoded(block));
            models.add(m0);
            StringBuilder log = new StringBuilder(block).append('\n');
            for (int step = 0; step < 30; step++) {
                int k = r.nextInt(objs.size());
                CompactHttpHeaders o = objs.get(k);
                HttpHeaders m = models.get(k);
                String name = NAMES[r.nextInt(NAMES.length)];
                String value = VALUES[r.nextInt(VALUES.length)];
                int op = r.nextInt(12);
                log.append(k).append(':').append(op).append(' ').append(name).append('=').append(value).append('\n');
                switch (op) {
                    case 0 -> {
                        objs.add(CompactHttpHeaders.copyOf(o));
                        models.add(m.copy());
                    }
                    case 1 -> {
                        o.add(name, value);
                        m.add(name, value);
                    }
                    case 2 -> {
                        o.set(name, value);
                        m.set(name, value);
                    }
                    case 3 -> {
                        o.remove(name);
                        m.remove(name);
                    }
                    case 4 -> {
                        if (r.nextInt(4) == 0) {
                            o.clear();
                            m.clear();
                        }
                    }
                    case 5 -> o.get(name);
                    case 6 -> o.getAll(name);
                    case 7 -> {
                        if (o.size() > 0) {
                            int i = r.nextInt(o.size());
                            o.nameAt(i);
                            o.valueAt(i);
                        }
                    }
                    case 8 -> o.entries();
                    case 9 -> {
                        HopByHop.strip(o);
                        HopByHop.strip(m);
                    }
                    case 10 -> {
                        int j = r.nextInt(objs.size());
                        if (j != k) {
                            o.add(objs.get(j));
                            m.add(models.get(j));
                        }
                    }
                    default -> {
                        int j = r.nextInt(objs.size());
                        if (j != k) {
                            o.set(objs.get(j));
                            m.set(models.get(j));
                        }
                    }
                }
                for (int x = 0; x < objs.size(); x++) {
                    String msg = "round " + round + " obj " + x + "\n" + log;
                    assertEquals(CompactHttpHeadersTest.fields(models.get(x)), CompactHttpHeadersTest.fields(objs.get(x)), msg);
                    assertEquals(encode(models.get(x)), encode(objs.get(x)), msg);
                }
            }
        }
    }
}
