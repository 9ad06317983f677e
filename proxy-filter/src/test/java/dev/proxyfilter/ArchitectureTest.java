package dev.proxyfilter;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The handbook's layering, checked on bytecode: an inline fully qualified name counts as much as an import.
 * The engine has no servlet or container types; only the adapters translate. Each store library stays in its
 * own package. Packages form no cycle, and {@code config} and {@code route} depend on nothing of ours.
 */
class ArchitectureTest {
    private static final String ROOT = "dev.proxyfilter";

    private static JavaClasses main;

    @BeforeAll
    static void importMainClasses() {
        main = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
                .importPackages(ROOT);
    }

    private static void check(ArchRule rule) {
        rule.check(main);
    }

    @Test
    void noServletTomcatOrEe10TypesOutsideTheServletAdapter() {
        check(noClasses()
                .that()
                .resideOutsideOfPackage(ROOT + ".servlet..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(
                        "jakarta.servlet..",
                        "org.eclipse.jetty.ee10..",
                        "org.apache.catalina..",
                        "org.apache.coyote..",
                        "org.apache.tomcat..")
                .because("the engine has no servlet code; the servlet adapters only translate"));
    }

    @Test
    void onlyTheAdaptersUseJettysServer() {
        check(noClasses()
                .that()
                .resideOutsideOfPackages(ROOT + ".servlet..", ROOT + ".jetty..")
                .should()
                .dependOnClassesThat()
                .resideInAPackage("org.eclipse.jetty.server..")
                .because("the engine runs in any container; only the Jetty adapters know Jetty's server"));
    }

    @Test
    void noEhcacheTypesOutsideItsStorePackage() {
        check(noClasses()
                .that()
                .resideOutsideOfPackage(ROOT + ".cache.ehcache..")
                .should()
                .dependOnClassesThat()
                .resideInAPackage("org.ehcache..")
                .because("the cache talks to its store through ResponseStore"));
    }

    @Test
    void noHazelcastTypesOutsideTheClusterPackages() {
        check(noClasses()
                .that()
                .resideOutsideOfPackages(ROOT + ".cluster..", ROOT + ".cache.hazelcast..")
                .should()
                .dependOnClassesThat()
                .resideInAPackage("com.hazelcast..")
                .because("a single node loads no Hazelcast class"));
    }

    @Test
    void theHazelcastPackagesAreReachedByNameOnly() {
        check(noClasses()
                .that()
                .resideOutsideOfPackages(ROOT + ".cluster.hazelcast..", ROOT + ".cache.hazelcast..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(ROOT + ".cluster.hazelcast..", ROOT + ".cache.hazelcast..")
                .because("the engine loads them by name when a cluster is configured, so that a single node"
                        + " never loads a class that needs Hazelcast (see NoHazelcastWithoutClusterTest)"));
    }

    @Test
    void theClusterInterfaceNamesNoHazelcastType() {
        check(noClasses()
                .that()
                .resideInAPackage(ROOT + ".cluster")
                .should()
                .dependOnClassesThat()
                .resideInAPackage("com.hazelcast..")
                .because("Cluster is what Hazelcast-free code holds"));
    }

    @Test
    void packagesFormNoCycle() {
        check(slices().matching(ROOT + ".(*)..").should().beFreeOfCycles());
    }

    @Test
    void configRouteAndHttpDependOnNothingOfOurs() {
        check(classes()
                .that()
                .resideInAPackage(ROOT + ".http..")
                .should()
                .onlyDependOnClassesThat()
                .resideInAnyPackage(ROOT + ".http..", "java.."));
        check(classes()
                .that()
                .resideInAPackage(ROOT + ".config..")
                .should()
                .onlyDependOnClassesThat()
                .resideInAnyPackage(ROOT + ".config..", "java..", "javax.annotation.."));
        check(classes()
                .that()
                .resideInAPackage(ROOT + ".route..")
                .should()
                .onlyDependOnClassesThat()
                .resideInAnyPackage(ROOT + ".route..", "java.."));
    }

    @Test
    void theWireHelpersKnowJettysHttpTypesOnly() {
        check(classes()
                .that()
                .resideInAPackage(ROOT + ".http1..")
                .should()
                .onlyDependOnClassesThat()
                .resideInAnyPackage(ROOT + ".http1..", "java..", "org.eclipse.jetty.http..", "org.eclipse.jetty.util..")
                .because("the fast path's server side and the upstream client share them, and neither is below it"));
    }

    @Test
    void balancingAndSecurityDependOnConfigAndTheirLibrariesOnly() {
        check(classes()
                .that()
                .resideInAPackage(ROOT + ".balance..")
                .should()
                .onlyDependOnClassesThat()
                .resideInAnyPackage(
                        ROOT + ".balance..", ROOT + ".config..", ROOT + ".http..", ROOT + ".time..", "java.."));
        check(classes()
                .that()
                .resideInAPackage(ROOT + ".security..")
                .should()
                .onlyDependOnClassesThat()
                .resideInAnyPackage(
                        ROOT + ".security..",
                        ROOT + ".config..",
                        ROOT + ".http..",
                        ROOT + ".time..",
                        "java..",
                        "com.nimbusds..",
                        "at.favre.lib..",
                        "io.github.bucket4j..",
                        "com.github.benmanes.caffeine..",
                        "org.slf4j.."));
    }

    @Test
    void theCachePolicyKnowsHttpButNoServerOrClient() {
        check(classes()
                .that()
                .resideInAPackage(ROOT + ".cache")
                .should()
                .onlyDependOnClassesThat()
                .resideInAnyPackage(
                        ROOT + ".cache..",
                        ROOT + ".config..",
                        ROOT + ".http..",
                        ROOT + ".time..",
                        "java..",
                        "org.eclipse.jetty.http..",
                        "org.eclipse.jetty.util..",
                        "org.slf4j.."));
    }

    @Test
    void theEngineLeavesAdminAndAdaptersToThoseAbove() {
        check(noClasses()
                .that()
                .resideInAPackage(ROOT + ".forward..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(ROOT + ".admin..", ROOT + ".servlet..", ROOT + ".jetty.."));
    }
}
