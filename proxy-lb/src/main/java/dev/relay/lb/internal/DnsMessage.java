package dev.relay.lb.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ProtocolException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The DNS wire format (RFC 1035 section 4, RFC 3596 for AAAA, RFC 2782 for SRV), as much as
 * discovery needs: encoding a recursive query for one name and type, and decoding a response's
 * header, answers and additional records, with name compression.
 */
public final class DnsMessage {
    /** IPv4 address record. */
    public static final int TYPE_A = 1;
    /** Canonical name record. */
    public static final int TYPE_CNAME = 5;
    /** IPv6 address record. */
    public static final int TYPE_AAAA = 28;
    /** Service record. */
    public static final int TYPE_SRV = 33;
    /** The Internet class. */
    public static final int CLASS_IN = 1;

    /** No error. */
    public static final int RCODE_OK = 0;
    /** The name does not exist. */
    public static final int RCODE_NXDOMAIN = 3;

    private static final int MAX_POINTER_JUMPS = 64;

    private DnsMessage() {}

    /** One resource record: owner, type, TTL and the decoded data of the types discovery uses. */
    public record Record(String name, int type, long ttlSeconds, InetAddress address, String target,
                         int priority, int weight, int port) {}

    /** A decoded response. */
    public record Response(int id, boolean truncated, int rcode, String questionName, int questionType,
                           List<Record> answers, List<Record> additionals) {}

    /** A query with recursion desired, one question, no additional records. */
    public static byte[] query(int id, String name, int type) throws IOException {
        byte[] qname = encodeName(name);
        byte[] out = new byte[12 + qname.length + 4];
        out[0] = (byte) (id >>> 8);
        out[1] = (byte) id;
        out[2] = 0x01; // RD
        out[5] = 1; // QDCOUNT
        System.arraycopy(qname, 0, out, 12, qname.length);
        int p = 12 + qname.length;
        out[p] = (byte) (type >>> 8);
        out[p + 1] = (byte) type;
        out[p + 3] = CLASS_IN;
        return out;
    }

    /** A name in wire form: length-prefixed labels, a zero byte. A trailing dot is allowed. */
    public static byte[] encodeName(String name) throws IOException {
        String n = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
        if (n.isEmpty()) {
            return new byte[1];
        }
        byte[] ascii = n.getBytes(StandardCharsets.US_ASCII);
        if (ascii.length > 253 || !n.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            throw new ProtocolException("name: " + name + " (expected: at most 253 ASCII characters)");
        }
        byte[] out = new byte[ascii.length + 2];
        int labelStart = 0;
        int o = 0;
        for (int i = 0; i <= ascii.length; i++) {
            if (i == ascii.length || ascii[i] == '.') {
                int len = i - labelStart;
                if (len == 0 || len > 63) {
                    throw new ProtocolException("name: " + name + " (expected: labels of 1 to 63 characters)");
                }
                out[o++] = (byte) len;
                System.arraycopy(ascii, labelStart, out, o, len);
                o += len;
                labelStart = i + 1;
            }
        }
        out[o] = 0;
        return out;
    }

    /** Decodes the response in {@code msg[0, length)}. */
    public static Response parse(byte[] msg, int length) throws IOException {
        Cursor c = new Cursor(msg, length);
        int id = c.u16();
        int flags = c.u16();
        if ((flags & 0x8000) == 0) {
            throw new ProtocolException("not a response (QR is 0)");
        }
        boolean truncated = (flags & 0x0200) != 0;
        int rcode = flags & 0x000f;
        int qdcount = c.u16();
        int ancount = c.u16();
        int nscount = c.u16();
        int arcount = c.u16();
        String questionName = null;
        int questionType = -1;
        for (int i = 0; i < qdcount; i++) {
            String name = c.name();
            int type = c.u16();
            c.u16(); // class
            if (i == 0) {
                questionName = name;
                questionType = type;
            }
        }
        List<Record> answers = new ArrayList<>(ancount);
        List<Record> additionals = new ArrayList<>(arcount);
        if (!truncated) {
            for (int i = 0; i < ancount; i++) {
                add(answers, c.record());
            }
            for (int i = 0; i < nscount; i++) {
                c.record();
            }
            for (int i = 0; i < arcount; i++) {
                add(additionals, c.record());
            }
        }
        return new Response(id, truncated, rcode, questionName, questionType, List.copyOf(answers), List.copyOf(additionals));
    }

