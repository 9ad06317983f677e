import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;

/**
 * The WebSocket echo origin of bench/load/websocket.sh: RFC 6455 with the JDK alone, so that both proxies
 * measured face the same, small backend. A thread per connection reads each frame (masked, as clients send
 * them), and writes it back unmasked with the same opcode; a close frame is answered with a close frame, then
 * the connection closes. Text, binary and continuation frames are echoed frame by frame.
 *
 * <pre>
 * java bench/load/WsEchoServer.java PORT
 * </pre>
 *
 * Listens on 127.0.0.1 only, prints {@code LISTENING PORT} once it accepts, and runs until killed.
 */
public final class WsEchoServer {
    private static final String GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    public static void main(String[] args) throws IOException {
        ServerSocket server = new ServerSocket(Integer.parseInt(args[0]), 1024, InetAddress.getLoopbackAddress());
        System.out.println("LISTENING " + server.getLocalPort());
        while (true) {
            Socket socket = server.accept();
            Thread worker = new Thread(() -> serve(socket), "ws-echo");
            worker.setDaemon(true);
            worker.start();
        }
    }

    private static void serve(Socket socket) {
        try (socket) {
            socket.setTcpNoDelay(true);
            DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(socket.getInputStream(), 65536));
            OutputStream out = new java.io.BufferedOutputStream(socket.getOutputStream(), 65536);
            String key = null;
            String line;
            while (!(line = readLine(in)).isEmpty()) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase("Sec-WebSocket-Key")) {
                    key = line.substring(colon + 1).trim();
                }
            }
            if (key == null) {
                out.write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                out.flush();
                return;
            }
            String accept = Base64.getEncoder()
                    .encodeToString(MessageDigest.getInstance("SHA-1")
                            .digest((key + GUID).getBytes(StandardCharsets.US_ASCII)));
            out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            + "Sec-WebSocket-Accept: " + accept + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            byte[] payload = new byte[65536];
            while (true) {
                int b0 = in.read();
                if (b0 < 0) {
                    return;
                }
                int b1 = in.readUnsignedByte();
                long length = b1 & 0x7F;
                if (length == 126) {
                    length = in.readUnsignedShort();
                } else if (length == 127) {
                    length = in.readLong();
                }
                byte[] mask = new byte[4];
                boolean masked = (b1 & 0x80) != 0;
                if (masked) {
                    in.readFully(mask);
                }
                if (length > payload.length) {
                    payload = new byte[(int) length];
                }
                in.readFully(payload, 0, (int) length);
                if (masked) {
                    for (int i = 0; i < length; i++) {
                        payload[i] ^= mask[i & 3];
                    }
                }
                out.write(b0);
                if (length < 126) {
                    out.write((int) length);
                } else if (length < 65536) {
                    out.write(126);
                    out.write((int) (length >>> 8));
                    out.write((int) length);
                } else {
                    out.write(127);
                    for (int shift = 56; shift >= 0; shift -= 8) {
                        out.write((int) (length >>> shift));
                    }
                }
                out.write(payload, 0, (int) length);
                out.flush();
                if ((b0 & 0x0F) == 0x8) {
                    return; // close answered: the server closes first, as RFC 6455 wants
                }
            }
        } catch (Exception e) {
            // a client that went away
        }
    }

    private static String readLine(DataInputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') {
            if (c != '\r') {
                line.append((char) c);
            }
        }
        return line.toString();
    }
}
