//! The final table on stdout.

use std::fmt::Write;

use crate::result::{OpSummary, RunResult};
use crate::scenario::ClientMode;
use crate::stats::Op;
use crate::units::{fmt_count, fmt_rate, fmt_us};

/// The header line and one row per operation.
pub fn op_table(ops: &[&OpSummary], indent: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{indent}{:<19}{:>11}{:>10}{:>9}{:>11}{:>9}{:>9}{:>9}{:>9}{:>9}",
        "op", "count", "errors", "transit", "ops/s", "p50", "p90", "p99", "p99.9", "max"
    );
    for o in ops {
        let transit = if o.op == Op::Route {
            fmt_count(o.in_transition)
        } else {
            "-".into()
        };
        let lat = |v: u64| {
            if o.count > o.oneway {
                fmt_us(v)
            } else {
                "-".into()
            }
        };
        let _ = write!(
            s,
            "{indent}{:<19}{:>11}{:>10}{:>9}{:>11}{:>9}{:>9}{:>9}{:>9}{:>9}",
            o.op.name(),
            fmt_count(o.count),
            fmt_count(o.errors),
            transit,
            fmt_rate(o.ops_per_sec),
            lat(o.p50_us),
            lat(o.p90_us),
            lat(o.p99_us),
            lat(o.p999_us),
            lat(o.max_us),
        );
        if o.oneway > 0 {
            s.push_str("  (oneway)");
        }
        s.push('\n');
    }
    s
}

pub fn render(r: &RunResult) -> String {
    let mut s = String::new();
    let sc = &r.scenario;
    let _ = writeln!(
        s,
        "scenario {} | {} target(s) | clients {:?} | window {:.1} s after {} warm-up | names {}*",
        sc.name,
        r.targets.len(),
        sc.clients.mode,
        r.window_secs,
        sc.warmup,
        r.name_prefix
    );
    let clients = match sc.clients.mode {
        ClientMode::Open => format!(
            "{} clients x {} topics every {} ({} lookups/s offered)",
            fmt_count(sc.clients.count as u64),
            sc.clients.topics_per_client,
            sc.period(sc.clients.refresh_period),
            fmt_rate(sc.lookup_rate())
        ),
        ClientMode::Closed => format!(
            "closed loop {} connection(s) x {} in flight per target",
            sc.clients.closed_connections, sc.clients.closed_in_flight
        ),
        ClientMode::Off => "no clients".to_string(),
    };
    let _ = writeln!(
        s,
        "estate: {} broker processes ({} groups x {} in {} clusters, register every {}), {} topics; {clients}",
        fmt_count(sc.broker_processes()),
        fmt_count(sc.brokers.groups as u64),
        1 + sc.brokers.slaves,
        sc.brokers.clusters,
        sc.period(sc.brokers.register_period),
        fmt_count(sc.topics.count as u64),
    );
    let _ = writeln!(
        s,
        "startup: {} registrations ({} errors) in {:.2} s, {} register bodies",
        fmt_count(r.startup.registrations),
        fmt_count(r.startup.errors),
        r.startup.secs,
        fmt_count(r.startup.register_bodies)
    );
    let g = &r.registrations;
    let _ = writeln!(
        s,
        "registrations (whole run): {} changed, {} unchanged (same bytes), {} errors",
        fmt_count(g.changed),
        fmt_count(g.unchanged),
        fmt_count(g.errors)
    );
    if r.startup.sweep_topics > 0 {
        let served = match r.startup.served_secs {
            Some(t) => format!("all served {t:.2} s after the first registration"),
            None => format!("{} never served", fmt_count(r.startup.sweep_unserved)),
        };
        let _ = write!(
            s,
            "route sweep: {} route(s) per target, {served} ({} round(s))",
            fmt_count(r.startup.sweep_topics),
            r.startup.sweep_rounds
        );
        if r.startup.full_check_topics > 0 {
            let _ = write!(
                s,
                "; then every user topic: {} checked, {} wrong or missing",
                fmt_count(r.startup.full_check_topics),
                fmt_count(r.startup.full_check_unserved)
            );
        }
        let _ = writeln!(s);
    }
    if !r.scenario.verify {
        let _ = writeln!(
            s,
            "verification OFF (scenario verify=false): only response codes are checked"
        );
    }
    let c = &r.churn;
    if c.crashes + c.shutdowns + c.rejoins + c.data_changes > 0 {
        let _ = writeln!(
            s,
            "churn: {} crashes, {} shutdowns, {} rejoins, {} data changes",
            c.crashes, c.shutdowns, c.rejoins, c.data_changes
        );
    }
    for (i, t) in r.targets.iter().enumerate() {
        let ops: Vec<&OpSummary> = Op::ALL.iter().filter_map(|&op| r.op(i, op)).collect();
        let _ = writeln!(s, "\ntarget {t}");
        s.push_str(&op_table(&ops, "  "));
        for o in &ops {
            if !o.error_kinds.is_empty() {
                let kinds: Vec<String> = o
                    .error_kinds
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                let _ = writeln!(s, "  {} errors: {}", o.op.name(), kinds.join(", "));
            }
            for e in o.examples.iter().take(3) {
                let _ = writeln!(s, "    e.g. {e}");
            }
        }
        if let Some(Some(p)) = r.servers.get(i) {
            let _ = writeln!(
                s,
                "  server pid {}: {:.2} cores avg (peak {:.2}), RSS peak {:.0} MiB",
                p.pid.unwrap_or(0),
                p.cores_avg,
                p.cores_peak,
                p.rss_mib_peak
            );
        }
    }
    let v = &r.verification;
    let _ = writeln!(
        s,
        "\nverification: {} route replies checked against what the brokers registered: {} wrong, {} in transition (within {:.1} s of a broker change)",
        fmt_count(v.routes_checked),
        fmt_count(v.wrong),
        fmt_count(v.in_transition),
        v.settle_secs
    );
    let _ = write!(
        s,
        "loadgen: {:.2} cores avg (peak {:.2}) on {} worker thread(s), RSS {:.0} MiB",
        r.loadgen.cores_avg, r.loadgen.cores_peak, r.worker_threads, r.loadgen.rss_mib_peak
    );
    if sc.clients.mode == ClientMode::Open {
        let _ = write!(
            s,
            "; send lag p99 {} (max {})",
            fmt_us(r.send_lag_p99_us),
            fmt_us(r.send_lag_max_us)
        );
    }
    s.push('\n');
    for w in &r.warnings {
        let _ = writeln!(s, "WARNING: {w}");
    }
    let errors = r.total_errors();
    if errors == 0 {
        let _ = writeln!(
            s,
            "RESULT: PASS - {} operations, 0 errors",
            fmt_count(r.total_count())
        );
    } else {
        let _ = writeln!(
            s,
            "RESULT: FAIL - {} errors in {} operations",
            fmt_count(errors),
            fmt_count(r.total_count())
        );
    }
    s
}
