package dev.proxyfilter.standalone;

import java.nio.file.Path;

/**
 * The parsed arguments of {@code bin/proxy-filter}.
 *
 * @param config   the properties file to run
 * @param help     {@code --help} was given: print the usage and exit
 * @param listKeys {@code --list-keys} was given: print every configuration key and exit
 */
public record CommandLine(Path config, boolean help, boolean listKeys) {
    /** The system property {@code bin/proxy-filter} sets to the distribution's directory. */
    public static final String HOME_PROPERTY = "proxyfilter.home";
    /** Where the default configuration sits, relative to the home directory. */
    public static final String DEFAULT_CONFIG = "config/proxy.properties";

    static final String USAGE = """
            usage: proxy-filter [--config FILE] [--list-keys] [--help]

            Runs the reverse proxy and load balancer in the foreground; SIGTERM stops it gracefully.

              --config FILE  the properties file to run
                             (default: config/proxy.properties in the distribution directory)
              --list-keys    print every configuration key with its default, whether a reload
                             applies it, and one line on it, then exit (docs/configuration.md has more)
              --help         print this help and exit

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
        boolean help = false;
        boolean listKeys = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("--help") || arg.equals("-h")) {
                help = true;
            } else if (arg.equals("--list-keys")) {
                listKeys = true;
            } else if (arg.equals("--config")) {
                if (i + 1 == args.length || args[i + 1].isEmpty()) {
                    throw StartupException.usage("--config: missing (expected: a properties file path)");
                }
                config = Path.of(args[++i]);
            } else if (arg.startsWith("--config=")) {
                String value = arg.substring("--config=".length());
                if (value.isEmpty()) {
                    throw StartupException.usage("--config: missing (expected: a properties file path)");
                }
                config = Path.of(value);
            } else {
                throw StartupException.usage("unknown argument: " + arg + " (expected: --config FILE or --help)");
            }
        }
        if (config == null) {
            config = home == null ? Path.of(DEFAULT_CONFIG) : home.resolve(DEFAULT_CONFIG);
        }
        return new CommandLine(config.toAbsolutePath().normalize(), help, listKeys);
    }

    /** The home directory {@code bin/proxy-filter} passes, or {@code null} when run some other way. */
    public static Path home(String homeProperty) {
        return homeProperty == null || homeProperty.isBlank() ? null : Path.of(homeProperty);
    }
}
