package dev.relay.server.internal;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * Gives back to the operating system the native memory the JIT compilers freed, in a JVM started with
 * no flags.
 *
 * <p>HotSpot's compilers work in arenas they allocate with {@code malloc} and free after each
 * compilation. glibc keeps freed memory in its own arenas for the next {@code malloc} rather than
 * returning it, so after the JIT's busy first minutes under load the process keeps tens of MiB it no
 * longer uses: 18 to 22 MiB of a proxy's 232 to 239 MiB after 30 s of {@code /small}, 9 to 18 MiB
 * more after each later burst of compilations (docs/benchmarks.md, issue 11 sixth pass). {@code malloc_trim}
 * returns it; JDK 17 reaches it through the {@code System.trim_native_heap} diagnostic command (JDK 21
 * adds the {@code TrimNativeHeapInterval} flag for the same, which users of JDK 17 cannot set from
 * inside the process).
 *
 * <p>The trimmer looks every {@link #CHECK_MILLIS} at the compilers' total time and trims once they
 * worked since its last trim and then stopped for a look: a burst of compilations after a quiet time
 * (start-up, the first load, clients that reconnect to an idle proxy) is given back within about two
 * looks of its end (5,000 new client connections made the JIT keep 14 MiB of glibc's arenas;
 * docs/benchmarks.md, issue 11 seventh pass). While bursts keep coming, each trim waits twice as many
 * looks as the one before, up to {@link #MAX_LOOKS_BETWEEN_TRIMS}: the JIT's first minutes under load
 * would otherwise be trimmed every 2 to 5 s, mostly for 1 to 3 MiB that the compilers take back at
 * once, on a CPU the event loops need. After {@link #QUIET_LOOKS} looks without a compilation the wait
 * is one look again. A trim with nothing to return costs about 0.1 ms, one returning 20 MiB a few
 * ms on its own daemon thread, while glibc holds each arena's lock in turn (the event loops take their
 * buffers from Netty's pools, not from {@code malloc}). On another C library, or a JVM without the
 * command, it stops after the first try.
 */
public final class NativeHeapTrimmer {
    private static final Logger log = LoggerFactory.getLogger(NativeHeapTrimmer.class);

    static final long CHECK_MILLIS = 1_000;
    /** The longest wait between two trims while the compilers keep working, in looks. */
    static final int MAX_LOOKS_BETWEEN_TRIMS = 16;
    /** This many looks without a compilation, and the next burst is trimmed as soon as it ends. */
    static final int QUIET_LOOKS = 30;
    static final String DIAGNOSTIC_COMMANDS = "com.sun.management:type=DiagnosticCommand";
    static final String TRIM_OPERATION = "systemTrimNativeHeap";
    static final String NOT_AVAILABLE = "Not available";

    /** What the trimmer needs of the JVM. */
    interface Vm {
        /** The compilers' total time so far, in ms: it moves when they have worked (and freed arenas). */
        long compilationMillis();

        /**
         * Returns the C library's free memory to the operating system.
         *
         * @return the command's report (what the resident size was before and after)
         * @throws JMException when this JVM cannot (another C library, or no such command)
         */
        String trim() throws JMException;
    }

    private final Vm vm;
    private long compilationAtLastTrim = -1;
    private long compilationAtLastLook = -1;
    private int looksSinceTrim;
    private int looksBetweenTrims = 1;
    private int quietLooks;
    private int busyLooks;
    private boolean stopped;

    NativeHeapTrimmer(Vm vm) {
        this.vm = vm;
    }

    /**
     * One look: trims when the compilers worked since the last trim and not since the last look, once
     * the current wait is over; or, when they never stop, every {@link #MAX_LOOKS_BETWEEN_TRIMS} looks.
     *
     * @return whether it trimmed
     */
    synchronized boolean check() {
        if (stopped) {
            return false;
        }
        long compilation = vm.compilationMillis();
        boolean settled = compilation == compilationAtLastLook;
        compilationAtLastLook = compilation;
        looksSinceTrim++;
        quietLooks = settled ? quietLooks + 1 : 0;
        busyLooks = settled ? 0 : busyLooks + 1;
        if (quietLooks >= QUIET_LOOKS) {
            looksBetweenTrims = 1;
        }
        if (compilation == compilationAtLastTrim || looksSinceTrim < looksBetweenTrims
                || !settled && busyLooks < MAX_LOOKS_BETWEEN_TRIMS) {
            return false;
        }
        compilationAtLastTrim = compilation;
        looksSinceTrim = 0;
        busyLooks = 0;
        looksBetweenTrims = Math.min(looksBetweenTrims * 2, MAX_LOOKS_BETWEEN_TRIMS);
        long start = System.nanoTime();
        try {
            String report = vm.trim().strip();
            if (report.startsWith(NOT_AVAILABLE)) {
                // The command's answer on a C library without malloc_trim.
                stopped = true;
                log.debug("native heap trimming is not available here: {}", report);
                return false;
            }
            log.debug("native heap trimmed in {} µs: {}", (System.nanoTime() - start) / 1000, report);
            return true;
        } catch (JMException | RuntimeException e) {
            stopped = true;
            log.debug("native heap trimming is not available here, not tried again: {}", e.toString());
            return false;
        }
    }

    synchronized boolean isStopped() {
        return stopped;
    }

    /**
     * Starts trimming this JVM's native heap, on Linux with a HotSpot JVM that has the command.
     *
     * @return whether the trimmer runs
     */
    public static boolean install() {
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux")) {
            return false;
        }
        CompilationMXBean compiler = ManagementFactory.getCompilationMXBean();
        if (compiler == null || !compiler.isCompilationTimeMonitoringSupported()) {
            return false;
        }
        HotSpotVm vm = new HotSpotVm(compiler::getTotalCompilationTime);
        NativeHeapTrimmer trimmer = new NativeHeapTrimmer(vm);
        ScheduledExecutorService checks = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "relay-native-trim");
            thread.setDaemon(true);
            return thread;
        });
        // The platform MBean server takes about 0.2 s of CPU to make (its classes): now, while the
        // server starts, rather than in the middle of the load that the first trim would come in.
        checks.execute(vm::prepare);
        checks.scheduleWithFixedDelay(() -> {
            if (!trimmer.check() && trimmer.isStopped()) {
                checks.shutdown();
            }
        }, CHECK_MILLIS, CHECK_MILLIS, TimeUnit.MILLISECONDS);
        return true;
    }

    /** The running JVM, through its diagnostic commands' MBean. */
    static final class HotSpotVm implements Vm {
        private final LongSupplier compilationMillis;
        private @Nullable MBeanServer server;
        private @Nullable ObjectName commands;

        HotSpotVm(LongSupplier compilationMillis) {
            this.compilationMillis = compilationMillis;
        }

        /** Makes the platform MBean server, on the trimmer's thread (a failure shows at the first trim). */
        void prepare() {
            try {
                server = ManagementFactory.getPlatformMBeanServer();
                commands = new ObjectName(DIAGNOSTIC_COMMANDS);
            } catch (JMException | RuntimeException e) {
                log.debug("no platform MBean server: {}", e.toString());
            }
        }

        @Override
        public long compilationMillis() {
            return compilationMillis.getAsLong();
        }

        @Override
        public String trim() throws JMException {
            MBeanServer s = server;
            if (s == null || commands == null) {
                throw new JMException("no platform MBean server");
            }
            return String.valueOf(s.invoke(commands, TRIM_OPERATION, new Object[0], new String[0]));
        }
    }
}
