package dev.relay.transport.conformance;

import dev.relay.testing.RawHttpConnection;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;

/**
 * How a conformance test hands its raw bytes to the peer under test: all in one write, or one byte per
 * write, each flushed with Nagle off, so that every parser state is entered at every byte boundary (a
 * parser that only works when a line arrives whole fails here).
 */
public enum Delivery {
    WHOLE,
    ONE_BYTE_PER_WRITE;

    /**
     * Writes {@code bytes} on {@code connection}. A peer that answers and closes before the last byte
     * (a rejection as soon as the fault is seen) ends the writing quietly: the test reads its answer next.
     */
    public void write(RawHttpConnection connection, byte[] bytes) throws IOException {
        if (this == WHOLE) {
            writeUntilClosed(connection, bytes);
            return;
        }
        Socket socket = connection.socket();
        socket.setTcpNoDelay(true);
        OutputStream out = socket.getOutputStream();
        try {
            for (byte b : bytes) {
                out.write(b);
                out.flush();
            }
        } catch (IOException closedByPeer) {
            // The peer answered early and closed; its answer is in the receive buffer.
        }
    }

    private static void writeUntilClosed(RawHttpConnection connection, byte[] bytes) {
        try {
            connection.send(bytes);
        } catch (IOException closedByPeer) {
            // As above.
        }
    }
}
