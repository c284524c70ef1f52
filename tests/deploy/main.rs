//! `deploy/` proven with the real tools (issue 12, item 6 and its Prometheus test):
//!
//! - `promtool check rules` / `check config` accept the alert rules and the scrape-config
//!   example, and `promtool test rules` fires the alerts of `namesrv-alerts.test.yml`
//!   from synthetic series, with their exact labels and annotations;
//! - every PromQL expression of the rules and of the Grafana dashboard reads only
//!   series `namesrv` exports (the names of the item 2) and labels it sets;
//! - a real Prometheus scrapes a running `namesrv` every second and its query API
//!   returns exactly the brokers registered and the route lookups made; every panel's
//!   expression is accepted by that Prometheus; `/metrics` declares exactly the
//!   families of item 2 with their types, and `promtool check metrics` finds nothing.
//!
//! Prometheus and promtool are Debian's, unpacked into `.cache/debs` by
//! `tools/fetch-debs` on the first run (about 20 MB from the Debian mirror; later runs
//! need no network). A tool that cannot be fetched fails the test; nothing skips.

#[path = "../common/mod.rs"]
mod common;
mod exported;
mod namesrv;
mod prometheus;
mod promql;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{topic, BrokerReg};
use exported::{declared_families, expected_families, exported_series, LABELS};
use namesrv::Namesrv;
use prometheus::Prometheus;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn deploy(rel: &str) -> PathBuf {
    root().join("deploy").join(rel)
}

/// The binaries `tools/fetch-debs fetch prometheus` names (fetched once per run).
struct Tools {
    prometheus: PathBuf,
    promtool: PathBuf,
}

fn tools() -> &'static Tools {
    static TOOLS: OnceLock<Tools> = OnceLock::new();
    TOOLS.get_or_init(|| {
        let script = root().join("tools/fetch-debs");
        let out = Command::new("timeout")
            .args(["-k", "30", "600", "bash"])
            .arg(&script)
            .args(["fetch", "prometheus"])
            .current_dir(root())
            .stderr(std::process::Stdio::inherit())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "tools/fetch-debs fetch prometheus failed ({}); its log is above\n{stdout}",
            out.status
        );
        let var = |name: &str| -> PathBuf {
            let prefix = format!("{name}='");
            let value = stdout
                .lines()
                .find_map(|l| l.strip_prefix(&prefix)?.strip_suffix('\''))
                .unwrap_or_else(|| panic!("tools/fetch-debs printed no {name}:\n{stdout}"));
            assert!(
                !value.is_empty(),
                "tools/fetch-debs left {name} empty:\n{stdout}"
            );
            PathBuf::from(value)
        };
        Tools {
            prometheus: var("PROMETHEUS_BIN"),
            promtool: var("PROMTOOL_BIN"),
        }
    })
}

