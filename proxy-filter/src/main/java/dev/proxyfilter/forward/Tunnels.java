package dev.proxyfilter.forward;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The engine's WebSocket tunnels, across generations: how many are open (or opening for an upgrade in flight)
 * in total and per route, which {@code proxy.max-tunnels} and {@code route.NAME.max-tunnels} cap, and which are
 * open, so that a close can wait for them and then close what is left.
 *
 * <p>An upgrade takes a {@link Place} before it is forwarded, so that a full proxy answers 503 without
 * bothering a backend; the place goes back when the backend declines (any status but 101) or when the tunnel
 * it became closes. A route keeps its count across reloads: the cap of the serving configuration applies to
 * the tunnels its older configurations opened too.
 */
final class Tunnels {
    private final AtomicInteger total = new AtomicInteger();
    private final Map<String, AtomicInteger> byRoute = new ConcurrentHashMap<>();
    private final Set<Tunnel> open = ConcurrentHashMap.newKeySet();
    /** Completed, and replaced, each time the count drops to zero while someone waits: see {@link #whenNone}. */
    private volatile CompletableFuture<Void> none;

    /** A place for one tunnel, held from the upgrade's admission to the end of its tunnel. */
    final class Place {
        private final AtomicInteger routeCount;
        private boolean released;

        private Place(AtomicInteger routeCount) {
            this.routeCount = routeCount;
        }

        /** Gives the place back; once. */
        synchronized void release() {
            if (released) {
                return;
            }
            released = true;
            routeCount.decrementAndGet();
            if (total.decrementAndGet() == 0) {
                CompletableFuture<Void> waiting = none;
                if (waiting != null) {
                    waiting.complete(null);
                }
                synchronized (Tunnels.this) {
                    Tunnels.this.notifyAll();
                }
            }
        }
    }

    /**
     * A place for one more tunnel on {@code route}, or {@code null} when the proxy or the route has as many as
     * it may; {@link #refusal} then says which.
     */
    Place reserve(ForwardRoute route) {
        if (!take(total, route.maxTunnelsTotal())) {
            return null;
        }
        AtomicInteger routeCount = byRoute.computeIfAbsent(route.name(), name -> new AtomicInteger());
        if (!take(routeCount, route.maxTunnels())) {
            total.decrementAndGet();
            return null;
        }
        return new Place(routeCount);
    }

    /** Why {@link #reserve} found no place: the 503's text, which names the limit. */
    static String refusal(ForwardRoute route, int routeCount) {
        if (route.maxTunnels() > 0 && routeCount >= route.maxTunnels()) {
            return "Service Unavailable: route '" + route.name() + "' has its " + route.maxTunnels()
                    + " WebSocket tunnels open (route." + route.name() + ".max-tunnels)";
        }
        return "Service Unavailable: the proxy has its " + route.maxTunnelsTotal()
                + " WebSocket tunnels open (proxy.max-tunnels)";
    }

    /** Tunnels open or opening on a route, for {@link #refusal}. */
    int onRoute(String route) {
        AtomicInteger count = byRoute.get(route);
        return count == null ? 0 : count.get();
    }

    private static boolean take(AtomicInteger count, int max) {
        while (true) {
            int now = count.get();
            if (max > 0 && now >= max) {
                return false;
            }
            if (count.compareAndSet(now, now + 1)) {
                return true;
            }
        }
    }

    void opened(Tunnel tunnel) {
        open.add(tunnel);
    }

    void closed(Tunnel tunnel) {
        open.remove(tunnel);
    }

    /** Tunnels open now, or opening for an upgrade in flight. */
    int count() {
        return total.get();
    }

    /** A future completed once no tunnel is open (at once if none is). */
    CompletableFuture<Void> whenNone() {
        CompletableFuture<Void> waiting = none;
        if (waiting == null || waiting.isDone()) {
            waiting = new CompletableFuture<>();
            none = waiting;
        }
        if (total.get() == 0) {
            waiting.complete(null);
        }
        return waiting;
    }

    /** Waits, without spinning, until no tunnel is open or {@code timeout} passed; whether none is. */
    boolean awaitNone(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (this) {
            while (total.get() > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(this, Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)));
            }
        }
        return true;
    }

    /** Closes every open tunnel now: both of its connections. */
    void closeAll(Throwable cause) {
        for (Tunnel tunnel : List.copyOf(open)) {
            tunnel.close(cause);
        }
    }
}
