package dev.proxyfilter.forward;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The engine's exchange wrappers pass on every call they do not change: a method of {@link ClientExchange} that
 * {@link DelegatingExchange} left to the interface's default would answer with the default instead of the
 * adapter's (a response-head limit, whether an upgrade is possible), as the gRPC wrapper once did.
 */
class DelegatingExchangeTest {
    private static List<Method> exchangeMethods() {
        return Arrays.stream(ClientExchange.class.getMethods())
                .filter(m -> !Modifier.isStatic(m.getModifiers()))
                .toList();
    }

    @Test
    void everyMethodOfTheInterfaceIsDeclaredByTheDelegatingExchange() {
        for (Method method : exchangeMethods()) {
            Method declared;
            try {
                declared = DelegatingExchange.class.getDeclaredMethod(method.getName(), method.getParameterTypes());
            } catch (NoSuchMethodException e) {
                throw new AssertionError("DelegatingExchange does not pass on " + method, e);
            }
            assertThat(Modifier.isAbstract(declared.getModifiers()))
                    .as("%s", declared)
                    .isFalse();
        }
    }

    @Test
    void eachCallReachesTheDelegateAndTwoArgumentSendErrorGoesThroughTheWrappersOwn() throws Exception {
        List<String> received = new ArrayList<>();
        ClientExchange recorder = (ClientExchange) Proxy.newProxyInstance(
                ClientExchange.class.getClassLoader(), new Class<?>[] {ClientExchange.class}, (proxy, m, args) -> {
                    received.add(m.getName() + "/" + m.getParameterCount());
                    return zero(m.getReturnType());
                });
        List<String> throughWrapper = new ArrayList<>();
        DelegatingExchange wrapper = new DelegatingExchange(recorder) {
            @Override
            public void sendError(int status, String message, org.eclipse.jetty.http.HttpFields headers) {
                throughWrapper.add("sendError/3");
                super.sendError(status, message, headers);
            }
        };
        for (Method method : exchangeMethods()) {
            received.clear();
            Object[] args = Arrays.stream(method.getParameterTypes())
                    .map(DelegatingExchangeTest::zero)
                    .toArray();
            method.invoke(wrapper, args);
            String expected = method.getName().equals("sendError")
                    ? "sendError/3"
                    : method.getName() + "/" + method.getParameterCount();
            assertThat(received).as("%s reaches the delegate", method).containsExactly(expected);
        }
        assertThat(throughWrapper)
                .as("both sendError calls through the wrapper's own")
                .hasSize(2);
    }

    private static Object zero(Class<?> type) {
        if (type == boolean.class) {
            return false;
        }
        if (type == int.class) {
            return 0;
        }
        if (type == long.class) {
            return 0L;
        }
        return null;
    }

    @Test
    void theWrappersDeclareOnlyWhatTheyChange() throws Exception {
        assertThat(declared(GrpcExchange.class))
                .isEqualTo(Set.of("sendError/3", "abort/1", "write/3", "toString/0", "wrap/1", "endWithStatus/3"));
        Class<?> releasing = Class.forName(SecurityStep.class.getName() + "$ReleasingExchange");
        assertThat(declared(releasing))
                .isEqualTo(Set.of("end/0", "begin/1", "complete/0", "sendError/3", "abort/1", "upgrade/2"));
    }

    private static Set<String> declared(Class<?> type) {
        return Arrays.stream(type.getDeclaredMethods())
                .filter(m -> !m.isSynthetic())
                .map(m -> m.getName() + "/" + m.getParameterCount())
                .collect(Collectors.toSet());
    }
}
