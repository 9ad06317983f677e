package dev.proxyfilter.standalone;

/**
 * A failure to start that the operator can fix from the message alone, so {@link ProxyMain} prints it
 * without a stack trace. Configuration values at fault are named with the usual
 * {@code key: value (expected: ...)} shape.
 */
public final class StartupException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The process exit status for a bad command line, as most Unix tools use it. */
    public static final int USAGE_STATUS = 2;
    /** The process exit status for every other failure to start. */
    public static final int FAILURE_STATUS = 1;

    private final int exitStatus;

    private StartupException(int exitStatus, String message, Throwable cause) {
        super(message, cause);
        this.exitStatus = exitStatus;
    }

    /** The command line is wrong: {@code bin/proxy-filter} exits with {@value #USAGE_STATUS}. */
    public static StartupException usage(String message) {
        return new StartupException(USAGE_STATUS, message, null);
    }

    /** Something outside the configuration file is in the way, such as a port in use. */
    public static StartupException failure(String message, Throwable cause) {
        return new StartupException(FAILURE_STATUS, message, cause);
    }

    /** The status the process exits with. */
    public int exitStatus() {
        return exitStatus;
    }

    /** Whether this is a command-line error, after which the usage text helps. */
    public boolean isUsage() {
        return exitStatus == USAGE_STATUS;
    }
}