/// Runs promtool with `args` in `deploy/prometheus`; its stdout and stderr.
fn promtool(args: &[&str]) -> (std::process::ExitStatus, String, String) {
    let out = Command::new(&tools().promtool)
        .args(args)
        .current_dir(deploy("prometheus"))
        .output()
        .expect("run promtool");
    (
        out.status,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs promtool with `args` and `input` on its stdin.
fn promtool_stdin(args: &[&str], input: &str) -> (std::process::ExitStatus, String, String) {
    use std::io::Write;
    let mut child = Command::new(&tools().promtool)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run promtool");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(input.as_bytes())
        .expect("write promtool's stdin");
    drop(stdin);
    let out = child.wait_with_output().expect("wait for promtool");
    (
        out.status,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn rules_text() -> String {
    std::fs::read_to_string(deploy("prometheus/namesrv-alerts.yml")).expect("read alert rules")
}

fn dashboard() -> serde_json::Value {
    let text =
        std::fs::read_to_string(deploy("grafana/namesrv-dashboard.json")).expect("read dashboard");
    serde_json::from_str(&text).expect("the dashboard is JSON")
}

// ---------------------------------------------------------------------------
// promtool

#[test]
fn promtool_accepts_the_rules_and_the_scrape_config() {
    let (status, out, err) = promtool(&["check", "rules", "namesrv-alerts.yml"]);
    assert!(status.success(), "promtool check rules failed:\n{out}{err}");
    assert_eq!(
        out, "Checking namesrv-alerts.yml\n  SUCCESS: 12 rules found\n\n",
        "stderr: {err}"
    );

    // The example config loads the rules file next to it.
    let (status, out, err) = promtool(&["check", "config", "scrape-config.yml"]);
    assert!(
        status.success(),
        "promtool check config failed:\n{out}{err}"
    );
    assert!(
        out.contains(" SUCCESS: scrape-config.yml is valid prometheus config file syntax"),
        "{out}"
    );
    assert!(out.contains("  SUCCESS: 12 rules found"), "{out}");
}

#[test]
fn alert_names_severities_and_annotations() {
    let text = rules_text();
    let alerts: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- alert: "))
        .collect();
    assert_eq!(
        alerts,
        [
            "NamesrvDown",
            "NamesrvNotReady",
            "NamesrvLiveBrokersDropped",
            "NamesrvNoLiveBrokers",
            "NamesrvBrokerExpired",
            "NamesrvRouteLatencyHigh",
            "NamesrvSnapshotPublishSlow",
            "NamesrvWriteQueueBacklog",
            "NamesrvFramesRejected",
            "NamesrvConnectionsRefused",
            "NamesrvRegistrationsRejected",
            "NamesrvRequestsDenied",
        ]
    );
    // Each rule has a `for:`, a severity of critical|warning, a summary and a description.
    let count = |needle: &str| {
        text.lines()
            .filter(|l| l.trim().starts_with(needle))
            .count()
    };
    assert_eq!(count("for: "), alerts.len());
    assert_eq!(
        count("severity: critical") + count("severity: warning"),
        alerts.len()
    );
    assert_eq!(count("summary: "), alerts.len());
    assert_eq!(count("description: "), alerts.len());
}

/// `namesrv-alerts.test.yml` fires every alert from synthetic series with its exact
/// labels and annotations, and checks silence before each `for:` has elapsed.
#[test]
fn promtool_unit_tests_fire_the_alerts() {
    let (status, out, err) = promtool(&["test", "rules", "namesrv-alerts.test.yml"]);
    assert!(status.success(), "promtool test rules failed:\n{out}{err}");
    assert_eq!(
        out, "Unit Testing:  namesrv-alerts.test.yml\n  SUCCESS\n\n",
        "stderr: {err}"
    );

    let tests =
        std::fs::read_to_string(deploy("prometheus/namesrv-alerts.test.yml")).expect("read");
    let fired: BTreeSet<&str> = tests
        .split("alertname: ")
        .skip(1)
        .filter(|chunk| {
            let rest = chunk.split_once('\n').map_or("", |(_, r)| r).trim_start();
            rest.starts_with("exp_alerts:\n") && !rest.starts_with("exp_alerts: []")
        })
        .filter_map(|chunk| chunk.lines().next())
        .collect();
    assert_eq!(
        fired,
        BTreeSet::from([
            "NamesrvBrokerExpired",
            "NamesrvConnectionsRefused",
            "NamesrvDown",
            "NamesrvFramesRejected",
            "NamesrvLiveBrokersDropped",
            "NamesrvNoLiveBrokers",
            "NamesrvNotReady",
            "NamesrvRegistrationsRejected",
            "NamesrvRequestsDenied",
            "NamesrvRouteLatencyHigh",
            "NamesrvSnapshotPublishSlow",
            "NamesrvWriteQueueBacklog",
        ])
    );
}

// ---------------------------------------------------------------------------
// the dashboard

/// The committed JSON is exactly what `deploy/grafana/generate.py` prints, so an edit
/// of either alone is caught.
#[test]
fn dashboard_json_is_what_generate_py_writes() {
    let out = Command::new("python3")
        .arg(deploy("grafana/generate.py"))
        .output()
        .expect("run python3 deploy/grafana/generate.py");
    assert!(
        out.status.success(),
        "generate.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let committed =
        std::fs::read(deploy("grafana/namesrv-dashboard.json")).expect("read dashboard");
    assert!(
        out.stdout == committed,
        "deploy/grafana/namesrv-dashboard.json differs from what generate.py prints; run\n  \
         python3 deploy/grafana/generate.py > deploy/grafana/namesrv-dashboard.json"
    );
    let d = dashboard();
    assert_eq!(d["uid"], "rocketmq-namesrv");
    let rows: Vec<&str> = d["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .filter(|p| p["type"] == "row")
        .filter_map(|p| p["title"].as_str())
        .collect();
    assert_eq!(
        rows,
        [
            "Overview",
            "Route lookups",
            "Requests by class",
            "Brokers",
            "Connections",
            "Writer and snapshot",
            "Rejections",
            "Process",
        ]
    );
}

// ---------------------------------------------------------------------------
// metric names

fn check_names(what: &str, expr: &str, used: &mut BTreeSet<String>) {
    let exported = exported_series();
    let names = promql::names(expr);
    for m in &names.metrics {
        // Prometheus's own per-target series, which NamesrvDown reads.
        if m == "up" {
            continue;
        }
        assert!(
            exported.contains(m),
            "{what}: `{m}` is not a series namesrv exports, in:\n{expr}"
        );
    }
    for l in &names.labels {
        assert!(
            LABELS.contains(&l.as_str()),
            "{what}: label `{l}` is not one namesrv sets, in:\n{expr}"
        );
    }
    assert!(
        !names.metrics.is_empty(),
        "{what}: no metric found in:\n{expr}"
    );
    used.extend(names.metrics);
}

#[test]
fn rules_and_dashboard_read_only_exported_series() {
    let mut used = BTreeSet::new();
    let exprs = promql::rule_exprs(&rules_text());
    assert_eq!(exprs.len(), 12);
    for expr in &exprs {
        check_names("alert rule", expr, &mut used);
    }

    let (panel_exprs, variables) = promql::dashboard_exprs(&dashboard());
    assert_eq!(
        panel_exprs.len(),
        39,
        "queries of deploy/grafana/namesrv-dashboard.json"
    );
    for expr in &panel_exprs {
        check_names("dashboard panel", expr, &mut used);
    }
    assert_eq!(
        variables,
        ["label_values(rocketmq_namesrv_build_info, instance)"]
    );
    for v in &variables {
        let (metric, label) = promql::label_values(v).expect("label_values(metric, label)");
        assert!(
            exported_series().contains(&metric),
            "variable reads {metric}"
        );
        assert!(
            LABELS.contains(&label.as_str()),
            "variable reads label {label}"
        );
    }

    // The views the issue asks of the dashboard and rules are all there: route QPS and
    // p99, registrations, expiries, connections, publish time, memory, rejections.
    for needed in [
        "rocketmq_namesrv_requests_total",
        "rocketmq_namesrv_request_duration_seconds_bucket",
        "rocketmq_namesrv_broker_registrations_total",
        "rocketmq_namesrv_broker_unregistrations_total",
        "rocketmq_namesrv_connections",
        "rocketmq_namesrv_snapshot_publish_duration_seconds_bucket",
        "process_resident_memory_bytes",
        "rocketmq_namesrv_frames_rejected_total",
        "rocketmq_namesrv_brokers",
        "rocketmq_namesrv_ready",
    ] {
        assert!(used.contains(needed), "nothing reads {needed}");
    }
    let route_qps = panel_exprs
        .iter()
        .any(|e| e.contains("rocketmq_namesrv_requests_total{") && e.contains("code=\"105\""));
    let route_p99 = panel_exprs.iter().any(|e| {
        e.starts_with("histogram_quantile(0.99,")
            && e.contains("rocketmq_namesrv_request_duration_seconds_bucket{")
            && e.contains("class=\"route\"")
    });
    assert!(
        route_qps && route_p99,
        "route QPS: {route_qps}, route p99: {route_p99}"
    );
}

// ---------------------------------------------------------------------------
// a real Prometheus scraping a real namesrv

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs_f64()
}

/// Waits until Prometheus holds a sample of `series` from a scrape that began after
/// `after` (unix s) plus a margin: a shard may count a request just after its reply
/// went out, and Prometheus may shift a sample's timestamp by a few milliseconds to
/// align it with the scrape interval.
fn wait_scraped_after(prom: &Prometheus, series: &str, after: f64) {
    let after = after + 0.1;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(ts) = prom.scalar(&format!("timestamp({series})")) {
            if ts > after {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus scraped no `{series}` after {after} within 30 s; its log:\n{}",
            prom.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn prometheus_scrapes_brokers_and_route_lookups() {
    let tools = tools();
    let server = Namesrv::start(&[]);

    // Two broker groups of one cluster, broker-a with a slave: three live addresses,
    // three topics. (Upstream refuses a broker's first registration when it lists a
    // single topic: each lists two.)
    let a_topics = || vec![topic("orders", 6, 4), topic("audit", 6, 1)];
    let brokers = [
        BrokerReg::new("c1", "broker-a", "127.0.0.1:10911", 0, a_topics()),
        BrokerReg::new("c1", "broker-a", "127.0.0.1:10921", 1, a_topics()),
        BrokerReg::new(
            "c1",
            "broker-b",
            "127.0.0.1:10931",
            0,
            vec![topic("payments", 6, 8), topic("audit", 6, 1)],
        ),
    ];
    let mut client = common::Client::connect(server.remoting);
    for b in &brokers {
        client.register_ok(b);
    }
    // 7 lookups that find a route (response code 0) on two connections, 2 that do not (17).
    const FOUND: usize = 7;
    const MISSING: usize = 2;
    let mut other = common::Client::connect(server.remoting);
    for i in 0..FOUND {
        let c = if i % 2 == 0 { &mut client } else { &mut other };
        let route = c.route(if i % 3 == 0 { "payments" } else { "orders" });
        assert!(route.is_some(), "lookup {i} found no route");
    }
    for _ in 0..MISSING {
        assert!(client.route("no-such-topic").is_none());
    }
    let done = unix_now();

    let prom = Prometheus::start(&tools.prometheus, server.http);
    let brokers_q = "rocketmq_namesrv_brokers{job=\"namesrv\"}";
    let found_q =
        "rocketmq_namesrv_requests_total{job=\"namesrv\",code=\"105\",response_code=\"0\"}";
    let missing_q =
        "rocketmq_namesrv_requests_total{job=\"namesrv\",code=\"105\",response_code=\"17\"}";
    wait_scraped_after(&prom, found_q, done);
    assert_eq!(
        prom.scalar(brokers_q),
        Some(brokers.len() as f64),
        "{brokers_q}"
    );
    assert_eq!(prom.scalar(found_q), Some(FOUND as f64), "{found_q}");
    assert_eq!(prom.scalar(missing_q), Some(MISSING as f64), "{missing_q}");
    assert_eq!(prom.scalar("rocketmq_namesrv_broker_groups"), Some(2.0));
    assert_eq!(prom.scalar("rocketmq_namesrv_clusters"), Some(1.0));
    assert_eq!(prom.scalar("rocketmq_namesrv_topics"), Some(3.0));
    assert_eq!(prom.scalar("rocketmq_namesrv_ready"), Some(1.0));
    assert_eq!(prom.scalar("rocketmq_namesrv_connections"), Some(2.0));

    // Scrapes are not lookups: a second round, 3 more, seen exactly after the next scrape.
    for _ in 0..3 {
        assert!(other.route("orders").is_some());
    }
    let done = unix_now();
    wait_scraped_after(&prom, found_q, done);
    assert_eq!(prom.scalar(found_q), Some((FOUND + 3) as f64), "{found_q}");

    // Every panel of the dashboard is a query this Prometheus accepts.
    let (panel_exprs, _) = promql::dashboard_exprs(&dashboard());
    for expr in panel_exprs {
        let concrete = expr
            .replace("$__rate_interval", "1m")
            .replace("$instance", ".+");
        let reply = prom.query(&concrete);
        assert_eq!(
            reply["status"], "success",
            "panel query {concrete:?}: {reply}"
        );
    }
    drop(prom);

    // What /metrics declares is exactly the families above, with their types, and
    // promtool's linter has nothing to say about it.
    let (status, text) = prometheus::http_get(server.http, "/metrics", "text/plain")
        .unwrap_or_else(|e| panic!("GET /metrics: {e}"));
    assert_eq!(status, 200, "GET /metrics:\n{text}");
    assert_eq!(
        declared_families(&text),
        expected_families(),
        "/metrics:\n{text}"
    );
    let (status, out, err) = promtool_stdin(&["check", "metrics"], &text);
    assert!(
        status.success() && out.is_empty() && err.is_empty(),
        "promtool check metrics:\n{out}{err}"
    );
    drop(server);
}
