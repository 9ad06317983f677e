package dev.proxyfilter.sample;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The sample WAR in Tomcat's own distribution (README, "Tomcat: drop the WAR into webapps/"): copied to
 * {@code $CATALINA_BASE/webapps/sample.war}, unpacked by Tomcat to {@code webapps/sample/}, whose
 * {@code WEB-INF/proxy.properties} the reload test edits; started with {@code bin/catalina.sh run}.
 */
class TomcatDistributionIT extends WarInDistributionIT {

    @Override
    Deployment start(Path war, Path workDir, List<String> jvmOptions) throws Exception {
        TomcatDistribution tomcat = TomcatDistribution.newInstance(workDir.resolve("tomcat-base"));
        Files.copy(war, tomcat.base().resolve("webapps/sample.war"));
        List<String> options = new ArrayList<>(smallJvm());
        options.addAll(jvmOptions);
        ContainerProcess process = tomcat.start(options, "/sample/hello", START_TIMEOUT);
        return new Deployment(
                process,
                tomcat.uri().resolve("/sample"),
                tomcat.uri().resolve("/sample"),
                tomcat.base().resolve("webapps/sample/WEB-INF/proxy.properties"));
    }

    /**
     * Tomcat serves a webapp's resources from a cache it revalidates at most every 5 s (the
     * {@code cacheTtl} of {@code <Resources>}), and the filter reads {@code /WEB-INF/proxy.properties}
     * through {@code ServletContext.getResourceAsStream}: a change made within 5 s of the last read is
     * reloaded with the old content ("configuration unchanged") and then never applied. The first edit
     * waits that long after the start; {@code aSecondEditRightAfterTheFirstIsAppliedToo} is skipped until
     * the filter reads the file it watches directly.
     */
    @Override
    Duration staleReadWindow() {
        return Duration.ofMillis(5_500); // Tomcat's default cacheTtl, 5 s, after a read made before the start
    }

    @Override
    void assertStoppedCleanly(String logs) {
        TomcatDistribution.assertStoppedCleanly(logs);
    }
}
