import com.sun.management.OperatingSystemMXBean;
import com.sun.management.ThreadMXBean;
import com.sun.tools.attach.VirtualMachine;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * Bytes allocated per request by a running JVM (the proxy), a measure that does not depend on how busy the
 * machine is: attaches to the JVM, sums {@code ThreadMXBean.getThreadAllocatedBytes} over all its threads,
 * runs the load command (wrk), sums again, and divides by the requests wrk reports ({@code N requests in}).
 * Also prints the JVM's CPU time per request and its GC count and time over the run (those two do depend on
 * the machine's load). Threads that end during the run take their bytes with them: the proxy's threads are
 * pooled, so this undercounts by little.
 *
 * <pre>
 *   java bench/load/AllocProbe.java PID wrk -t1 -c8 -d5s http://127.0.0.1:PORT/100b
 *   # alloc_per_req=1834 cpu_us_per_req=41.2 requests=123456 gcs=12 gc_ms=15 rps=24691.2 peak_rss_mb=180
 * </pre>
 *
 * Run it with the same JDK as the target (the attach API needs a JDK, not a JRE). Used by bench/load/alloc.sh.
 */
public class AllocProbe {
    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: java AllocProbe.java PID COMMAND [ARGS...]");
            System.exit(2);
        }
        VirtualMachine vm = VirtualMachine.attach(args[0]);
        String address = vm.startLocalManagementAgent();
        vm.detach();
        try (JMXConnector connector = JMXConnectorFactory.connect(new JMXServiceURL(address))) {
            MBeanServerConnection server = connector.getMBeanServerConnection();
            ThreadMXBean threads = ManagementFactory.newPlatformMXBeanProxy(
                    server, ManagementFactory.THREAD_MXBEAN_NAME, ThreadMXBean.class);
            OperatingSystemMXBean os = ManagementFactory.newPlatformMXBeanProxy(
                    server, ManagementFactory.OPERATING_SYSTEM_MXBEAN_NAME, OperatingSystemMXBean.class);
            List<GarbageCollectorMXBean> gcs = new ArrayList<>();
            for (ObjectName name :
                    server.queryNames(new ObjectName(ManagementFactory.GARBAGE_COLLECTOR_MXBEAN_DOMAIN_TYPE + ",*"), null)) {
                gcs.add(ManagementFactory.newPlatformMXBeanProxy(
                        server, name.getCanonicalName(), GarbageCollectorMXBean.class));
            }
            long[] ids0 = threads.getAllThreadIds();
            long[] perThread0 = threads.getThreadAllocatedBytes(ids0);
            long bytes0 = allocated(threads);
            long cpu0 = os.getProcessCpuTime();
            long[] gc0 = gc(gcs);
            long switches0 = contextSwitches(args[0]);

            List<String> command = List.of(args).subList(1, args.length);
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int exit = process.waitFor();

            long bytes1 = allocated(threads);
            long[] perThread1 = threads.getThreadAllocatedBytes(ids0);
            java.lang.management.ThreadInfo[] infos = threads.getThreadInfo(ids0);
            long cpu1 = os.getProcessCpuTime();
            long[] gc1 = gc(gcs);
            long switches1 = contextSwitches(args[0]);
            if (exit != 0) {
                System.err.print(output);
                System.exit(exit);
            }
            Matcher requests = Pattern.compile("(\\d+) requests in").matcher(output);
            Matcher rps = Pattern.compile("Requests/sec:\\s+([0-9.]+)").matcher(output);
            if (!requests.find()) {
                System.err.print(output);
                throw new IllegalStateException("no 'N requests in' in the command's output");
            }
            long n = Long.parseLong(requests.group(1));
            if (output.contains("Non-2xx") || output.contains("Socket errors")) {
                System.err.println("AllocProbe: errors in the run:");
                System.err.print(output);
            }
            // Per thread group (the name without its digits), to stderr: where the bytes are allocated.
            java.util.Map<String, Long> groups = new java.util.TreeMap<>();
            for (int i = 0; i < ids0.length; i++) {
                if (infos[i] != null && perThread0[i] >= 0 && perThread1[i] >= perThread0[i]) {
                    groups.merge(infos[i].getThreadName().replaceAll("[0-9]+", "N"), perThread1[i] - perThread0[i], Long::sum);
                }
            }
            StringBuilder byGroup = new StringBuilder("AllocProbe: bytes/request by thread:");
            groups.entrySet().stream()
                    .filter(g -> g.getValue() / n > 0)
                    .sorted((a, b) -> Long.compare(b.getValue(), a.getValue()))
                    .forEach(g -> byGroup.append(' ').append(g.getKey().replace(' ', '_')).append('=').append(g.getValue() / n));
            System.err.println(byGroup);
            System.out.printf(
                    "alloc_per_req=%d cpu_us_per_req=%.1f requests=%d gcs=%d gc_ms=%d rps=%s peak_rss_mb=%d"
                            + " switches_per_req=%.2f%n",
                    (bytes1 - bytes0) / n,
                    (cpu1 - cpu0) / 1000.0 / n,
                    n,
                    gc1[0] - gc0[0],
                    gc1[1] - gc0[1],
                    rps.find() ? rps.group(1) : "?",
                    peakRssKib(args[0]) / 1024,
                    (switches1 - switches0) / (double) n);
        }
    }

    /**
     * Context switches of the target's threads so far (voluntary and not, summed over /proc/PID/task/*); a thread
     * that ended meanwhile takes its count with it, so this is a lower bound when threads come and go.
     */
    private static long contextSwitches(String pid) {
        long total = 0;
        java.io.File[] tasks = new java.io.File("/proc/" + pid + "/task").listFiles();
        if (tasks == null) {
            return 0;
        }
        for (java.io.File task : tasks) {
            try {
                for (String line : java.nio.file.Files.readAllLines(new java.io.File(task, "status").toPath())) {
                    if (line.startsWith("voluntary_ctxt_switches:") || line.startsWith("nonvoluntary_ctxt_switches:")) {
                        total += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                    }
                }
            } catch (java.io.IOException | RuntimeException gone) {
                // the thread ended between the listing and the read
            }
        }
        return total;
    }

    /** The target's peak resident set so far (VmHWM in /proc/PID/status), in KiB; -1 where there is none. */
    private static long peakRssKib(String pid) {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc", pid, "status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            // not Linux, or the process is gone
        }
        return -1;
    }

    private static long allocated(ThreadMXBean threads) {
        long sum = 0;
        for (long b : threads.getThreadAllocatedBytes(threads.getAllThreadIds())) {
            if (b > 0) {
                sum += b;
            }
        }
        return sum;
    }

    private static long[] gc(List<GarbageCollectorMXBean> gcs) {
        long count = 0;
        long millis = 0;
        for (GarbageCollectorMXBean gc : gcs) {
            count += Math.max(0, gc.getCollectionCount());
            millis += Math.max(0, gc.getCollectionTime());
        }
        return new long[] {count, millis};
    }
}
