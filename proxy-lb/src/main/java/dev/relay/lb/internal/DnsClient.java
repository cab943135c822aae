package dev.relay.lb.internal;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.ProtocolException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A minimal blocking DNS stub resolver over the JDK: UDP queries to the configured name servers in
 * order, each attempt bounded by a timeout, falling back to TCP when an answer is truncated.
 * Responses are checked against the query (id, question) so a stray or spoofed packet is ignored.
 */
public final class DnsClient {
    private static final int MAX_UDP = 4096;

    private final List<InetSocketAddress> servers;
    private final int timeoutMillis;
    private final int attempts;

    /** A client asking {@code servers} in order, {@code attempts} rounds, each query waiting {@code timeoutMillis}. */
    public DnsClient(List<InetSocketAddress> servers, int timeoutMillis, int attempts) {
        this.servers = List.copyOf(servers);
        this.timeoutMillis = timeoutMillis;
        this.attempts = attempts;
    }

    /** A name that does not exist (NXDOMAIN): authoritative, not retried. */
    public static final class NameNotFoundException extends IOException {
        private static final long serialVersionUID = 1L;

        NameNotFoundException(String name) {
            super("NXDOMAIN: " + name + " does not exist");
        }
    }

    /** The response to a query for {@code name} of {@code type}. */
    public DnsMessage.Response query(String name, int type) throws IOException {
        IOException last = null;
        for (int round = 0; round < attempts; round++) {
            for (InetSocketAddress server : servers) {
                try {
                    return queryOnce(server, name, type);
                } catch (NameNotFoundException e) {
                    throw e;
                } catch (IOException e) {
                    last = e;
                }
            }
        }
        throw last != null ? last : new IOException("no name servers configured");
    }

    private DnsMessage.Response queryOnce(InetSocketAddress server, String name, int type) throws IOException {
        int id = ThreadLocalRandom.current().nextInt(1 << 16);
        byte[] query = DnsMessage.query(id, name, type);
        DnsMessage.Response response = udp(server, query, id, name, type);
        if (response.truncated()) {
            response = tcp(server, query, id, name, type);
        }
        if (response.rcode() == DnsMessage.RCODE_NXDOMAIN) {
            throw new NameNotFoundException(name);
        }
        if (response.rcode() != DnsMessage.RCODE_OK) {
            throw new IOException("DNS server " + server + " answered rcode " + response.rcode() + " for " + name);
        }
        return response;
    }

    private DnsMessage.Response udp(InetSocketAddress server, byte[] query, int id, String name, int type) throws IOException {
        try (DatagramSocket socket = new DatagramSocket()) {
            socket.connect(server);
            socket.send(new DatagramPacket(query, query.length));
            long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
            byte[] buffer = new byte[MAX_UDP];
            for (;;) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new SocketTimeoutException("no answer from " + server + " within " + timeoutMillis + " ms for " + name);
                }
                socket.setSoTimeout((int) Math.max(1, left / 1_000_000));
                DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                try {
                    socket.receive(packet);
                } catch (SocketTimeoutException e) {
                    throw new SocketTimeoutException("no answer from " + server + " within " + timeoutMillis + " ms for " + name);
                }
                DnsMessage.Response response;
                try {
                    response = DnsMessage.parse(buffer, packet.getLength());
                } catch (ProtocolException malformed) {
                    continue; // not our answer, or garbage: keep waiting for the real one
                }
                if (matches(response, id, name, type)) {
                    return response;
                }
            }
        }
    }

    private DnsMessage.Response tcp(InetSocketAddress server, byte[] query, int id, String name, int type) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(server, timeoutMillis);
            socket.setSoTimeout(timeoutMillis);
            OutputStream out = socket.getOutputStream();
            byte[] framed = new byte[query.length + 2];
            framed[0] = (byte) (query.length >>> 8);
            framed[1] = (byte) query.length;
            System.arraycopy(query, 0, framed, 2, query.length);
            out.write(framed);
            out.flush();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            int length = in.readUnsignedShort();
            byte[] message = new byte[length];
            in.readFully(message);
            DnsMessage.Response response = DnsMessage.parse(message, length);
            if (!matches(response, id, name, type)) {
                throw new ProtocolException("TCP answer from " + server + " does not match the query for " + name);
            }
            return response;
        }
    }

    private static boolean matches(DnsMessage.Response response, int id, String name, int type) {
        return response.id() == id && response.questionName() != null
                && DnsMessage.sameName(response.questionName(), name) && response.questionType() == type;
    }

    @Override
    public String toString() {
        return servers.toString();
    }
}
