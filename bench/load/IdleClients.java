import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Opens many keep-alive client connections to a proxy, each after one complete request and response,
 * and holds them idle, so that bench/load/run.sh --idle-connections can read the proxy's memory.
 *
 * <pre>
 * java bench/load/IdleClients.java HOST PORT PATH COUNT THREADS OPEN_SECONDS HOLD_SECONDS
 * </pre>
 *
 * <p>A few threads open the connections one at a time each, so that at most THREADS connections wait in
 * the server's accept queue (Jetty's default is the JDK's backlog of 50). Each sends
 * {@code GET PATH HTTP/1.1} and reads the whole response (Content-Length), then keeps the socket and
 * drops every buffer. Opening stops at COUNT connections, after OPEN_SECONDS, or after too many failures
 * (e.g. the file-descriptor limit). It then prints one line
 * {@code OPEN <n> FAILED <n> SECONDS <s> [FIRST_ERROR <message>]}, holds the connections HOLD_SECONDS
 * and closes them. Bounded in time: OPEN_SECONDS + HOLD_SECONDS plus the socket timeouts (5 s).
 */
public final class IdleClients {
    private static final int MAX_FAILURES = 100;

    private IdleClients() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 7) {
            System.err.println("usage: IdleClients HOST PORT PATH COUNT THREADS OPEN_SECONDS HOLD_SECONDS");
            System.exit(2);
        }
        InetSocketAddress address = new InetSocketAddress(args[0], Integer.parseInt(args[1]));
        byte[] request = ("GET " + args[2] + " HTTP/1.1\r\nHost: " + args[0] + ":" + args[1] + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        int count = Integer.parseInt(args[3]);
        int threads = Integer.parseInt(args[4]);
        long deadline = System.nanoTime() + Long.parseLong(args[5]) * 1_000_000_000L;
        long holdMillis = Long.parseLong(args[6]) * 1000L;

        AtomicInteger started = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        AtomicReference<String> firstError = new AtomicReference<>();
        List<Socket> open = new ArrayList<>(count);
        long start = System.nanoTime();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread worker = new Thread(() -> {
                while (started.getAndIncrement() < count && System.nanoTime() < deadline
                        && failed.get() < MAX_FAILURES) {
                    Socket socket = new Socket();
                    try {
                        socket.connect(address, 5000);
                        socket.setSoTimeout(5000);
                        socket.getOutputStream().write(request);
                        readResponse(socket.getInputStream());
                        synchronized (open) {
                            open.add(socket);
                        }
                    } catch (IOException | RuntimeException e) {
                        failed.incrementAndGet();
                        firstError.compareAndSet(null, e.toString());
                        try {
                            socket.close();
                        } catch (IOException ignored) {
                            // closing a failed socket
                        }
                    }
                }
            }, "idle-client-" + t);
            worker.start();
            workers.add(worker);
        }
        for (Thread worker : workers) {
            worker.join();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        String error = firstError.get();
        // One write of the whole line: run.sh reads it while this process holds the connections.
        String report = String.format("OPEN %d FAILED %d SECONDS %.1f%s%n", open.size(), failed.get(), seconds,
                error == null ? "" : " FIRST_ERROR " + error.replace('\n', ' '));
        System.out.write(report.getBytes(StandardCharsets.UTF_8));
        System.out.flush();
        Thread.sleep(holdMillis);
        for (Socket socket : open) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing at the end
            }
        }
    }

    /** Reads one response with a Content-Length body, unbuffered, so that the socket keeps no buffer. */
    private static void readResponse(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        byte[] one = new byte[1];
        while (!(head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n"))) {
            if (in.read(one) < 0) {
                throw new IOException("connection closed in the response head");
            }
            head.append((char) (one[0] & 0xff));
            if (head.length() > 16384) {
                throw new IOException("response head too long");
            }
        }
        String text = head.toString();
        if (!text.startsWith("HTTP/1.1 200")) {
            throw new IOException("status: " + text.lines().findFirst().orElse(""));
        }
        long length = -1;
        for (String line : text.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase("Content-Length")) {
                length = Long.parseLong(line.substring(colon + 1).trim());
            }
        }
        if (length < 0) {
            throw new IOException("no Content-Length (chunked responses are not read by this client)");
        }
        byte[] body = new byte[(int) Math.min(length, 8192)];
        long left = length;
        while (left > 0) {
            int n = in.read(body, 0, (int) Math.min(left, body.length));
            if (n < 0) {
                throw new IOException("connection closed in the body");
            }
            left -= n;
        }
    }
}
