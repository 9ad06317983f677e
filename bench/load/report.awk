# Turns bench/load/run.sh's per-run measurements into the Markdown tables of results.md.
#
#   awk -f report.awk [-v rss_limit_mib=300] RUNS_TSV
#
# RUNS_TSV: one line per measured wrk run, tab-separated:
#   round target path rps p50_ms p99_ms cpu_us_per_req peak_rss_kib requests errors non2xx origin_requests
# (NA where a value could not be read; origin_requests only for the cache-hit path). Works with mawk: no asort, no gensub.
#
# Per path and proxy it prints the median over the rounds of req/s, p50, p99 and CPU µs/req, the
# largest peak RSS, the summed errors, and the ratio to the reference proxy: the median of the per-round
# ratios (each round's req/s divided by the reference's req/s in the same round), which cancels most of
# the drift of a shared machine. The reference is nginx for the proxied paths, nginx proxy_cache for
# the cache-hit path.

BEGIN {
    FS = "\t"
    npaths = split("100b 64k 1m cache", paths, " ")
    label["100b"] = "100 B"; label["64k"] = "64 KiB"; label["1m"] = "1 MiB"; label["cache"] = "cache hit (100 B)"
    proxied = "nginx haproxy proxy-filter proxy-filter-log proxy-filter-base jetty-stock tomcat-filter"
    cached = "nginx-cache proxy-filter-cache"
    name["nginx"] = "nginx (proxy_pass)"
    name["haproxy"] = "HAProxy"
    name["proxy-filter"] = "**proxy-filter**"
    name["proxy-filter-log"] = "proxy-filter, access log on (combined, to stdout)"
    name["proxy-filter-base"] = "proxy-filter (baseline: " (baseline == "" ? "an older build" : baseline) ")"
    name["jetty-stock"] = "Jetty 12 stock AsyncProxyServlet"
    name["tomcat-filter"] = "ProxyFilter in Tomcat 11"
    name["nginx-cache"] = "nginx proxy_cache"
    name["proxy-filter-cache"] = "**proxy-filter** cache"
    if (rss_limit_mib == "") rss_limit_mib = 300
}

$1 ~ /^[0-9]+$/ {
    r = $1; t = $2; p = $3
    key = t SUBSEP p
    if (!(key in n)) n[key] = 0
    i = ++n[key]
    rps[key, i] = $4; p50[key, i] = $5; p99[key, i] = $6; cpu[key, i] = $7; rss[key, i] = $8
    round_of[key, i] = r
    byround[t, p, r] = $4
    err[key] += ($10 == "NA" ? 0 : $10) + ($11 == "NA" ? 0 : $11)
    rounds[r] = 1
    if ($9 != "NA") served[key] += $9
    if (NF >= 12 && $12 != "NA") { origin[key] += $12; counted[key] = 1 }
    present[t] = 1
}

function isnum(v) { return v != "" && v != "NA" && v ~ /^[0-9.eE+-]+$/ }

# Median of the numeric values in m[1..k] (k >= 0), "NA" when none.
function median(m, k,    a, c, i, j, v) {
    c = 0
    for (i = 1; i <= k; i++) if (isnum(m[i])) a[++c] = m[i] + 0
    if (c == 0) return "NA"
    for (i = 2; i <= c; i++) { v = a[i]; j = i - 1; while (j > 0 && a[j] > v) { a[j + 1] = a[j]; j-- } a[j + 1] = v }
    if (c % 2 == 1) return a[(c + 1) / 2]
    return (a[c / 2] + a[c / 2 + 1]) / 2
}

function col(arr, key, k, out,    i) { for (i = 1; i <= k; i++) out[i] = arr[key, i] }

function fmt(v, f) { return isnum(v) ? sprintf(f, v) : "n/a" }

# Median over the rounds of rps(t, p) / rps(bt, bp) in the same round.
function ratio(t, p, bt, bp,    r, k, m, a, b) {
    k = 0
    for (r in rounds) {
        a = byround[t, p, r]; b = byround[bt, bp, r]
        if (isnum(a) && isnum(b) && b > 0) m[++k] = a / b
    }
    return median(m, k)
}

function stat(t, p, what,    key, k, m, i, mx) {
    key = t SUBSEP p
    k = n[key] + 0
    if (what == "rps") { col(rps, key, k, m); return median(m, k) }
    if (what == "p50") { col(p50, key, k, m); return median(m, k) }
    if (what == "p99") { col(p99, key, k, m); return median(m, k) }
    if (what == "cpu") { col(cpu, key, k, m); return median(m, k) }
    if (what == "rss") {
        mx = "NA"
        for (i = 1; i <= k; i++) if (isnum(rss[key, i]) && (mx == "NA" || rss[key, i] + 0 > mx)) mx = rss[key, i] + 0
        return mx
    }
}

