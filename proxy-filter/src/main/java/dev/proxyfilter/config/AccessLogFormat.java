package dev.proxyfilter.config;

/** How each request is logged ({@code log.access}), through the SLF4J logger {@code dev.proxyfilter.access}. */
public enum AccessLogFormat {
    /** No access log. */
    OFF("off"),
    /** NCSA combined, then {@code rt= backend= urt= retries= cache=}. */
    COMBINED("combined"),
    /** One JSON object per line. */
    JSON("json");

    private final String configName;

    AccessLogFormat(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    /** The format with this configuration name, or null. */
    public static AccessLogFormat fromConfigName(String name) {
        for (AccessLogFormat format : values()) {
            if (format.configName.equals(name)) {
                return format;
            }
        }
        return null;
    }
}
