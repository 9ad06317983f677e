package dev.proxyfilter.upstream;

import org.eclipse.jetty.util.thread.Scheduler;

/** Where an {@link UpstreamExchange} goes to find its carrier: one backend address of one upstream client. */
interface ExchangeRoute {
    /** Finds the exchange a carrier now, or queues it, or fails it. */
    void send(UpstreamExchange exchange);

    /** Forgets the exchange if it is still waiting (aborted while queued). */
    void dequeue(UpstreamExchange exchange);

    /** Runs the exchange's total timeout. */
    Scheduler scheduler();
}
