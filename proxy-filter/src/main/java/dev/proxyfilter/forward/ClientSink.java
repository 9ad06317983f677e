package dev.proxyfilter.forward;

import java.nio.ByteBuffer;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.util.Callback;

/**
 * The client as the response copy's sink, marking the client gone when a write fails: a client that went away
 * mid-response is not a backend failure (its log line, its error metric), as nginx's 499 is not a
 * 502. The engine writes one chunk at a time, so one pending callback.
 */
final class ClientSink implements Content.Sink, Callback {
    private final ClientExchange client;
    private final Runnable onWriteFailed;
    private Callback pending;

    /** @param onWriteFailed runs when a write to the client failed, before the copy hears of it */
    ClientSink(ClientExchange client, Runnable onWriteFailed) {
        this.client = client;
        this.onWriteFailed = onWriteFailed;
    }

    @Override
    public void write(boolean last, ByteBuffer content, Callback callback) {
        pending = callback;
        client.write(last, content, this);
    }

    @Override
    public void succeeded() {
        Callback done = pending;
        pending = null;
        done.succeeded();
    }

    @Override
    public void failed(Throwable failure) {
        onWriteFailed.run(); // now: the copy fails the upstream exchange before it tells its callback
        Callback done = pending;
        pending = null;
        done.failed(failure);
    }

    @Override
    public InvocationType getInvocationType() {
        Callback current = pending;
        return current == null ? InvocationType.BLOCKING : current.getInvocationType();
    }
}
