package dev.relay.lb.internal;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ProtocolException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzz tests of {@link DnsMessage#parse}: a DNS response comes from the network, so whatever the bytes,
 * the parser returns a response or refuses it with its own {@link ProtocolException} — never another
 * exception, never a loop (compression pointers) — and a response written by a reference encoder
 * (below, RFC 1035 §4.1) decodes to the records it was written from.
 *
 * <p>In the normal test run each method replays its inputs under
 * {@code src/test/resources/dev/relay/lb/internal/DnsMessageFuzzTestInputs/}; {@code bench/fuzz.sh}
 * runs them coverage-guided (JAZZER_FUZZ=1).
 */
class DnsMessageFuzzTest {

    @FuzzTest(maxDuration = "30s")
    void anyBytesParseOrAreRefusedAsAProtocolError(byte[] message) {
        DnsMessage.Response response;
        try {
            response = DnsMessage.parse(message, message.length);
        } catch (ProtocolException refused) {
            return;
        } catch (IOException e) {
            throw new AssertionError("an IOException other than ProtocolException", e);
        }
        assertTrue(response.rcode() >= 0 && response.rcode() < 16, "rcode " + response.rcode());
        for (DnsMessage.Record r : response.answers()) {
            checkRecord(r);
        }
        for (DnsMessage.Record r : response.additionals()) {
            checkRecord(r);
        }
        if (response.truncated()) {
            assertTrue(response.answers().isEmpty() && response.additionals().isEmpty(),
                    "a truncated response's records are not used");
        }
    }

    private static void checkRecord(DnsMessage.Record r) {
        assertTrue(r.name().length() <= 255 + 64, r.name());
        assertTrue(r.ttlSeconds() >= 0 && r.ttlSeconds() <= Integer.MAX_VALUE, "ttl " + r.ttlSeconds());
        switch (r.type()) {
            case DnsMessage.TYPE_A -> assertEquals(4, r.address().getAddress().length);
            case DnsMessage.TYPE_AAAA -> assertEquals(16, r.address().getAddress().length);
            case DnsMessage.TYPE_CNAME, DnsMessage.TYPE_SRV -> assertTrue(r.target() != null);
            default -> throw new AssertionError("a record of a type discovery ignores was returned: " + r.type());
        }
    }

    /** A response built from the fuzzer's choices, written by {@link #encode}, decodes to the same records. */
    @FuzzTest(maxDuration = "30s")
    void encodedResponsesDecodeToTheirRecords(FuzzedDataProvider data) throws IOException {
        int id = data.consumeInt(0, 0xffff);
        int rcode = data.consumeInt(0, 15);
        String question = name(data);
        int questionType = data.pickValue(new int[] {DnsMessage.TYPE_A, DnsMessage.TYPE_AAAA, DnsMessage.TYPE_SRV});
        List<DnsMessage.Record> answers = new ArrayList<>();
        int count = data.consumeInt(0, 6);
        for (int i = 0; i < count; i++) {
            answers.add(record(data));
        }
        boolean compress = data.consumeBoolean();
        byte[] wire = encode(id, rcode, question, questionType, answers, compress);

        DnsMessage.Response decoded = DnsMessage.parse(wire, wire.length);

        assertEquals(id, decoded.id());
        assertEquals(rcode, decoded.rcode());
        assertEquals(question, decoded.questionName());
        assertEquals(questionType, decoded.questionType());
        assertEquals(answers, decoded.answers());
        assertEquals(List.of(), decoded.additionals());
    }

    /** A name of one to four labels of lower-case letters, digits and hyphens ("." for the root). */
    private static String name(FuzzedDataProvider data) {
        int labels = data.consumeInt(0, 4);
        if (labels == 0) {
            return "";
        }
        StringBuilder name = new StringBuilder();
        for (int i = 0; i < labels; i++) {
            int length = data.consumeInt(1, 63);
            if (name.length() > 0) {
                name.append('.');
            }
            for (int j = 0; j < length; j++) {
                name.append("abcdefghijklmnopqrstuvwxyz0123456789-".charAt(data.consumeInt(0, 36)));
            }
        }
        return name.toString();
    }

    private static DnsMessage.Record record(FuzzedDataProvider data) throws IOException {
        String owner = name(data);
        long ttl = data.consumeLong(0, Integer.MAX_VALUE);
        return switch (data.consumeInt(0, 3)) {
            case 0 -> new DnsMessage.Record(owner, DnsMessage.TYPE_A, ttl, address(data, 4), null, 0, 0, 0);
            case 1 -> new DnsMessage.Record(owner, DnsMessage.TYPE_AAAA, ttl, address(data, 16), null, 0, 0, 0);
            case 2 -> new DnsMessage.Record(owner, DnsMessage.TYPE_CNAME, ttl, null, name(data), 0, 0, 0);
            default -> new DnsMessage.Record(owner, DnsMessage.TYPE_SRV, ttl, null, name(data),
                    data.consumeInt(0, 0xffff), data.consumeInt(0, 0xffff), data.consumeInt(0, 0xffff));
        };
    }

    private static InetAddress address(FuzzedDataProvider data, int size) throws IOException {
        byte[] address = new byte[size];
        for (int i = 0; i < size; i++) {
            address[i] = data.consumeByte();
        }
        return InetAddress.getByAddress(address);
    }

    /**
     * The reference encoder: header, one question, the answers; with {@code compress} every owner name
     * equal to the question is a pointer to it (RFC 1035 §4.1.4).
     */
    private static byte[] encode(int id, int rcode, String question, int questionType, List<DnsMessage.Record> answers,
                                 boolean compress) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        u16(out, id);
        u16(out, 0x8180 | rcode); // QR, RD, RA
        u16(out, 1);
        u16(out, answers.size());
        u16(out, 0);
        u16(out, 0);
        out.writeBytes(wireName(question));
        u16(out, questionType);
        u16(out, DnsMessage.CLASS_IN);
        for (DnsMessage.Record r : answers) {
            if (compress && r.name().equals(question)) {
                u16(out, 0xc000 | 12);
            } else {
                out.writeBytes(wireName(r.name()));
            }
            u16(out, r.type());
            u16(out, DnsMessage.CLASS_IN);
            u16(out, (int) (r.ttlSeconds() >>> 16));
            u16(out, (int) r.ttlSeconds());
            ByteArrayOutputStream rdata = new ByteArrayOutputStream();
            switch (r.type()) {
                case DnsMessage.TYPE_A -> rdata.writeBytes(r.address().getAddress());
                case DnsMessage.TYPE_AAAA -> rdata.writeBytes(sixteenBytes(r.address()));
                case DnsMessage.TYPE_CNAME -> rdata.writeBytes(wireName(r.target()));
                default -> {
                    u16(rdata, r.priority());
                    u16(rdata, r.weight());
                    u16(rdata, r.port());
                    rdata.writeBytes(wireName(r.target()));
                }
            }
            u16(out, rdata.size());
            out.writeBytes(rdata.toByteArray());
        }
        return out.toByteArray();
    }

    /**
     * The 16 bytes of an AAAA record's address. The JDK makes an IPv4-mapped IPv6 address
     * ({@code ::ffff:a.b.c.d}) an {@code Inet4Address}, in the record built here and in the parser
     * alike, so the record's type says how many bytes go on the wire.
     */
    private static byte[] sixteenBytes(InetAddress address) {
        byte[] bytes = address.getAddress();
        if (bytes.length == 16) {
            return bytes;
        }
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        System.arraycopy(bytes, 0, mapped, 12, 4);
        return mapped;
    }

    private static byte[] wireName(String name) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!name.isEmpty()) {
            for (String label : name.split("\\.")) {
                out.write(label.length());
                out.writeBytes(label.toLowerCase(Locale.ROOT).getBytes(StandardCharsets.US_ASCII));
            }
        }
        out.write(0);
        return out.toByteArray();
    }

    private static void u16(ByteArrayOutputStream out, int value) {
        out.write(value >>> 8);
        out.write(value);
    }
}
