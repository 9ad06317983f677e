package dev.proxyfilter.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The sample WAR in Jetty's own distribution (README, "Jetty: drop the WAR into a jetty-base"): a
 * {@code $JETTY_BASE} with the {@code http} and {@code ee10-deploy} modules, the WAR copied to
 * {@code webapps/sample.war}, and the same WAR unpacked into {@code webapps/exploded/}, the deployment
 * whose {@code WEB-INF/proxy.properties} the reload test edits. Jetty unpacks a WAR file into a fresh
 * temporary folder on every start, so that copy is not the one to edit. The sample declares its filter in
 * {@code web.xml}, so {@code ee10-annotations} is not needed (the drop-in installation needs it).
 */
class JettyHomeDistributionIT extends WarInDistributionIT {

    @Override
    Deployment start(Path war, Path workDir, List<String> jvmOptions) throws Exception {
        JettyHomeDistribution jetty = JettyHomeDistribution.newBase(workDir.resolve("jetty-base"), "http,ee10-deploy");
        Path webapps = jetty.base().resolve("webapps");
        Files.copy(war, webapps.resolve("sample.war"));
        Wars.unpack(war, webapps.resolve("exploded"));
        List<String> options = new ArrayList<>(smallJvm());
        options.addAll(jvmOptions);
        ContainerProcess process = jetty.start(options, START_TIMEOUT, "/sample/hello", "/exploded/hello");
        return new Deployment(
                process,
                jetty.uri().resolve("/sample"),
                jetty.uri().resolve("/exploded"),
                webapps.resolve("exploded/WEB-INF/proxy.properties"));
    }

    @Override
    void assertStoppedCleanly(String logs) {
        assertThat(logs)
                .contains("Stopped oeje10w.WebAppContext@")
                .contains("Stopped oejs.Server@")
                .doesNotContain("WARN")
                .doesNotContain("SEVERE");
    }
}
