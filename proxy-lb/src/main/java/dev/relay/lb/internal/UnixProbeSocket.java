package dev.relay.lb.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;

/**
 * A health probe's connection to a Unix-domain socket backend, shaped as a {@link Socket} so that the
 * TCP and HTTP checks use one code path. The JDK's Unix-domain {@link SocketChannel} has no
 * {@code socket()} view and ignores {@code SO_TIMEOUT}, so this one is non-blocking underneath and
 * waits on a {@link Selector}: every read, write and the connect honour {@link #setSoTimeout}.
 * Only what probes use is supported: the streams, the timeout and close. Not thread-safe.
 */
final class UnixProbeSocket extends Socket {
    private final SocketChannel channel;
    private final Selector selector;
    private final UnixDomainSocketAddress remote;
    private final InputStream in = new In();
    private final OutputStream out = new Out();
    private int timeoutMillis;
    private boolean closed;

    private UnixProbeSocket(SocketChannel channel, Selector selector, UnixDomainSocketAddress remote) {
        this.channel = channel;
        this.selector = selector;
        this.remote = remote;
    }

    /** A socket connected to {@code address} within {@code timeoutMillis}. */
    static UnixProbeSocket connect(UnixDomainSocketAddress address, int timeoutMillis) throws IOException {
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        Selector selector = null;
        try {
            channel.configureBlocking(false);
            selector = Selector.open();
            UnixProbeSocket socket = new UnixProbeSocket(channel, selector, address);
            socket.timeoutMillis = timeoutMillis;
            if (!channel.connect(address)) {
                socket.await(SelectionKey.OP_CONNECT, "connect to " + address);
                channel.finishConnect();
            }
            return socket;
        } catch (IOException | RuntimeException e) {
            channel.close();
            if (selector != null) {
                selector.close();
            }
            throw e;
        }
    }

    private void await(int op, String what) throws IOException {
        SelectionKey key = channel.register(selector, op);
        try {
            if (selector.select(Math.max(1, timeoutMillis)) == 0) {
                throw new SocketTimeoutException(what + " timed out");
            }
        } finally {
            key.interestOps(0);
            selector.selectedKeys().clear();
        }
    }

    @Override
    public InputStream getInputStream() {
        return in;
    }

    @Override
    public OutputStream getOutputStream() {
        return out;
    }

    @Override
    public void setSoTimeout(int timeout) {
        this.timeoutMillis = timeout;
    }

    @Override
    public int getSoTimeout() {
        return timeoutMillis;
    }

    @Override
    public SocketAddress getRemoteSocketAddress() {
        return remote;
    }

    @Override
    public boolean isConnected() {
        return channel.isConnected();
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            channel.close();
        } finally {
            selector.close();
        }
    }

    @Override
    public String toString() {
        return "UnixProbeSocket[" + remote + "]";
    }

    private final class In extends InputStream {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            ByteBuffer buffer = ByteBuffer.wrap(b, off, len);
            while (true) {
                int n = channel.read(buffer);
                if (n != 0) {
                    return n;
                }
                await(SelectionKey.OP_READ, "read from " + remote);
            }
        }
    }

    private final class Out extends OutputStream {
        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            ByteBuffer buffer = ByteBuffer.wrap(b, off, len);
            while (buffer.hasRemaining()) {
                if (channel.write(buffer) == 0) {
                    await(SelectionKey.OP_WRITE, "write to " + remote);
                }
            }
        }
    }
}
