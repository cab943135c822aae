package dev.relay.transport;

import io.netty.channel.uring.IoUring;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The io_uring switches {@link TransportRuntime} sets before Netty's {@code IoUring} class reads them,
 * each in a fresh JVM (in this one {@code IoUring} may have loaded before, in another test). Pinned to
 * Netty's property names: a Netty that renames one makes its setting silently do nothing, and this fail.
 */
class IoUringSettingsTest {

    @Test
    void idleEventLoopsAreNotAccountedAsWaitingForIoWhereTheKernelCanLeaveThemOut() throws Exception {
        Settings settings = probe();
        // Linux 6.15 and later: the event loops' waits are not iowait (nor load, nor I/O pressure).
        assertEquals(settings.noIoWaitSupported, settings.noIoWaitEnabled, settings.toString());
    }

    @Test
    void aValueGivenOnTheCommandLineWins() throws Exception {
        Settings settings = probe("-D" + TransportRuntime.ENTER_NO_IOWAIT_PROPERTY + "=false",
                "-D" + TransportRuntime.ACCEPT_MULTISHOT_PROPERTY + "=true");
        assertEquals(false, settings.noIoWaitEnabled, settings.toString());
        assertEquals(settings.acceptMultishotSupported, settings.acceptMultishotEnabled, settings.toString());
    }

    @Test
    void acceptsOneConnectionPerSubmission() throws Exception {
        // A multishot accept ended by EMFILE is re-armed whatever auto-read says (DescriptorExhaustionIT).
        assertEquals(false, probe().acceptMultishotEnabled);
    }

    /** What a fresh JVM's {@code IoUring} decided once {@link TransportRuntime} loaded first. */
    private static Settings probe(String... jvmOptions) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of(jvmOptions));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Probe.class.getName()));
        // Its few lines fit the pipe: waited for first, so that a probe that hangs fails the test.
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the probe did not end within 60 s");
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertEquals(0, process.exitValue(), output);
        String[] last = output.lines().reduce((a, b) -> b).orElse("").split(" ");
        assertEquals(4, last.length, output);
        return new Settings(Boolean.parseBoolean(last[0]), Boolean.parseBoolean(last[1]),
                Boolean.parseBoolean(last[2]), Boolean.parseBoolean(last[3]));
    }

    private record Settings(boolean noIoWaitSupported, boolean noIoWaitEnabled,
                            boolean acceptMultishotSupported, boolean acceptMultishotEnabled) {}

    /** Loads {@link TransportRuntime}, then prints what {@code IoUring} supports and uses. */
    static final class Probe {
        public static void main(String[] args) throws Exception {
            Class.forName(TransportRuntime.class.getName());
            System.out.println(supported("isIoringEnterNoIoWaitSupported") + " " + IoUring.isIoringEnterNoIoWaitEnabled()
                    + " " + supported("isAcceptMultishotSupported") + " " + IoUring.isAcceptMultishotEnabled());
        }

        /** One of {@code IoUring}'s package-private "does the kernel have it" checks. */
        private static boolean supported(String check) throws ReflectiveOperationException {
            if (!IoUring.isAvailable()) {
                return false;
            }
            Method method = IoUring.class.getDeclaredMethod(check);
            method.setAccessible(true);
            return (boolean) method.invoke(null);
        }
    }
}
