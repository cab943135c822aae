package dev.relay.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Ports for the external servers a test starts (nginx, redis-server), which cannot bind port 0 and report
 * the port they got: one found free a moment ago, a probe that tells when the server listens, and the start
 * that puts the two together, trying other ports when another process took one in between.
 */
final class LoopbackPorts {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(10);
    private static final int BIND_ATTEMPTS = 3;

    private LoopbackPorts() {}

    /** Starts an external server listening on {@code ports}, its output going to the log it was given. */
    @FunctionalInterface
    interface ServerLaunch {
        Process start(int[] ports) throws IOException;
    }

    /** A server that accepts connections on each of its ports. */
    record StartedServer(Process process, int[] ports) {}

    /** A port that was free on loopback when this returned (another process may take it in between). */
    static int free() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Whether something accepts TCP connections on {@code 127.0.0.1:port}. */
    static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Starts the server {@code name} on {@code portCount} ports just found free and waits until each accepts;
     * when one was taken before the server bound it (its {@code log} says so), starts it again on others, up
     * to {@value #BIND_ATTEMPTS} times. Fails the test when the server does not start for another reason.
     */
    static StartedServer startOnFreePorts(String name, int portCount, Path log, ServerLaunch launch)
            throws IOException, InterruptedException {
        for (int attempt = 1; ; attempt++) {
            int[] ports = new int[portCount];
            for (int i = 0; i < portCount; i++) {
                ports[i] = free();
            }
            Process process = startOn(name, log, launch, ports);
            if (process != null) {
                return new StartedServer(process, ports);
            }
            if (attempt == BIND_ATTEMPTS) {
                throw new AssertionError(name + " could not bind its ports in " + BIND_ATTEMPTS + " attempts: "
                        + Files.readString(log));
            }
        }
    }

    /**
     * One start of the server {@code name} on {@code ports}: its process once each port accepts, or null when
     * a port was in use (the process is gone then). Fails the test when the server exits or does not listen
     * within the start timeout for another reason.
     */
    static Process startOn(String name, Path log, ServerLaunch launch, int... ports)
            throws IOException, InterruptedException {
        Process process = launch.start(ports);
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (!acceptsAll(ports)) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                String out = Files.readString(log);
                if (out.contains("Address already in use")) {
                    return null;
                }
                throw new AssertionError(name + " did not start: " + out);
            }
            Thread.sleep(10);
        }
        return process;
    }

    private static boolean acceptsAll(int[] ports) {
        for (int port : ports) {
            if (!accepts(port)) {
                return false;
            }
        }
        return true;
    }
}