    private static void add(List<Record> list, Record r) {
        if (r != null) {
            list.add(r);
        }
    }

    /** Case-insensitive comparison of two names, ignoring a trailing dot. */
    public static boolean sameName(String a, String b) {
        return strip(a).equalsIgnoreCase(strip(b));
    }

    private static String strip(String n) {
        return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
    }

    private static final class Cursor {
        private final byte[] msg;
        private final int length;
        private int p;

        Cursor(byte[] msg, int length) {
            this.msg = msg;
            this.length = length;
        }

        private void need(int n) throws ProtocolException {
            if (p + n > length) {
                throw new ProtocolException("truncated DNS message at byte " + p);
            }
        }

        int u8() throws ProtocolException {
            need(1);
            return msg[p++] & 0xff;
        }

        int u16() throws ProtocolException {
            need(2);
            int v = ((msg[p] & 0xff) << 8) | (msg[p + 1] & 0xff);
            p += 2;
            return v;
        }

        long u32() throws ProtocolException {
            need(4);
            long v = ((long) (msg[p] & 0xff) << 24) | ((msg[p + 1] & 0xff) << 16) | ((msg[p + 2] & 0xff) << 8) | (msg[p + 3] & 0xff);
            p += 4;
            return v;
        }

        String name() throws ProtocolException {
            StringBuilder out = new StringBuilder();
            int at = p;
            int end = -1;
            int jumps = 0;
            for (;;) {
                if (at >= length) {
                    throw new ProtocolException("name runs past the message");
                }
                int len = msg[at] & 0xff;
                if ((len & 0xc0) == 0xc0) {
                    if (at + 1 >= length) {
                        throw new ProtocolException("truncated compression pointer");
                    }
                    if (end < 0) {
                        end = at + 2;
                    }
                    if (++jumps > MAX_POINTER_JUMPS) {
                        throw new ProtocolException("compression pointer loop");
                    }
                    at = ((len & 0x3f) << 8) | (msg[at + 1] & 0xff);
                    continue;
                }
                if ((len & 0xc0) != 0) {
                    throw new ProtocolException("unsupported label type " + (len >> 6));
                }
                if (len == 0) {
                    p = end >= 0 ? end : at + 1;
                    return out.toString().toLowerCase(Locale.ROOT);
                }
                if (at + 1 + len > length) {
                    throw new ProtocolException("label runs past the message");
                }
                if (out.length() > 0) {
                    out.append('.');
                }
                for (int i = 0; i < len; i++) {
                    out.append((char) (msg[at + 1 + i] & 0xff));
                }
                if (out.length() > 255) {
                    throw new ProtocolException("name longer than 255 characters");
                }
                at += 1 + len;
            }
        }

        /** One record; {@code null} for types and classes discovery ignores. */
        Record record() throws IOException {
            String name = name();
            int type = u16();
            int cls = u16();
            long ttl = u32();
            if (ttl > Integer.MAX_VALUE) {
                ttl = 0; // RFC 2181 section 8: a TTL with the top bit set is treated as zero
            }
            int rdlength = u16();
            need(rdlength);
            int rdataEnd = p + rdlength;
            Record record = null;
            if (cls == CLASS_IN) {
                switch (type) {
                    case TYPE_A:
                    case TYPE_AAAA: {
                        int size = type == TYPE_A ? 4 : 16;
                        if (rdlength != size) {
                            throw new ProtocolException("address record of " + rdlength + " bytes (expected: " + size + ")");
                        }
                        byte[] addr = new byte[size];
                        System.arraycopy(msg, p, addr, 0, size);
                        try {
                            record = new Record(name, type, ttl, InetAddress.getByAddress(addr), null, 0, 0, 0);
                        } catch (UnknownHostException e) {
                            throw new ProtocolException("bad address record: " + e.getMessage());
                        }
                        break;
                    }
                    case TYPE_CNAME:
                        record = new Record(name, type, ttl, null, name(), 0, 0, 0);
                        break;
                    case TYPE_SRV: {
                        int priority = u16();
                        int weight = u16();
                        int port = u16();
                        record = new Record(name, type, ttl, null, name(), priority, weight, port);
                        break;
                    }
                    default:
                        break;
                }
            }
            if (p > rdataEnd) {
                throw new ProtocolException("record data longer than its RDLENGTH");
            }
            p = rdataEnd;
            return record;
        }
    }
}
