package dev.proxyfilter.forward;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.content.AsyncContent;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The response copy's loop on its own: chunks from a real {@link AsyncContent} source, a client whose writes
 * complete on the calling thread, on another thread, or fail, and a source that throws. The end-to-end
 * behaviour (trailers, a client leaving, the cache's tee) is the adapter matrix's.
 */
@Timeout(30)
class ResponseCopyTest {
    private final ExecutorService other = Executors.newSingleThreadExecutor();

    @AfterEach
    void stop() throws InterruptedException {
        other.shutdownNow();
        other.awaitTermination(5, TimeUnit.SECONDS);
    }

    /** How the copy ended. */
    private static final class Ending implements ResponseCopy.Outcome {
        final AtomicInteger lastWrites = new AtomicInteger();
        final AtomicInteger copied = new AtomicInteger();
        final AtomicInteger failed = new AtomicInteger();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        volatile boolean clientWrite;

        @Override
        public void lastWrite() {
            assertThat(copied).as("told before the last write, not after").hasValue(0);
            lastWrites.incrementAndGet();
        }

        @Override
        public void copied() {
            copied.incrementAndGet();
        }

        @Override
        public void copyFailed(Throwable cause, boolean byClientWrite) {
            failed.incrementAndGet();
            failure.set(cause);
            clientWrite = byClientWrite;
        }
    }

    /** Writes go here; {@code answer} completes each write's callback (or not). */
    private interface Writes {
        void write(boolean last, ByteBuffer content, Callback callback);
    }

    /** A client exchange whose writes go to {@code writes}; nothing else of it is used by the copy. */
    private static ClientExchange client(Writes writes) {
        return (ClientExchange) Proxy.newProxyInstance(
                ClientExchange.class.getClassLoader(), new Class<?>[] {ClientExchange.class}, (proxy, method, args) -> {
                    if (method.getName().equals("write") && args != null && args.length == 3) {
                        writes.write((Boolean) args[0], (ByteBuffer) args[1], (Callback) args[2]);
                        return null;
                    }
                    if (method.getName().equals("responseTrailers")) {
                        return null;
                    }
                    Class<?> type = method.getReturnType();
                    return type == boolean.class ? false : type == int.class ? 0 : type == long.class ? 0L : null;
                });
    }

    @Test
    void tenThousandChunksWrittenOnTheCallingThreadArriveInOrderWithoutRecursion() throws Exception {
        AsyncContent source = new AsyncContent();
        int chunks = 10_000;
        for (int i = 0; i < chunks; i++) {
            source.write(
                    i == chunks - 1,
                    ByteBuffer.wrap(Integer.toString(i).getBytes(StandardCharsets.US_ASCII)),
                    Callback.NOOP);
        }
        List<String> written = new CopyOnWriteArrayList<>();
        Ending ending = new Ending();

        new ResponseCopy(
                        source,
                        client((last, content, callback) -> {
                            written.add(
                                    StandardCharsets.US_ASCII.decode(content).toString());
                            callback.succeeded(); // on this thread, inside the write: the copy loops, it does not
                            // recurse
                        }),
                        null,
                        ending)
                .start();

        assertThat(ending.copied).hasValue(1);
        assertThat(ending.lastWrites)
                .as("the request body stops being read before the last write")
                .hasValue(1);
        assertThat(ending.failed).hasValue(0);
        assertThat(written).hasSize(chunks);
        for (int i = 0; i < chunks; i++) {
            assertThat(written.get(i)).isEqualTo(Integer.toString(i));
        }
    }

    @Test
    void chunksThatArriveLaterAndWritesThatCompleteOnAnotherThreadAllArrive() throws Exception {
        AsyncContent source = new AsyncContent();
        List<String> written = new CopyOnWriteArrayList<>();
        Ending ending = new Ending();
        new ResponseCopy(
                        source,
                        client((last, content, callback) -> {
                            written.add(
                                    StandardCharsets.US_ASCII.decode(content).toString());
                            other.execute(callback::succeeded);
                        }),
                        null,
                        ending)
                .start();

        for (int i = 0; i < 200; i++) {
            source.write(false, ByteBuffer.wrap(("c" + i).getBytes(StandardCharsets.US_ASCII)), Callback.NOOP);
        }
        source.write(true, ByteBuffer.wrap("end".getBytes(StandardCharsets.US_ASCII)), Callback.NOOP);

        org.awaitility.Awaitility.await()
                .atMost(java.time.Duration.ofSeconds(10))
                .until(() -> ending.copied.get() == 1);
        assertThat(written).hasSize(201).endsWith("end");
        assertThat(written.get(0)).isEqualTo("c0");
        assertThat(ending.failed).hasValue(0);
    }

    @Test
    void aFailedWriteIsTheClientsFailureAndFailsTheSourceOnce() throws Exception {
        AsyncContent source = new AsyncContent();
        source.write(false, ByteBuffer.wrap(new byte[] {1}), Callback.NOOP);
        Ending ending = new Ending();
        java.io.IOException gone = new java.io.IOException("client gone");

        new ResponseCopy(source, client((last, content, callback) -> callback.failed(gone)), null, ending).start();

        assertThat(ending.failed).hasValue(1);
        assertThat(ending.failure.get()).isSameAs(gone);
        assertThat(ending.clientWrite).isTrue();
        assertThat(ending.copied).hasValue(0);
        Content.Chunk after = source.read();
        assertThat(Content.Chunk.isFailure(after)).as("the source was failed").isTrue();
    }

    @Test
    void aSourceThatThrowsEndsTheCopyAsAFailureAndLaterWakeUpsDoNothing() throws Exception {
        AtomicInteger reads = new AtomicInteger();
        AtomicReference<Throwable> failedWith = new AtomicReference<>();
        IllegalStateException broken = new IllegalStateException("broken source");
        Content.Source source = new Content.Source() {
            @Override
            public Content.Chunk read() {
                reads.incrementAndGet();
                throw broken;
            }

            @Override
            public void demand(Runnable demandCallback) {
                demandCallback.run();
            }

            @Override
            public void fail(Throwable failure) {
                failedWith.set(failure);
            }
        };
        Ending ending = new Ending();
        ResponseCopy copy =
                new ResponseCopy(source, client((last, content, callback) -> callback.succeeded()), null, ending);

        copy.start();
        copy.run(); // a late demand callback: the copy has ended

        assertThat(ending.failed).hasValue(1);
        assertThat(ending.failure.get()).isSameAs(broken);
        assertThat(ending.clientWrite).isFalse();
        assertThat(failedWith.get()).isSameAs(broken);
        assertThat(reads).as("no read after the end").hasValue(1);
    }
}
