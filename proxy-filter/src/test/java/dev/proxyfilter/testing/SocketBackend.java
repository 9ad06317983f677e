package dev.proxyfilter.testing;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A backend on a bare server socket, for faults a servlet cannot produce: a connection reset before
 * or in the middle of a response. Each accepted connection runs {@code behaviour} on its own daemon
 * thread.
 */
public final class SocketBackend implements AutoCloseable {
    /** What to do with one connection. */
    public interface Behaviour {
        void handle(Socket socket) throws IOException;
    }

    private final ServerSocket server;
    public final AtomicInteger connections = new AtomicInteger();

    private SocketBackend(Behaviour behaviour) throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(
                () -> {
                    while (!server.isClosed()) {
                        try {
                            Socket socket = server.accept();
                            connections.incrementAndGet();
                            Thread worker = new Thread(
                                    () -> {
                                        try (socket) {
                                            behaviour.handle(socket);
                                        } catch (IOException ignored) {
                                            // the proxy may close first
                                        }
                                    },
                                    "socket-backend-worker");
                            worker.setDaemon(true);
                            worker.start();
                        } catch (IOException e) {
                            return;
                        }
                    }
                },
                "socket-backend-acceptor");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public static SocketBackend start(Behaviour behaviour) {
        try {
            return new SocketBackend(behaviour);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public URI url() {
        return URI.create("http://127.0.0.1:" + server.getLocalPort());
    }

    /** Reads a request head (up to the blank line) and returns it. */
    public static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0) {
            head.append((char) c);
            if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) {
                break;
            }
        }
        return head.toString();
    }

    /** Closes with RST instead of FIN. */
    public static void reset(Socket socket) throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }

    public static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException ignored) {
            // closing
        }
    }
}
