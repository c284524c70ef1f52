//! One self-contained HTML page per run: tables plus inline SVG charts (no
//! scripts, no network).

use std::fmt::Write;

use super::esc;
use super::plots::{self, Line};
use crate::result::{OpSummary, RunResult};
use crate::stats::Op;
use crate::units::{fmt_count, fmt_rate, fmt_us};

const STYLE: &str = "body{font-family:sans-serif;margin:24px;max-width:960px;color:#222}\
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}\
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}.pass{color:#070;font-weight:bold}\
.fail{color:#b00;font-weight:bold}.warn{color:#a60}figure{margin:12px 0}pre{background:#f7f7f7;padding:8px;overflow:auto}";

/// Wraps a body into a complete page.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head>\n<body>\n<h1>{}</h1>\n{body}</body></html>\n",
        esc(title),
        esc(title)
    )
}

/// An SVG chart, or the reason it could not be drawn.
pub fn figure(svg: Result<String, String>) -> String {
    match svg {
        Ok(s) => format!("<figure>{s}</figure>\n"),
        Err(e) => format!("<p class=\"warn\">chart unavailable: {}</p>\n", esc(&e)),
    }
}

/// The per-operation table.
pub fn op_table(ops: &[&OpSummary]) -> String {
    let mut s = String::from(
        "<table><tr><th>op</th><th>count</th><th>errors</th><th>in transition</th><th>ops/s</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th></tr>\n",
    );
    for o in ops {
        let lat = |v: u64| {
            if o.count > o.oneway {
                fmt_us(v)
            } else {
                "oneway".into()
            }
        };
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            o.op.name(),
            fmt_count(o.count),
            fmt_count(o.errors),
            fmt_count(o.in_transition),
            fmt_rate(o.ops_per_sec),
            lat(o.p50_us),
            lat(o.p90_us),
            lat(o.p99_us),
            lat(o.p999_us),
            lat(o.max_us)
        );
    }
    s.push_str("</table>\n");
    s
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

pub fn render_run(r: &RunResult) -> String {
    let mut b = String::new();
    let sc = &r.scenario;
    let errors = r.total_errors();
    let _ = writeln!(
        b,
        "<p>{}</p><p>Scenario <b>{}</b>; targets {}; {} broker processes ({} groups), {} topics, {} clients ({:?} loop); window {:.1} s after {} warm-up.</p>",
        esc(&sc.description),
        esc(&sc.name),
        esc(&r.targets.join(", ")),
        fmt_count(sc.broker_processes()),
        sc.brokers.groups,
        fmt_count(sc.topics.count as u64),
        fmt_count(sc.clients.count as u64),
        sc.clients.mode,
        r.window_secs,
        sc.warmup
    );
    if errors == 0 {
        let _ = writeln!(
            b,
            "<p class=\"pass\">PASS: {} operations, 0 errors.</p>",
            fmt_count(r.total_count())
        );
    } else {
        let _ = writeln!(
            b,
            "<p class=\"fail\">FAIL: {} errors.</p>",
            fmt_count(errors)
        );
    }
    for w in &r.warnings {
        let _ = writeln!(b, "<p class=\"warn\">Warning: {}</p>", esc(w));
    }
    let v = &r.verification;
    let _ = writeln!(
        b,
        "<p>Verification: {} route replies checked against the registered state; {} wrong; {} in transition (within {:.1} s of a broker change).</p>",
        fmt_count(v.routes_checked),
        fmt_count(v.wrong),
        fmt_count(v.in_transition),
        v.settle_secs
    );
    for (i, t) in r.targets.iter().enumerate() {
        let ops: Vec<&OpSummary> = Op::ALL.iter().filter_map(|&op| r.op(i, op)).collect();
        let _ = writeln!(b, "<h2>Target {}</h2>", esc(t));
        b.push_str(&op_table(&ops));
        for o in &ops {
            for e in &o.examples {
                let _ = writeln!(b, "<p class=\"fail\">{}: {}</p>", o.op.name(), esc(e));
            }
        }
        if let Some(Some(p)) = r.servers.get(i) {
            let _ = writeln!(
                b,
                "<p>Server pid {}: {:.2} cores average (peak {:.2}), RSS peak {:.0} MiB.</p>",
                p.pid.unwrap_or(0),
                p.cores_avg,
                p.cores_peak,
                p.rss_mib_peak
            );
        }
    }
    let _ = writeln!(
        b,
        "<p>loadgen: {:.2} cores average (peak {:.2}) on {} worker thread(s).</p>",
        r.loadgen.cores_avg, r.loadgen.cores_peak, r.worker_threads
    );
    b.push_str("<h2>Charts</h2>\n");
    b.push_str(&charts(r));
    let scenario = serde_json::to_string_pretty(sc).unwrap_or_default();
    let _ = writeln!(
        b,
        "<details><summary>Scenario</summary><pre>{}</pre></details>",
        esc(&scenario)
    );
    page(&format!("loadgen report: {}", sc.name), &b)
}

