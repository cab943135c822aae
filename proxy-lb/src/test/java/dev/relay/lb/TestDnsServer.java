package dev.relay.lb;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A DNS server for tests, speaking the real wire protocol on UDP and TCP (same port on loopback),
 * written independently of the client under test: answers from a programmable table, and can be
 * told to stay silent, answer SERVFAIL, truncate UDP answers, or send a stray packet first.
 */
final class TestDnsServer implements AutoCloseable {
    enum Mode { ANSWER, SILENT, SERVFAIL, TRUNCATE_UDP, STRAY_FIRST }

    /** One answer record: owner, type (1 A, 5 CNAME, 28 AAAA, 33 SRV), TTL and data. */
    record Rr(String name, int type, int ttl, String data) {}

    private final DatagramSocket udp;
    private final ServerSocket tcp;
    private final Map<String, List<Rr>> records = new ConcurrentHashMap<>();
    private volatile Mode mode = Mode.ANSWER;
    final AtomicInteger udpQueries = new AtomicInteger();
    final AtomicInteger tcpQueries = new AtomicInteger();
    private final Thread udpThread;
    private final Thread tcpThread;

    TestDnsServer() throws IOException {
        this.tcp = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.udp = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), tcp.getLocalPort()));
        udpThread = new Thread(this::serveUdp, "test-dns-udp");
        tcpThread = new Thread(this::serveTcp, "test-dns-tcp");
        udpThread.setDaemon(true);
        tcpThread.setDaemon(true);
        udpThread.start();
        tcpThread.start();
    }

    InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), tcp.getLocalPort());
    }

    void mode(Mode mode) {
        this.mode = mode;
    }

    /** Sets the answer for queries of {@code type} on {@code name}. */
    void answer(String name, int type, Rr... answer) {
        records.put(name.toLowerCase(Locale.ROOT) + "/" + type, List.of(answer));
    }

    void clear() {
        records.clear();
    }

    private void serveUdp() {
        byte[] buffer = new byte[512];
        while (!udp.isClosed()) {
            try {
                DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                udp.receive(packet);
                udpQueries.incrementAndGet();
                Mode m = mode;
                if (m == Mode.SILENT) {
                    continue;
                }
                byte[] query = java.util.Arrays.copyOf(buffer, packet.getLength());
                if (m == Mode.STRAY_FIRST) {
                    byte[] stray = respond(query, false, 0);
                    stray[0] ^= 0x55; // another id: the client must ignore it
                    udp.send(new DatagramPacket(stray, stray.length, packet.getSocketAddress()));
                    byte[] garbage = {1, 2, 3};
                    udp.send(new DatagramPacket(garbage, garbage.length, packet.getSocketAddress()));
                }
                byte[] reply = respond(query, m == Mode.TRUNCATE_UDP, m == Mode.SERVFAIL ? 2 : 0);
                udp.send(new DatagramPacket(reply, reply.length, packet.getSocketAddress()));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serveTcp() {
        while (!tcp.isClosed()) {
            try (Socket s = tcp.accept()) {
                tcpQueries.incrementAndGet();
                DataInputStream in = new DataInputStream(s.getInputStream());
                byte[] query = new byte[in.readUnsignedShort()];
                in.readFully(query);
                byte[] reply = respond(query, false, mode == Mode.SERVFAIL ? 2 : 0);
                OutputStream out = s.getOutputStream();
                out.write(new byte[] {(byte) (reply.length >> 8), (byte) reply.length});
                out.write(reply);
                out.flush();
            } catch (IOException e) {
                if (tcp.isClosed()) {
                    return;
                }
            }
        }
    }

    /** The response to {@code query}: the question echoed, answers from the table (names uncompressed). */
    private byte[] respond(byte[] query, boolean truncate, int rcode) throws IOException {
        int p = 12;
        StringBuilder name = new StringBuilder();
        while (query[p] != 0) {
            int len = query[p];
            if (name.length() > 0) {
                name.append('.');
            }
            name.append(new String(query, p + 1, len, StandardCharsets.US_ASCII));
            p += len + 1;
        }
        int questionEnd = p + 5;
        int type = ((query[p + 1] & 0xff) << 8) | (query[p + 2] & 0xff);
        List<Rr> answers = truncate || rcode != 0 ? List.of() : records.getOrDefault(name.toString().toLowerCase(Locale.ROOT) + "/" + type, List.of());
        boolean known = records.keySet().stream().anyMatch(k -> k.startsWith(name.toString().toLowerCase(Locale.ROOT) + "/"));
        int code = rcode != 0 ? rcode : known || truncate ? 0 : 3;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(query[0]);
        out.write(query[1]);
        out.write(0x81 | (truncate ? 0x02 : 0)); // QR, RD (and TC)
        out.write(0x80 | code); // RA, rcode
        out.write(new byte[] {0, 1, 0, (byte) answers.size(), 0, 0, 0, 0});
        out.write(query, 12, questionEnd - 12);
        for (Rr r : answers) {
            out.write(name(r.name()));
            byte[] data = data(r);
            out.write(new byte[] {(byte) (r.type() >> 8), (byte) r.type(), 0, 1,
                    (byte) (r.ttl() >>> 24), (byte) (r.ttl() >>> 16), (byte) (r.ttl() >>> 8), (byte) r.ttl(),
                    (byte) (data.length >> 8), (byte) data.length});
            out.write(data);
        }
        return out.toByteArray();
    }

    private static byte[] data(Rr r) throws IOException {
        switch (r.type()) {
            case 1:
            case 28:
                return InetAddress.getByName(r.data()).getAddress();
            case 5:
                return name(r.data());
            case 33: {
                String[] f = r.data().split(" "); // priority weight port target
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                for (int i = 0; i < 3; i++) {
                    int v = Integer.parseInt(f[i]);
                    out.write(v >> 8);
                    out.write(v);
                }
                out.write(name(f[3]));
                return out.toByteArray();
            }
            default:
                throw new IllegalArgumentException("type " + r.type());
        }
    }

    private static byte[] name(String name) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String label : name.split("\\.")) {
            if (label.isEmpty()) {
                continue;
            }
            out.write(label.length());
            out.writeBytes(label.getBytes(StandardCharsets.US_ASCII));
        }
        out.write(0);
        return out.toByteArray();
    }

    @Override
    public void close() throws Exception {
        udp.close();
        tcp.close();
        udpThread.join(2_000);
        tcpThread.join(2_000);
    }

    static List<Rr> list(Rr... rrs) {
        return new ArrayList<>(List.of(rrs));
    }
}