function row(t, p, base,    key, r, ra) {
    key = t SUBSEP p
    if (!(key in n)) {
        if (t == "proxy-filter-base" || t == "proxy-filter-log") return # no --baseline or --log-row in this run
        printf "| %s | n/a | n/a | n/a | n/a | n/a | n/a | |\n", name[t]
        return
    }
    ra = (t == base) ? 1 : ratio(t, p, base, p)
    r = stat(t, p, "rss")
    printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", name[t], fmt(stat(t, p, "rps"), "%.0f"),
        fmt(ra, "%.2f"), fmt(stat(t, p, "p50"), "%.2f"), fmt(stat(t, p, "p99"), "%.2f"),
        fmt(stat(t, p, "cpu"), "%.1f"), (isnum(r) ? sprintf("%.0f", r / 1024) : "n/a"), err[key] + 0
}

function verdict(v, op, limit) {
    if (!isnum(v)) return "n/a"
    if (op == ">=") return (v + 0 >= limit) ? "met" : "**not met**"
    return (v + 0 <= limit) ? "met" : "**not met**"
}

END {
    nr = 0
    for (r in rounds) nr++
    printf "Medians over %d round(s); ratio = median of the per-round ratios of req/s to the reference proxy of the path in the same round (nginx, or nginx proxy_cache for cache hits). Latency in ms, peak RSS in MiB (largest VmRSS sampled every 200 ms, summed over the proxy's processes), errors = wrk socket errors + non-2xx responses.\n\n", nr
    for (pi = 1; pi <= npaths; pi++) {
        p = paths[pi]
        base = (p == "cache") ? "nginx-cache" : "nginx"
        printf "### %s\n\n", label[p]
        printf "| proxy | req/s | ratio to %s | p50 | p99 | CPU µs/req | peak RSS | errors |\n", (p == "cache" ? "nginx cache" : "nginx")
        printf "|---|---:|---:|---:|---:|---:|---:|---:|\n"
        nt = split(p == "cache" ? cached : proxied, ts, " ")
        for (ti = 1; ti <= nt; ti++) {
            t = ts[ti]
            if ((t == "jetty-stock" || t == "tomcat-filter") && !present[t]) continue
            row(t, p, base)
        }
        if (p == "cache") {
            printf "\n- nginx proxy_cache hits vs nginx proxying 100 B: %s×\n", fmt(ratio("nginx-cache", "cache", "nginx", "100b"), "%.2f")
            if (present["proxy-filter-cache"])
                printf "- proxy-filter cache hits vs proxy-filter proxying 100 B: %s×\n", fmt(ratio("proxy-filter-cache", "cache", "proxy-filter", "100b"), "%.2f")
            for (ti = 1; ti <= nt; ti++) {
                key = ts[ti] SUBSEP p
                if (counted[key] && served[key] > 0)
                    printf "- %s: %d of %d requests reached the origins during the measured runs (%.2f%%; a cache hit should reach none)\n", name[ts[ti]], origin[key], served[key], 100 * origin[key] / served[key]
            }
        }
        printf "\n"
    }

    # The targets of issue 8, read off the tables above.
    printf "### Targets of issue 8\n\n"
    printf "| target | measured | verdict |\n|---|---:|---|\n"
    v = ratio("proxy-filter", "100b", "jetty-stock", "100b")
    printf "| 100 B: >= 2.0× stock Jetty AsyncProxyServlet | %s | %s |\n", fmt(v, "%.2f×"), verdict(v, ">=", 2.0)
    v = ratio("proxy-filter", "100b", "nginx", "100b")
    printf "| 100 B: >= 0.6× nginx | %s | %s |\n", fmt(v, "%.2f×"), verdict(v, ">=", 0.6)
    v = ratio("proxy-filter-cache", "cache", "nginx-cache", "cache")
    printf "| cache hits: >= 1.0× nginx proxy_cache hits | %s | %s |\n", fmt(v, "%.2f×"), verdict(v, ">=", 1.0)
    v = ratio("proxy-filter", "1m", "nginx", "1m")
    printf "| 1 MiB: >= 0.9× nginx | %s | %s |\n", fmt(v, "%.2f×"), verdict(v, ">=", 0.9)
    worst = "NA"; where = ""
    for (pi = 1; pi <= 3; pi++) {
        p = paths[pi]
        a = stat("proxy-filter", p, "p99"); b = stat("nginx", p, "p99")
        if (isnum(a) && isnum(b) && b > 0 && (worst == "NA" || a / b > worst)) { worst = a / b; where = label[p] }
    }
    printf "| p99 <= 2× nginx's (worst path%s) | %s | %s |\n", (where == "" ? "" : ": " where), fmt(worst, "%.2f×"), verdict(worst, "<=", 2.0)
    mx = "NA"
    for (pi = 1; pi <= npaths; pi++) {
        v = stat("proxy-filter", paths[pi], "rss")
        if (isnum(v) && (mx == "NA" || v > mx)) mx = v
        v = stat("proxy-filter-cache", paths[pi], "rss")
        if (isnum(v) && (mx == "NA" || v > mx)) mx = v
    }
    printf "| peak RSS of proxy-filter <= %d MiB (largest sample) | %s | %s |\n", rss_limit_mib,
        (isnum(mx) ? sprintf("%.0f MiB", mx / 1024) : "n/a"), verdict(isnum(mx) ? mx / 1024 : "NA", "<=", rss_limit_mib)
    printf "\n"
}
