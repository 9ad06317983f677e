package dev.proxyfilter.jetty;

import java.util.concurrent.atomic.LongAdder;
import org.eclipse.jetty.server.internal.HttpConnection;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The thread pool for a Jetty server whose handlers never block, such as one running {@link
 * ProxyHandler}: it saves a thread hand-off on every proxied HTTP/1.1 request.
 *
 * <p>Jetty's HTTP/1.1 connection hands itself to the pool whenever a response completes on a thread
 * other than the one that handled its request (Jetty logs it as a "non-current completion"), so that the
 * completing thread, which may be a selector, never runs the connection's next request: that request's
 * handler might block. A proxied response always completes that way, on the thread that read the
 * backend's answer, so each request cost a pool thread's wake-up and park (2.7 {@code futex} calls per
 * request with {@code strace}, against 0.1 with this pool; bench/profile.md, session 4).
 *
 * <p>Here the completing thread resumes the connection itself: it reads what the client has sent
 * meanwhile (usually nothing yet, and the connection goes back to waiting on its selector) and starts the
 * next request, whose handling does not block. One level at a time per thread: a resume from within a
 * resume goes to the pool, so stacks stay flat. Every other job runs on the pool as usual.
 *
 * <p>Not for a server with a handler that may block (a servlet context, say): there the next request
 * could block a selector.
 */
public final class ProxyThreadPool extends QueuedThreadPool {
    private static final ThreadLocal<Boolean> RESUMING = new ThreadLocal<>();
    private final LongAdder resumedInline = new LongAdder();

    /** Jetty's default sizes: at most 200 threads, at least 8. */
    public ProxyThreadPool() {}

    public ProxyThreadPool(int maxThreads, int minThreads) {
        super(maxThreads, minThreads);
    }

    @Override
    public void execute(Runnable job) {
        if (job instanceof HttpConnection && RESUMING.get() != Boolean.TRUE && isRunning()) {
            RESUMING.set(Boolean.TRUE);
            try {
                resumedInline.increment();
                job.run();
            } finally {
                // FALSE, not remove(): the thread's entry stays, and the next get() does not make a new one
                RESUMING.set(Boolean.FALSE);
            }
            return;
        }
        super.execute(job);
    }

    /** HTTP/1.1 connections resumed on the thread that completed their response, since start. */
    public long resumedInline() {
        return resumedInline.sum();
    }
}
