package dev.proxyfilter.servlet;

import com.codahale.metrics.Counting;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.Metric;
import com.codahale.metrics.Sampling;
import com.codahale.metrics.Snapshot;
import dev.proxyfilter.admin.AdminOperations;
import dev.proxyfilter.forward.ProxyEngine;
import dev.proxyfilter.reload.ReloadResult;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The admin interface over HTTP: the dashboard at "/", Prometheus text at {@code /metrics}, JSON metrics
 * at {@code /metrics.json}, the JSON API under {@code /api/}, and {@code /healthz} and {@code /readyz}.
 * Paths are relative to where the servlet is mapped (the standalone proxy gives it its own listener;
 * in a webapp map it to e.g. {@code /proxy-admin/*}).
 *
 * <p>API: {@code GET /api/pools}; {@code POST /api/pools/P/backends/B/enable|disable|drain};
 * {@code POST /api/pools/P/backends/B/weight?value=N}; {@code GET /api/config};
 * {@code POST /api/reload} re-reads the configuration's sources and applies them, answering the
 * {@link ReloadResult} (200, or 422 when the configuration is invalid and the old one keeps serving), and
 * {@code GET /api/reload} shows the last one;
 * {@code POST /api/cache/purge?url=U} or {@code ?prefix=P}, answering {@code {"removed": N}};
 * {@code GET /api/cluster}, the nodes of a cluster from their heartbeats. In a cluster, a backend change, a purge
 * and a reload apply on every node, and their answer has a {@code cluster} member saying which nodes acknowledged
 * ({@link AdminOperations#drain}). A bad request gets 400
 * with a reason. When a token is set ({@code admin.token}, or the {@code token} init-param), every path
 * but {@code /healthz} and {@code /readyz} needs {@code Authorization: Bearer TOKEN} (the dashboard page
 * also accepts {@code ?token=} and passes it on).
 */
public class AdminServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    /** The servlet-context attribute under which {@link ProxyFilter} publishes its engine. */
    public static final String ENGINE_ATTRIBUTE = ProxyEngine.class.getName();

    private transient Supplier<ProxyEngine> engine;
    private transient String token;

    /** An admin servlet for the engine a {@link ProxyFilter} of the same webapp publishes. */
    public AdminServlet() {}

    /** An admin servlet for a given engine. */
    public AdminServlet(ProxyEngine engine, String token) {
        this.engine = () -> engine;
        this.token = token;
    }

    @Override
    public void init() throws ServletException {
        if (engine == null) {
            engine = () -> (ProxyEngine) getServletContext().getAttribute(ENGINE_ATTRIBUTE);
            token = getInitParameter("token");
        }
    }

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String path = request.getPathInfo() == null ? "/" : request.getPathInfo();
        response.setHeader("Cache-Control", "no-store");
        response.setHeader("X-Content-Type-Options", "nosniff");
        if (path.equals("/healthz")) {
            text(response, 200, "ok\n");
            return;
        }
        ProxyEngine running = engine.get();
        if (running == null) {
            text(response, 503, "proxy engine not started\n");
            return;
        }
        if (path.equals("/readyz")) {
            if (running.draining()) {
                json(response, 503, Map.of("ready", false, "draining", true));
                return;
            }
            List<String> missing = new AdminOperations(running).poolsWithoutBackend();
            json(
                    response,
                    missing.isEmpty() ? 200 : 503,
                    Map.of("ready", missing.isEmpty(), "pools_without_backend", missing));
            return;
        }
        if (!authorized(request)) {
            response.setHeader("WWW-Authenticate", "Bearer realm=\"proxy-filter admin\"");
            json(response, 401, Map.of("error", "missing or wrong admin token"));
            return;
        }
        try {
            route(request, response, path, running);
        } catch (IllegalArgumentException e) {
            json(response, 400, Map.of("error", e.getMessage()));
        }
    }

    private void route(HttpServletRequest request, HttpServletResponse response, String path, ProxyEngine running)
            throws IOException {
        String method = request.getMethod();
        AdminOperations admin = new AdminOperations(running);
        if (path.equals("/") || path.equals("/index.html")) {
            requireMethod(method, "GET");
            dashboard(response);
        } else if (path.equals("/metrics")) {
            requireMethod(method, "GET");
            response.setStatus(200);
            response.setContentType("text/plain; version=0.0.4; charset=utf-8");
            running.metrics().writePrometheus(response.getOutputStream());
        } else if (path.equals("/metrics.json")) {
            requireMethod(method, "GET");
            json(response, 200, metricsJson(running));
        } else if (path.equals("/api/pools")) {
            requireMethod(method, "GET");
            Map<String, Object> cache = admin.cache();
            json(
                    response,
                    200,
                    cache == null ? Map.of("pools", admin.pools()) : Map.of("pools", admin.pools(), "cache", cache));
        } else if (path.equals("/api/cache/purge")) {
            requireMethod(method, "POST");
            json(response, 200, admin.purge(request.getParameter("url"), request.getParameter("prefix")));
        } else if (path.equals("/api/cluster")) {
            requireMethod(method, "GET");
            json(response, 200, admin.cluster());
        } else if (path.equals("/api/config")) {
            requireMethod(method, "GET");
            json(
                    response,
                    200,
                    Map.of(
                            "sources",
                            running.config().sources(),
                            "config",
                            admin.config(),
                            "reload",
                            admin.reloadStatus()));
        } else if (path.equals("/api/reload")) {
            if (method.equals("GET")) {
                json(response, 200, admin.reloadStatus());
            } else {
                requireMethod(method, "POST");
                Map<String, Object> result = admin.reload();
                // 422: the request was fine, the configuration it made the proxy read was not (here).
                json(response, Boolean.TRUE.equals(result.get("ok")) ? 200 : 422, result);
            }
        } else if (path.startsWith("/api/pools/")) {
            requireMethod(method, "POST");
            String[] parts = path.substring("/api/pools/".length()).split("/");
            if (parts.length != 4 || !parts[1].equals("backends")) {
                throw new IllegalArgumentException(
                        "path: " + path + " (expected: /api/pools/POOL/backends/BACKEND/enable|disable|drain|weight)");
            }
            String pool = parts[0];
            String backend = parts[2];
            Map<String, Object> done = switch (parts[3]) {
                case "enable" -> admin.enable(pool, backend);
                case "disable" -> admin.disable(pool, backend);
                case "drain" -> admin.drain(pool, backend);
                case "weight" -> admin.weight(pool, backend, intParam(request, "value"));
                default ->
                    throw new IllegalArgumentException(
                            "action: " + parts[3] + " (expected: enable, disable, drain or weight)");
            };
            json(response, 200, done);
        } else {
            json(response, 404, Map.of("error", "no such admin path; see /api/pools, /metrics, /healthz"));
        }
    }

    private static void requireMethod(String method, String expected) {
        if (!method.equals(expected)) {
            throw new IllegalArgumentException("method: " + method + " (expected: " + expected + ")");
        }
    }

    private static int intParam(HttpServletRequest request, String name) {
        String value = request.getParameter(name);
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    name + ": " + (value == null ? "missing" : value) + " (expected: integer)");
        }
    }

    private boolean authorized(HttpServletRequest request) {
        if (token == null) {
            return true;
        }
        String header = request.getHeader("Authorization");
        String given = header != null && header.startsWith("Bearer ")
                ? header.substring(7).trim()
                : request.getParameter("token");
        return given != null
                && MessageDigest.isEqual(
                        given.getBytes(StandardCharsets.UTF_8), token.getBytes(StandardCharsets.UTF_8));
    }

    private static Map<String, Object> metricsJson(ProxyEngine running) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<String, Metric> entry :
                running.metrics().registry().getMetrics().entrySet()) {
            Metric metric = entry.getValue();
            Map<String, Object> m = new LinkedHashMap<>();
            if (metric instanceof Gauge<?> gauge) {
                Object value = gauge.getValue();
                m.put("value", value instanceof Number || value instanceof Boolean ? value : String.valueOf(value));
            }
            if (metric instanceof Counting counting) {
                m.put("count", counting.getCount());
            }
            if (metric instanceof com.codahale.metrics.Metered metered) {
                m.put("m1_rate", metered.getOneMinuteRate());
                m.put("mean_rate", metered.getMeanRate());
            }
            if (metric instanceof Sampling sampling) {
                Snapshot snapshot = sampling.getSnapshot();
                m.put("p50", snapshot.getMedian());
                m.put("p99", snapshot.get99thPercentile());
                m.put("max", snapshot.getMax());
            }
            out.put(entry.getKey(), m);
        }
        return out;
    }

    private void dashboard(HttpServletResponse response) throws IOException {
        try (InputStream in = AdminServlet.class.getResourceAsStream("dashboard.html")) {
            if (in == null) {
                text(response, 500, "dashboard missing from the jar\n");
                return;
            }
            response.setStatus(200);
            response.setContentType("text/html; charset=utf-8");
            response.setHeader(
                    "Content-Security-Policy",
                    "default-src 'self'; script-src 'unsafe-inline' 'self'; "
                            + "style-src 'unsafe-inline' 'self'; img-src 'self' data:");
            in.transferTo(response.getOutputStream());
        }
    }

    private static void json(HttpServletResponse response, int status, Object body) throws IOException {
        byte[] bytes = (Json.write(body) + "\n").getBytes(StandardCharsets.UTF_8);
        response.setStatus(status);
        response.setContentType("application/json");
        response.setContentLength(bytes.length);
        response.getOutputStream().write(bytes);
    }

    private static void text(HttpServletResponse response, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        response.setStatus(status);
        response.setContentType("text/plain; charset=utf-8");
        response.setContentLength(bytes.length);
        response.getOutputStream().write(bytes);
    }
}
