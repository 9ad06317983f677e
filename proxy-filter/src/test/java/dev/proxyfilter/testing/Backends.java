package dev.proxyfilter.testing;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Collections;
import java.util.HexFormat;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** The small servlets tests put behind the proxy. */
public final class Backends {
    private Backends() {}

    /**
     * Answers with its name as the body, and echoes what it received: the request line in
     * {@code X-Received-*} headers and every request header as {@code X-Echo-<name>}.
     */
    public static final class Echo extends HttpServlet {
        private static final long serialVersionUID = 1L;
        private final String name;
        public final AtomicInteger requests = new AtomicInteger();

        public Echo(String name) {
            this.name = name;
        }

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            requests.incrementAndGet();
            byte[] body = req.getInputStream().readAllBytes();
            resp.setHeader("X-Backend", name);
            resp.setHeader("X-Received-Method", req.getMethod());
            resp.setHeader("X-Received-Path", req.getRequestURI());
            resp.setHeader("X-Received-Query", String.valueOf(req.getQueryString()));
            resp.setHeader("X-Received-Body-Length", Integer.toString(body.length));
            for (String header : Collections.list(req.getHeaderNames())) {
                resp.setHeader("X-Echo-" + header, String.join(" | ", Collections.list(req.getHeaders(header))));
            }
            resp.setContentType("text/plain");
            if (body.length > 0) {
                resp.getOutputStream().write(body);
            } else {
                resp.getOutputStream().write(name.getBytes(StandardCharsets.UTF_8));
            }
        }
    }

    /** Reads the whole body and answers its size and SHA-256. */
    public static final class Digest extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doPost(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            MessageDigest digest = sha256();
            ServletInputStream in = req.getInputStream();
            byte[] buffer = new byte[65536];
            long total = 0;
            int read;
            while ((read = in.read(buffer)) >= 0) {
                digest.update(buffer, 0, read);
                total += read;
            }
            resp.setContentType("text/plain");
            resp.getWriter().print(total + " " + HexFormat.of().formatHex(digest.digest()));
        }

        /** GET /?size=N streams N deterministic bytes (see {@link #pattern}). */
        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            long size = Long.parseLong(req.getParameter("size"));
            resp.setContentType("application/octet-stream");
            if (req.getParameter("chunked") == null) {
                resp.setContentLengthLong(size);
            }
            ServletOutputStream out = resp.getOutputStream();
            byte[] chunk = new byte[65536];
            long sent = 0;
            while (sent < size) {
                int n = (int) Math.min(chunk.length, size - sent);
                pattern(chunk, sent, n);
                out.write(chunk, 0, n);
                sent += n;
            }
        }

        /** Deterministic content: byte i of the stream is (i * 31 + i / 65536) & 0xff. */
        public static void pattern(byte[] into, long offset, int length) {
            for (int i = 0; i < length; i++) {
                long pos = offset + i;
                into[i] = (byte) (pos * 31 + pos / 65536);
            }
        }
    }

    /** Answers {@code status} with a short body. */
    public static final class Status extends HttpServlet {
        private static final long serialVersionUID = 1L;
        private final int status;
        public final AtomicInteger requests = new AtomicInteger();

        public Status(int status) {
            this.status = status;
        }

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            requests.incrementAndGet();
            req.getInputStream().readAllBytes();
            resp.setStatus(status);
            resp.getWriter().print("status " + status);
        }
    }

    /**
     * Answers with its name, like {@link Echo} without the echo, after {@code delayMillis}: asynchronously,
     * so that a slow backend holds no thread while it waits and many requests can wait at once.
     */
    public static final class Delayed extends HttpServlet {
        private static final long serialVersionUID = 1L;
        private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "backend-delay");
            thread.setDaemon(true);
            return thread;
        });
        private final String name;
        private final long delayMillis;
        public final AtomicInteger requests = new AtomicInteger();

        public Delayed(String name, long delayMillis) {
            this.name = name;
            this.delayMillis = delayMillis;
        }

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) {
            requests.incrementAndGet();
            AsyncContext async = req.startAsync();
            async.setTimeout(30_000);
            TIMER.schedule(
                    () -> {
                        try {
                            resp.setHeader("X-Backend", name);
                            resp.setContentType("text/plain");
                            resp.getOutputStream().write(name.getBytes(StandardCharsets.UTF_8));
                        } catch (IOException | RuntimeException e) {
                            // The client went away; the exchange ends below all the same.
                        } finally {
                            async.complete();
                        }
                    },
                    delayMillis,
                    TimeUnit.MILLISECONDS);
        }
    }

    /** Never answers (async, no thread held) until the test ends. */
    public static final class Stall extends HttpServlet {
        private static final long serialVersionUID = 1L;
        public final AtomicInteger requests = new AtomicInteger();

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) {
            requests.incrementAndGet();
            AsyncContext async = req.startAsync();
            async.setTimeout(60_000);
        }
    }

    /**
     * Answers 200 slowly: the first half of a {@value #SLOW_BODY_BYTES}-byte body at once, the rest after
     * {@code ?ms=} milliseconds (default 1000), so that a client sees a request in flight mid-body.
     * {@link #started} counts requests that got their first half.
     */
    public static final class Slow extends HttpServlet {
        private static final long serialVersionUID = 1L;
        public final AtomicInteger started = new AtomicInteger();

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            String ms = req.getParameter("ms");
            byte[] body = slowBody();
            resp.setContentType("application/octet-stream");
            resp.setContentLength(body.length);
            ServletOutputStream out = resp.getOutputStream();
            out.write(body, 0, body.length / 2);
            out.flush();
            started.incrementAndGet();
            try {
                Thread.sleep(ms == null ? 1000 : Long.parseLong(ms)); // the slow part of the backend
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            out.write(body, body.length / 2, body.length - body.length / 2);
        }
    }

    /** Size of {@link Slow}'s body. */
    public static final int SLOW_BODY_BYTES = 64 * 1024;

    /** {@link Slow}'s body: a byte pattern a truncation cannot match. */
    public static byte[] slowBody() {
        byte[] body = new byte[SLOW_BODY_BYTES];
        Digest.pattern(body, 0, body.length);
        return body;
    }

    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
