package dev.proxyfilter.balance;

/**
 * What a pool may read of the request it places: the hash key of {@link Strategy#consistentHash} and
 * the cookie of session affinity. The engine implements it over the client request as it arrived, so
 * that a strategy that reads nothing costs nothing: no cookie is parsed unless a pool asks for one.
 *
 * <p>Every method returns {@code null} for what the request does not have.
 */
public interface RequestView {

    /** A request about which nothing is known, for callers without one: every method returns {@code null}. */
    RequestView NONE = new RequestView() {
        @Override
        public String clientIp() {
            return null;
        }

        @Override
        public String header(String name) {
            return null;
        }

        @Override
        public String cookie(String name) {
            return null;
        }

        @Override
        public String path() {
            return null;
        }

        @Override
        public String toString() {
            return "RequestView.NONE";
        }
    };

    /** The client's IP address: the peer's, or behind trusted proxies the one they report (security.trusted-proxies). */
    String clientIp();

    /** The value of the first request header field called {@code name}, compared without regard to case. */
    String header(String name);

    /** The value of cookie {@code name} from the request's {@code Cookie} headers; names are case-sensitive. */
    String cookie(String name);

    /** The request path as received, still percent-encoded, without the query. */
    String path();
}
