package dev.proxyfilter.balance;

/**
 * Picks backends of one pool according to a {@link Strategy}; made by {@link Strategy#newSelector}.
 * Thread-safe: request threads call it concurrently.
 */
public sealed interface BackendSelector
        permits WeightedRoundRobinSelector,
                RoundRobinSelector,
                RandomSelector,
                LeastRequestSelector,
                ResponseTimeSelector,
                ConsistentHashSelector {

    /**
     * Picks a backend for a new request.
     *
     * @param request what the strategy may read of the request, such as a hash key; only
     *                {@link Strategy#consistentHash} reads it. {@link RequestView#NONE} when there is none
     * @param exclude a backend already tried for this request, avoided while another is eligible and
     *                returned when it is the only eligible one, so the caller decides; may be null
     * @return an available backend with a weight above zero, or {@code null} when there is none
     */
    Backend select(RequestView request, Backend exclude);

    /** {@link #select(RequestView, Backend)} for a request about which nothing is known. */
    default Backend select(Backend exclude) {
        return select(RequestView.NONE, exclude);
    }
}