fn label(r: &RunResult, t: usize, what: &str) -> String {
    if r.targets.len() > 1 {
        format!("{what} {}", r.targets[t])
    } else {
        what.to_string()
    }
}

fn charts(r: &RunResult) -> String {
    let mut b = String::new();
    let route: Vec<&OpSummary> = r.ops.iter().filter(|o| o.op == Op::Route).collect();
    let tput: Vec<Line> = route
        .iter()
        .map(|o| Line {
            label: label(r, o.target, "route"),
            points: o
                .timeline
                .iter()
                .map(|p| (p.t as f64, p.count as f64))
                .collect(),
            thin: false,
        })
        .collect();
    b.push_str(&figure(plots::time_chart(
        "Route lookups per second",
        "ops/s",
        &tput,
        false,
    )));

    let broker_ops: Vec<Line> = r
        .ops
        .iter()
        .filter(|o| o.op != Op::Route)
        .map(|o| Line {
            label: label(r, o.target, o.op.name()),
            points: o
                .timeline
                .iter()
                .map(|p| (p.t as f64, p.count as f64))
                .collect(),
            thin: false,
        })
        .collect();
    if !broker_ops.is_empty() {
        b.push_str(&figure(plots::time_chart(
            "Broker operations per second",
            "ops/s",
            &broker_ops,
            false,
        )));
    }

    let mut lat = Vec::new();
    for o in r
        .ops
        .iter()
        .filter(|o| matches!(o.op, Op::Route | Op::Register | Op::RegisterUnchanged))
    {
        let pts = |f: fn(&crate::stats::SecPoint) -> u64| -> Vec<(f64, f64)> {
            o.timeline
                .iter()
                .filter(|p| p.count > 0 && f(p) > 0)
                .map(|p| (p.t as f64, ms(f(p))))
                .collect()
        };
        if o.op == Op::Route {
            lat.push(Line {
                label: label(r, o.target, "route p50"),
                points: pts(|p| p.p50_us),
                thin: false,
            });
        }
        lat.push(Line {
            label: label(r, o.target, &format!("{} p99", o.op.name())),
            points: pts(|p| p.p99_us),
            thin: true,
        });
    }
    b.push_str(&figure(plots::time_chart(
        "Route and register latency over time",
        "ms",
        &lat,
        false,
    )));

    let curves: Vec<Line> = r
        .ops
        .iter()
        .filter(|o| {
            !o.curve.is_empty()
                && matches!(
                    o.op,
                    Op::Route | Op::Register | Op::RegisterUnchanged | Op::ClusterInfo
                )
        })
        .map(|o| Line {
            label: label(r, o.target, o.op.name()),
            points: o.curve.iter().map(|&(p, us)| (p, ms(us))).collect(),
            thin: o.op != Op::Route,
        })
        .collect();
    b.push_str(&figure(plots::percentile_chart(
        "Latency by percentile (whole window)",
        &curves,
    )));

    if route.len() > 1 {
        let cats: Vec<String> = route.iter().map(|o| r.targets[o.target].clone()).collect();
        let series = vec![
            (
                "p50".to_string(),
                route.iter().map(|o| ms(o.p50_us)).collect(),
            ),
            (
                "p99".to_string(),
                route.iter().map(|o| ms(o.p99_us)).collect(),
            ),
            (
                "p99.9".to_string(),
                route.iter().map(|o| ms(o.p999_us)).collect(),
            ),
        ];
        b.push_str(&figure(plots::bar_chart(
            "Targets side by side: route latency",
            "ms",
            &cats,
            &series,
        )));
        let rate = vec![(
            "ops/s".to_string(),
            route.iter().map(|o| o.ops_per_sec).collect(),
        )];
        b.push_str(&figure(plots::bar_chart(
            "Targets side by side: route throughput",
            "ops/s",
            &cats,
            &rate,
        )));
    }

    let mut res = vec![Line {
        label: "loadgen cores".into(),
        points: r
            .system
            .iter()
            .map(|p| (p.t as f64, p.loadgen_cores))
            .collect(),
        thin: false,
    }];
    for (i, t) in r.targets.iter().enumerate() {
        let pts: Vec<(f64, f64)> = r
            .system
            .iter()
            .filter_map(|p| Some((p.t as f64, p.server_cores.get(i).copied().flatten()?)))
            .collect();
        if !pts.is_empty() {
            res.push(Line {
                label: format!("server cores {t}"),
                points: pts,
                thin: false,
            });
        }
    }
    b.push_str(&figure(plots::time_chart(
        "CPU use (cores)",
        "cores",
        &res,
        false,
    )));
    b
}
