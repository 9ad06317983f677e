package dev.proxyfilter.sample;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The webapp's own content: stands for whatever an existing webapp serves next to the proxied paths.
 * Requests outside {@code /api/*} never see the proxy filter and reach servlets like this one.
 */
public class HelloServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    /** The body of every answer. */
    public static final String GREETING = "hello from the webapp";

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        byte[] body = (GREETING + "\n").getBytes(StandardCharsets.UTF_8);
        response.setContentType("text/plain;charset=utf-8");
        response.setContentLength(body.length);
        response.getOutputStream().write(body);
    }
}
