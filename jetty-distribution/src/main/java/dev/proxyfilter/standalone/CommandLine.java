package dev.proxyfilter.standalone;

import java.nio.file.Path;

/**
 * The parsed arguments of {@code bin/proxy-filter}.
 *
 * @param config   the properties file to run
 * @param help     {@code --help} was given: print the usage and exit
 * @param listKeys {@code --list-keys} was given: print every configuration key and exit
 * @param pidFile  {@code --pid-file FILE}: where this process writes its pid, or {@code null}
 * @param takeover {@code --takeover}: replace the proxy whose pid {@code pidFile} holds, if one runs
 */
public record CommandLine(Path config, boolean help, boolean listKeys, Path pidFile, boolean takeover) {
    /** The system property {@code bin/proxy-filter} sets to the distribution's directory. */
    public static final String HOME_PROPERTY = "proxyfilter.home";
    /** Where the default configuration sits, relative to the home directory. */
    public static final String DEFAULT_CONFIG = "config/proxy.properties";

    static final String USAGE = """
            usage: proxy-filter [--config FILE] [--pid-file FILE [--takeover]] [--list-keys] [--help]

            Runs the reverse proxy and load balancer in the foreground; SIGTERM stops it gracefully.

              --config FILE    the properties file to run
                               (default: config/proxy.properties in the distribution directory)
              --pid-file FILE  write this process's pid there once it serves; refuse to start while
                               the proxy it names still runs, unless --takeover
              --takeover       with server.reuse-port=true: start next to the proxy that --pid-file
                               names, on the same ports; once ready, write the pid file and stop that
                               one (SIGTERM), which hands its traffic over and drains. Without a
                               running proxy there, a plain start
              --list-keys      print every configuration key with its default, whether a reload
                               applies it, and one line on it, then exit (docs/configuration.md has more)
              --help           print this help and exit

            System properties override keys of the file: -Dproxyfilter.KEY=VALUE, for example
            PROXY_FILTER_OPTS=-Dproxyfilter.server.port=9090 bin/proxy-filter
            """;

    /**
     * Parses the arguments.
     *
     * @param home the distribution's directory, or {@code null} to resolve the default config against
     *             the working directory
     * @throws StartupException (usage) for an unknown argument or a missing value
     */
    public static CommandLine parse(String[] args, Path home) {
        Path config = null;
        Path pidFile = null;
        boolean help = false;
        boolean listKeys = false;
        boolean takeover = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("--help") || arg.equals("-h")) {
                help = true;
            } else if (arg.equals("--list-keys")) {
                listKeys = true;
            } else if (arg.equals("--takeover")) {
                takeover = true;
            } else if (arg.equals("--config") || arg.startsWith("--config=")) {
                config = Path.of(value(args, i, "--config", "a properties file path"));
                i += arg.contains("=") ? 0 : 1;
            } else if (arg.equals("--pid-file") || arg.startsWith("--pid-file=")) {
                pidFile = Path.of(value(args, i, "--pid-file", "a file path"));
                i += arg.contains("=") ? 0 : 1;
            } else {
                throw StartupException.usage("unknown argument: " + arg
                        + " (expected: --config FILE, --pid-file FILE, --takeover or --help)");
            }
        }
        if (takeover && pidFile == null) {
            throw StartupException.usage(
                    "--takeover: no --pid-file (expected: --pid-file FILE, the file the running proxy wrote)");
        }
        if (config == null) {
            config = home == null ? Path.of(DEFAULT_CONFIG) : home.resolve(DEFAULT_CONFIG);
        }
        return new CommandLine(
                config.toAbsolutePath().normalize(),
                help,
                listKeys,
                pidFile == null ? null : pidFile.toAbsolutePath().normalize(),
                takeover);
    }

    /** The value of {@code args[i]}: after its {@code =}, else the next argument. */
    private static String value(String[] args, int i, String option, String expected) {
        String arg = args[i];
        String value;
        if (arg.startsWith(option + "=")) {
            value = arg.substring(option.length() + 1);
        } else {
            value = i + 1 == args.length ? "" : args[i + 1];
        }
        if (value.isEmpty()) {
            throw StartupException.usage(option + ": missing (expected: " + expected + ")");
        }
        return value;
    }

    /** The home directory {@code bin/proxy-filter} passes, or {@code null} when run some other way. */
    public static Path home(String homeProperty) {
        return homeProperty == null || homeProperty.isBlank() ? null : Path.of(homeProperty);
    }
}
