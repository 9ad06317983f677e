package dev.proxyfilter.sample;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.LifecycleMethodExecutionExceptionHandler;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;
import org.opentest4j.TestAbortedException;

/**
 * Appends the container's logs to the message of whatever fails in a test or in its set-up: a black-box
 * failure is read from the container's side. The test instance names them by implementing {@link Source}.
 */
final class ContainerLogsOnFailure implements TestExecutionExceptionHandler, LifecycleMethodExecutionExceptionHandler {

    /** A test whose failures come with container logs. */
    interface Source {
        /** The logs to quote, or an empty string when no container has started. */
        String containerLogs();
    }

    @Override
    public void handleTestExecutionException(ExtensionContext context, Throwable failure) throws Throwable {
        throw withLogs(context, failure);
    }

    @Override
    public void handleBeforeAllMethodExecutionException(ExtensionContext context, Throwable failure) throws Throwable {
        throw withLogs(context, failure);
    }

    @Override
    public void handleBeforeEachMethodExecutionException(ExtensionContext context, Throwable failure) throws Throwable {
        throw withLogs(context, failure);
    }

    @Override
    public void handleAfterEachMethodExecutionException(ExtensionContext context, Throwable failure) throws Throwable {
        throw withLogs(context, failure);
    }

    @Override
    public void handleAfterAllMethodExecutionException(ExtensionContext context, Throwable failure) throws Throwable {
        throw withLogs(context, failure);
    }

    private static Throwable withLogs(ExtensionContext context, Throwable failure) {
        if (failure instanceof TestAbortedException
                || !(context.getTestInstance().orElse(null) instanceof Source source)) {
            return failure;
        }
        String logs;
        try {
            logs = source.containerLogs();
        } catch (RuntimeException e) {
            logs = "(logs unreadable: " + e + ")";
        }
        if (logs.isEmpty()) {
            return failure;
        }
        AssertionError withLogs = new AssertionError(failure.getMessage() + "\n" + logs, failure);
        withLogs.setStackTrace(failure.getStackTrace());
        return withLogs;
    }
}
