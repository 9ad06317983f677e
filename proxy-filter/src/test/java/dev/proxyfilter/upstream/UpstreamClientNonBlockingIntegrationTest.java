package dev.proxyfilter.upstream;

import org.eclipse.jetty.util.thread.Invocable;

/**
 * Every test of {@link UpstreamClientIntegrationTest} again with the response parsed and the listener run on the
 * selector thread ({@link Invocable.InvocationType#NON_BLOCKING}), where races with other threads
 * (aborts, timeouts, a reader on its own thread) take other turns.
 */
class UpstreamClientNonBlockingIntegrationTest extends UpstreamClientIntegrationTest {
    @Override
    void configure(UpstreamClient upstream) {
        upstream.setReadInvocationType(Invocable.InvocationType.NON_BLOCKING);
    }
}
