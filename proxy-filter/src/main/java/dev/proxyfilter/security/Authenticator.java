package dev.proxyfilter.security;

import dev.proxyfilter.http.Header;
import java.util.List;

/**
 * Authentication of one route ({@code route.NAME.auth}). Each route has its own instance over its own
 * users or keys, so credentials good for one route are worth nothing on another.
 */
public interface Authenticator {

    /**
     * Checks the request's {@code Authorization} header ({@code null} when absent).
     *
     * @return {@link Result#accepted} with the headers to pass upstream, or a refusal with its challenge
     */
    Result authenticate(String authorization);

    /** An authentication outcome. */
    record Result(boolean accepted, List<Header> upstreamHeaders, Header challenge) {
        public Result {
            upstreamHeaders = List.copyOf(upstreamHeaders);
        }

        /** Accepted, passing {@code upstreamHeaders} to the backend. */
        public static Result accepted(List<Header> upstreamHeaders) {
            return new Result(true, upstreamHeaders, null);
        }

        /** Refused with 401 and this {@code WWW-Authenticate} challenge. */
        public static Result refused(Header challenge) {
            return new Result(false, List.of(), challenge);
        }
    }

    /** The part of {@code authorization} after {@code scheme} and a space (scheme in any case), or null. */
    static String credentials(String authorization, String scheme) {
        if (authorization == null
                || authorization.length() <= scheme.length()
                || !authorization.regionMatches(true, 0, scheme, 0, scheme.length())
                || authorization.charAt(scheme.length()) != ' ') {
            return null;
        }
        String credentials = authorization.substring(scheme.length() + 1).strip();
        return credentials.isEmpty() ? null : credentials;
    }
}
