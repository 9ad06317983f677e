package dev.proxyfilter.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The value parsers of the {@code cluster.*} keys, and the checks between them that build a
 * {@link ClusterConfig}: the other keys only once {@code cluster.enabled} is set, the network keys not with a
 * Hazelcast file, the member's own port and interface not for a client, which needs members instead.
 */
final class ClusterSettings {
    static final String MODE = "embedded|client";
    static final String NAME = "1 to 64 letters, digits, '.', '_' or '-'";
    static final String MEMBERS =
            "comma-separated host[:port] addresses with port 1..65535, e.g." + " 10.0.0.1:5701,10.0.0.2, or empty";
    static final String PORT = "integer 1..65535";
    static final String INTERFACE =
            "an IPv4 address of this host, * standing for any number in a part, e.g." + " 10.0.1.*";
    static final String XML = "path of a readable Hazelcast XML or YAML file";
    static final String RATE_LIMITS = "cluster|node";
    static final String RATE_LIMIT_TIMEOUT = "duration > 0 such as 50ms or 1s";

    /** The {@code expected} of a {@code cluster.*} key while clustering is off. */
    static final String CLUSTER_ON = "cluster.enabled=true too; clustering is off";

    private static final Pattern NAME_PATTERN = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final Pattern MEMBER = Pattern.compile("([A-Za-z0-9.-]+|\\[[0-9A-Fa-f:.]+])(?::([0-9]{1,5}))?");
    private static final Pattern INTERFACE_PATTERN = Pattern.compile("(\\*|[0-9]{1,3})(\\.(\\*|[0-9]{1,3})){3}");

    /** What the loader collects of {@code cluster.*}, with the settings to name in messages. */
    static final class Draft {
        final Map<String, Setting> settings = new LinkedHashMap<>();
        boolean enabled;
        ClusterConfig.Mode mode = ClusterConfig.Mode.EMBEDDED;
        String name = ClusterConfig.DEFAULT_NAME;
        List<String> members = List.of();
        int port = ClusterConfig.DEFAULT_PORT;
        String bindInterface;
        Path hazelcastXml;
        ClusterConfig.RateLimitScope rateLimits = ClusterConfig.RateLimitScope.CLUSTER;
        java.time.Duration rateLimitTimeout = ClusterConfig.DEFAULT_RATE_LIMIT_TIMEOUT;

        /** Remembers the setting, for the checks between keys. */
        Draft with(Setting setting) {
            settings.put(setting.key(), setting);
            return this;
        }

        ClusterConfig build() {
            if (settings.isEmpty()) {
                return ClusterConfig.disabled();
            }
            if (!settings.containsKey("cluster.enabled")) {
                throw settings.values().iterator().next().invalid(CLUSTER_ON);
            }
            if (hazelcastXml != null) {
                for (String key : List.of("cluster.name", "cluster.members", "cluster.port", "cluster.interface")) {
                    Setting replaced = settings.get(key);
                    if (replaced != null) {
                        throw replaced.invalid("not set with cluster.hazelcast-xml, whose file configures the cluster");
                    }
                }
            }
            if (mode == ClusterConfig.Mode.CLIENT) {
                for (String key : List.of("cluster.port", "cluster.interface")) {
                    Setting memberOnly = settings.get(key);
                    if (memberOnly != null) {
                        throw memberOnly.invalid("no " + key.substring("cluster.".length())
                                + ", which only cluster.mode=embedded uses; cluster.mode is client");
                    }
                }
                if (hazelcastXml == null && members.isEmpty()) {
                    Setting membersSetting = settings.get("cluster.members");
                    throw new ConfigException(
                            "cluster.members",
                            membersSetting == null ? null : Setting.display(membersSetting.value()),
                            "host[:port] of at least one member, required by cluster.mode=client",
                            settings.get("cluster.mode").source());
                }
            }
            return new ClusterConfig(
                    enabled, mode, name, members, port, bindInterface, hazelcastXml, rateLimits, rateLimitTimeout);
        }
    }

    private ClusterSettings() {}

    static ClusterConfig.RateLimitScope rateLimits(Setting setting) {
        return ClusterConfig.RateLimitScope.fromConfigName(setting.value())
                .orElseThrow(() -> setting.invalid(RATE_LIMITS));
    }

    static ClusterConfig.Mode mode(Setting setting) {
        return ClusterConfig.Mode.fromConfigName(setting.value()).orElseThrow(() -> setting.invalid(MODE));
    }

    static String name(Setting setting) {
        if (!NAME_PATTERN.matcher(setting.value()).matches()) {
            throw setting.invalid(NAME);
        }
        return setting.value();
    }

    /** {@code host[:port]} items; an empty value is an empty list. */
    static List<String> members(Setting setting) {
        List<String> members = new ArrayList<>();
        if (setting.value().isBlank()) {
            return members;
        }
        for (String item : setting.value().split(",", -1)) {
            String member = item.strip();
            Matcher matcher = MEMBER.matcher(member);
            if (!matcher.matches()) {
                throw setting.invalid(MEMBERS);
            }
            if (matcher.group(2) != null) {
                int port = Integer.parseInt(matcher.group(2));
                if (port < 1 || port > 65535) {
                    throw setting.invalid(MEMBERS);
                }
            }
            members.add(member);
        }
        return members;
    }

    static int port(Setting setting) {
        String value = setting.value();
        if (!value.matches("[0-9]{1,5}")) {
            throw setting.invalid(PORT);
        }
        int port = Integer.parseInt(value);
        if (port < 1 || port > 65535) {
            throw setting.invalid(PORT);
        }
        return port;
    }

    static String bindInterface(Setting setting) {
        String value = setting.value();
        if (!INTERFACE_PATTERN.matcher(value).matches()) {
            throw setting.invalid(INTERFACE);
        }
        for (String part : value.split("\\.")) {
            if (!part.equals("*") && Integer.parseInt(part) > 255) {
                throw setting.invalid(INTERFACE);
            }
        }
        return value;
    }

    static Path hazelcastXml(Setting setting) {
        Path path;
        try {
            path = Path.of(setting.value());
        } catch (java.nio.file.InvalidPathException e) {
            throw setting.invalid(XML);
        }
        if (setting.value().isEmpty()
                || !java.nio.file.Files.isRegularFile(path)
                || !java.nio.file.Files.isReadable(path)) {
            throw setting.invalid(XML);
        }
        return path;
    }
}
