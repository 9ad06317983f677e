package dev.proxyfilter.sample;

import java.nio.file.Files;
import java.nio.file.Path;
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

    @Override
    void assertStoppedCleanly(String logs) {
        TomcatDistribution.assertStoppedCleanly(logs);
    }
}
