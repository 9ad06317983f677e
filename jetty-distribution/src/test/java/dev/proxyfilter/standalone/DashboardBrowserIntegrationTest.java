package dev.proxyfilter.standalone;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The admin dashboard in real headless Chromium (Debian's chromium and chromium-driver, which
 * {@code .ci/run} installs): it loads without console errors, shows every backend, updates under
 * traffic without a reload, and its "drain" button drains a backend in both the page and the API. In a cluster
 * it lists the nodes and says on how many an action applied.
 * Skipped where Chromium is not installed. Set {@code -Ddashboard.screenshot=PATH} to keep a screenshot.
 */
@Tag("browser")
@Timeout(120)
class DashboardBrowserIntegrationTest {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    @TempDir
    Path dir;

    private NamedBackend a;
    private NamedBackend b;
    private RunningProxy proxy;
    private ChromeDriver browser;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        Assumptions.assumeTrue(
                Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "needs Debian's chromium and chromium-driver (installed by .ci/run)");
        a = NamedBackend.start("a");
        b = NamedBackend.start("b");

        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments(
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1366,900",
                "--user-data-dir=" + dir.resolve("chromium-profile"));
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort()
                .build();
        browser = new ChromeDriver(service, options);
    }

    /** The standalone proxy in front of a (weight 3) and b, with {@code extra} settings. */
    private void startProxy(String extra) throws Exception {
        Path config = Files.writeString(dir.resolve("proxy.properties"), """
                server.host=127.0.0.1
                server.port=0
                admin.port=0
                log.access=off
                pool.web.backend.a.url=%s
                pool.web.backend.a.weight=3
                pool.web.backend.b.url=%s
                route.main.path=/
                route.main.pool=web
                """.formatted(a.uri(), b.uri()) + extra);
        proxy = ProxyMain.start("--config", config.toString());
    }

    @AfterEach
    void stop() throws Exception {
        if (browser != null) {
            browser.quit();
        }
        if (proxy != null) {
            proxy.stop();
        }
        if (a != null) {
            a.close();
        }
        if (b != null) {
            b.close();
        }
    }

    private void traffic(int requests) throws Exception {
        for (int i = 0; i < requests; i++) {
            http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + "/x"))
                            .build(),
                    HttpResponse.BodyHandlers.discarding());
        }
    }

    /** A cell's text, read in one script call: the page re-renders its tables every 2 s. */
    private String cell(String backend, String field) {
        return (String) browser.executeScript(
                "var e = document.querySelector(arguments[0]); return e ? e.textContent : null;",
                "tr[data-backend='web/" + backend + "'] td[data-field='" + field + "']");
    }

    @Test
    void dashboardShowsBackendsUpdatesLiveAndDrains() throws Exception {
        startProxy("");
        URI admin = URI.create("http://127.0.0.1:" + proxy.adminPort() + "/");
        browser.get(admin.toString());
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(20));
        wait.until(d -> ((Number) browser.executeScript("return document.querySelectorAll('tr[data-backend]').length"))
                        .intValue()
                == 2);
        assertThat(browser.getTitle()).isEqualTo("Proxy Filter");
        assertThat(browser.findElement(By.id("cluster")).isDisplayed())
                .as("no cluster, no cluster view")
                .isFalse();
        assertThat(cell("a", "state")).isEqualTo("up");
        assertThat(cell("b", "state")).isEqualTo("up");
        assertThat(cell("a", "requests")).isEqualTo("0");

        // Numbers move under traffic, without reloading the page.
        traffic(40);
        wait.until(
                d -> cell("a", "requests").equals("30") && cell("b", "requests").equals("10"));
        traffic(40);
        wait.until(d -> !cell("a", "rate").equals("0.0"));
        Object reloads = browser.executeScript("return performance.getEntriesByType('navigation').length");
        assertThat(reloads).isEqualTo(1L);

        // Drain b from the page: the page and the API agree, and b gets no new requests.
        wait.ignoring(org.openqa.selenium.StaleElementReferenceException.class).until(d -> {
            WebElement drain = d.findElement(By.cssSelector("button[data-action='drain'][data-backend='web/b']"));
            drain.click();
            return true;
        });
        wait.until(d -> cell("b", "state").equals("draining"));
        HttpResponse<String> api = http.send(
                HttpRequest.newBuilder(admin.resolve("/api/pools")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(api.body()).containsPattern("\"name\":\"b\",[^}]*\"state\":\"draining\"");
        int bBefore = b.requests();
        traffic(12);
        assertThat(b.requests()).isEqualTo(bBefore);

        byte[] png = browser.getScreenshotAs(OutputType.BYTES);
        assertThat(png.length).isGreaterThan(1000);
        Path screenshot = Path.of("target", "dashboard.png");
        Files.write(screenshot, png);
        String keep = System.getProperty("dashboard.screenshot");
        if (keep != null) {
            Files.copy(screenshot, Path.of(keep), StandardCopyOption.REPLACE_EXISTING);
        }

        List<LogEntry> severe = browser.manage().logs().get(LogType.BROWSER).getAll().stream()
                .filter(e -> e.getLevel().intValue() >= Level.SEVERE.intValue())
                .toList();
        assertThat(severe).as("browser console errors").isEmpty();
        assertThat(browser.findElement(By.id("error")).getText()).isEmpty();
    }

    @Test
    void inAClusterTheDashboardListsTheNodesAndSaysWhereAnActionApplied() throws Exception {
        int member = freeMemberPort();
        startProxy("""
                cluster.enabled=true
                cluster.name=dashboard-%s
                cluster.interface=127.0.0.1
                cluster.port=%d
                cluster.members=127.0.0.1:%d
                """.formatted(java.util.UUID.randomUUID(), member, member));
        browser.get("http://127.0.0.1:" + proxy.adminPort() + "/");
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(20));

        wait.until(d -> d.findElement(By.id("cluster")).isDisplayed());
        String node = "tr[data-node='127.0.0.1:" + member + "'] td[data-field='%s']";
        wait.until(d -> "self".equals(text(node.formatted("state"))));
        assertThat(text(node.formatted("generation"))).isEqualTo("1");
        assertThat(text("#cluster-title")).contains("1 node").contains("rate limits per cluster");

        wait.ignoring(org.openqa.selenium.StaleElementReferenceException.class).until(d -> {
            d.findElement(By.cssSelector("button[data-action='disable'][data-backend='web/b']"))
                    .click();
            return true;
        });
        wait.until(d -> "disable b: applied on 1 of 1 nodes".equals(text("#action-result")));
        assertThat(browser.findElement(By.id("error")).getText()).isEmpty();
    }

    private String text(String selector) {
        return (String) browser.executeScript(
                "var e = document.querySelector(arguments[0]); return e ? e.textContent : null;", selector);
    }

    /** A free port for the member, below Linux's ephemeral range (see the README on cluster.port). */
    private static int freeMemberPort() throws java.io.IOException {
        for (int attempt = 0; attempt < 100; attempt++) {
            int port = java.util.concurrent.ThreadLocalRandom.current().nextInt(20_000, 32_000);
            try (java.net.ServerSocket socket = new java.net.ServerSocket()) {
                socket.bind(new java.net.InetSocketAddress("127.0.0.1", port));
                return port;
            } catch (java.io.IOException e) {
                // taken: try another
            }
        }
        throw new java.io.IOException("no free port in 20000..31999");
    }
}
