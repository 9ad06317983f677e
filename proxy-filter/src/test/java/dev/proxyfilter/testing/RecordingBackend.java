package dev.proxyfilter.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A backend on a bare socket that records exactly what reached it: each request's head as received and
 * its body as framed by the head (Content-Length or chunked). It answers every request 200 "ok" and keeps
 * the connection, so that a smuggled second request would show up as a second record.
 */
public final class RecordingBackend implements AutoCloseable {
    /** One request as the backend parsed it. */
    public record Received(String head, byte[] body) {
        public String requestLine() {
            return head.substring(0, head.indexOf("\r\n"));
        }

        /** Values of a header, names compared case-insensitively. */
        public List<String> headers(String name) {
            List<String> values = new ArrayList<>();
            for (String line : head.split("\r\n")) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).equalsIgnoreCase(name)) {
                    values.add(line.substring(colon + 1).strip());
                }
            }
            return values;
        }

        public String bodyText() {
            return new String(body, StandardCharsets.ISO_8859_1);
        }
    }

    private final List<Received> received = new ArrayList<>();
    private final SocketBackend socket;

    public RecordingBackend() {
        socket = SocketBackend.start(s -> {
            s.setSoTimeout(15_000);
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            while (true) {
                String head;
                try {
                    head = SocketBackend.readHead(in);
                } catch (SocketTimeoutException e) {
                    return;
                }
                if (head.isEmpty()) {
                    return;
                }
                byte[] body = readBody(in, head);
                synchronized (received) {
                    received.add(new Received(head, body));
                }
                out.write(SocketBackend.ascii(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"));
                out.flush();
            }
        });
    }

    private static byte[] readBody(InputStream in, String head) throws IOException {
        Received parsed = new Received(head, new byte[0]);
        List<String> te = parsed.headers("Transfer-Encoding");
        List<String> cl = parsed.headers("Content-Length");
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        if (!te.isEmpty() && te.get(0).toLowerCase(Locale.ROOT).contains("chunked")) {
            while (true) {
                String size = line(in);
                int n = Integer.parseInt(size.split(";")[0].trim(), 16);
                if (n == 0) {
                    while (!line(in).isEmpty()) {
                        // trailers
                    }
                    return body.toByteArray();
                }
                body.write(in.readNBytes(n));
                line(in);
            }
        }
        if (!cl.isEmpty()) {
            int length = Integer.parseInt(cl.get(0));
            byte[] bytes = in.readNBytes(length);
            if (bytes.length < length) {
                throw new IOException("closed in the body"); // an aborted request is not a received one
            }
            body.write(bytes);
        }
        return body.toByteArray();
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') {
            sb.append((char) c);
        }
        if (c < 0) {
            throw new IOException("closed in a chunk");
        }
        return sb.toString().replace("\r", "");
    }

    public URI url() {
        return socket.url();
    }

    /** The requests received so far. */
    public List<Received> received() {
        synchronized (received) {
            return List.copyOf(received);
        }
    }

    @Override
    public void close() {
        socket.close();
    }
}
