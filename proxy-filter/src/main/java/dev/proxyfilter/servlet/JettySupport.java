package dev.proxyfilter.servlet;

import jakarta.servlet.ServletRequest;
import java.lang.reflect.Method;

/**
 * Jetty 12 ee10: aborts through {@code ServletContextRequest.getServletChannel().abort(failure)}.
 *
 * <p>Reached by reflection through the request's own class loader, because a Jetty
 * {@code WebAppContext} hides the server's classes from the webapp: linking against them would fail
 * with {@code NoClassDefFoundError} when the library sits in {@code WEB-INF/lib}.
 */
final class JettySupport {
    private static final ClassValue<Method[]> METHODS = new ClassValue<>() {
        @Override
        protected Method[] computeValue(Class<?> requestClass) {
            try {
                Class<?> contextRequest = Class.forName(
                        "org.eclipse.jetty.ee10.servlet.ServletContextRequest", false, requestClass.getClassLoader());
                Method lookup = contextRequest.getMethod("getServletContextRequest", ServletRequest.class);
                Method channel = contextRequest.getMethod("getServletChannel");
                Method abort = channel.getReturnType().getMethod("abort", Throwable.class);
                return new Method[] {lookup, channel, abort};
            } catch (ReflectiveOperationException | LinkageError e) {
                return null;
            }
        }
    };

    private JettySupport() {}

    static boolean abort(ServletRequest request, Throwable failure) {
        Method[] methods = METHODS.get(request.getClass());
        if (methods == null) {
            return false;
        }
        try {
            Object contextRequest = methods[0].invoke(null, request);
            if (contextRequest == null) {
                return false;
            }
            Object channel = methods[1].invoke(contextRequest);
            methods[2].invoke(channel, failure);
            return true;
        } catch (ReflectiveOperationException e) {
            return false;
        }
    }
}
