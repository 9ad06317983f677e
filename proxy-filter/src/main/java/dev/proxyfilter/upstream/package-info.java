/**
 * The upstream side of forwarding, behind {@link dev.proxyfilter.upstream.Upstream}: a pooled HTTP/1.1 client
 * on Jetty's {@code io} layer ({@link org.eclipse.jetty.io.ClientConnector}, {@link
 * org.eclipse.jetty.http.HttpParser}), and a multiplexed HTTP/2 one ({@link dev.proxyfilter.upstream.Http2Upstream},
 * on Jetty's low-level HTTP/2 client, same connector). Both make {@link dev.proxyfilter.upstream.UpstreamExchange}s,
 * carried by an HTTP/1.1 connection or an HTTP/2 stream.
 *
 * <p>Why not Jetty's {@code HttpClient}: profiles of a proxied 100-byte request spent about three
 * quarters of the proxy's CPU inside {@code HttpClient} (its request, conversation and exchange objects,
 * listener notification, the {@code URI} it builds, the hand-off between its threads). A proxy needs none
 * of that: it sends a request head it has already cleaned and streams a body both ways. This client writes
 * the head straight from the fields into a per-connection buffer, reads a plain response head with a
 * {@code Content-Length} itself ({@link dev.proxyfilter.http1.FieldLines}: a line repeated from the connection's
 * previous response gives its field again) and parses any other with Jetty's own {@code HttpParser}, on the
 * thread that read it, and hands the body over as a {@link
 * org.eclipse.jetty.io.Content.Source} whose chunks are slices of the network buffer (no copy).
 * {@code HttpClient} still runs the active health checks, where speed does not matter.
 */
package dev.proxyfilter.upstream;
