//! Compare two targets: the same scenario against each alone, alternating
//! (A B, B A, ...) so drift hits both, then ratios B/A.

use std::fmt::Write;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::report::{esc, html, plots};
use crate::run::{self, RunOptions};
use crate::scenario::Scenario;
use crate::units::{fmt_count, fmt_rate, fmt_us};

#[derive(Debug, Clone, Serialize)]
pub struct RoundResult {
    pub round: u32,
    pub target: usize,
    pub route_ops_per_sec: f64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
    /// Every registration (changed and unchanged, merged).
    pub register_p99_us: u64,
    /// Registrations whose body changed (the server rewrote its tables).
    pub register_changed_p99_us: u64,
    /// Registrations that resent the last body (liveness refresh only).
    pub register_unchanged_p99_us: u64,
    pub errors: u64,
    pub server_cores: Option<f64>,
    pub server_rss_mib: Option<f64>,
    pub loadgen_cores: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TargetSummary {
    pub target: String,
    pub route_ops_per_sec: f64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
    /// Every registration (changed and unchanged, merged).
    pub register_p99_us: u64,
    /// Registrations whose body changed (the server rewrote its tables).
    pub register_changed_p99_us: u64,
    /// Registrations that resent the last body (liveness refresh only).
    pub register_unchanged_p99_us: u64,
    pub errors: u64,
    pub server_cores: Option<f64>,
    pub server_rss_mib: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CompareResult {
    pub scenario: String,
    pub rounds: Vec<RoundResult>,
    pub summary: Vec<TargetSummary>,
    /// (metric, B/A)
    pub ratios: Vec<(String, f64)>,
    pub warnings: Vec<String>,
}

fn median_u(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

fn median_f(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

pub async fn compare(
    sc: &Scenario,
    targets: &[String],
    pids: &[Option<u32>],
    rounds: u32,
    base: &RunOptions,
) -> Result<CompareResult> {
    if targets.len() != 2 {
        return Err(Error::BadTarget(
            "compare needs exactly two --target".into(),
        ));
    }
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    for round in 0..rounds.max(1) {
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for t in order {
            let mut sc = sc.clone();
            sc.name_prefix.clear();
            let opts = RunOptions {
                targets: vec![targets[t].clone()],
                server_pids: vec![pids.get(t).copied().flatten()],
                ..base.clone()
            };
            eprintln!(
                "compare round {} target {} ({}) ...",
                round + 1,
                ["A", "B"][t],
                targets[t]
            );
            let r = run::run(&sc, &opts).await?;
            let route = r.op(0, crate::stats::Op::Route);
            for w in &r.warnings {
                warnings.push(format!("round {} {}: {w}", round + 1, targets[t]));
            }
            out.push(RoundResult {
                round: round + 1,
                target: t,
                route_ops_per_sec: route.map(|o| o.ops_per_sec).unwrap_or(0.0),
                p50_us: route.map(|o| o.p50_us).unwrap_or(0),
                p99_us: route.map(|o| o.p99_us).unwrap_or(0),
                p999_us: route.map(|o| o.p999_us).unwrap_or(0),
                register_p99_us: r.reg_p99(0).all_us,
                register_changed_p99_us: r.reg_p99(0).changed_us,
                register_unchanged_p99_us: r.reg_p99(0).unchanged_us,
                errors: r.total_errors(),
                server_cores: r.servers.first().cloned().flatten().map(|s| s.cores_avg),
                server_rss_mib: r.servers.first().cloned().flatten().map(|s| s.rss_mib_peak),
                loadgen_cores: r.loadgen.cores_avg,
            });
        }
    }
    let summary: Vec<TargetSummary> = (0..2)
        .map(|t| {
            let rs: Vec<&RoundResult> = out.iter().filter(|r| r.target == t).collect();
            let cores: Vec<f64> = rs.iter().filter_map(|r| r.server_cores).collect();
            let rss: Vec<f64> = rs.iter().filter_map(|r| r.server_rss_mib).collect();
            TargetSummary {
                target: targets[t].clone(),
                route_ops_per_sec: median_f(rs.iter().map(|r| r.route_ops_per_sec).collect()),
                p50_us: median_u(rs.iter().map(|r| r.p50_us).collect()),
                p99_us: median_u(rs.iter().map(|r| r.p99_us).collect()),
                p999_us: median_u(rs.iter().map(|r| r.p999_us).collect()),
                register_p99_us: median_u(rs.iter().map(|r| r.register_p99_us).collect()),
                register_changed_p99_us: median_u(
                    rs.iter().map(|r| r.register_changed_p99_us).collect(),
                ),
                register_unchanged_p99_us: median_u(
                    rs.iter().map(|r| r.register_unchanged_p99_us).collect(),
                ),
                errors: rs.iter().map(|r| r.errors).sum(),
                server_cores: (!cores.is_empty()).then(|| median_f(cores)),
                server_rss_mib: (!rss.is_empty()).then(|| median_f(rss)),
            }
        })
        .collect();
    let (a, b) = (&summary[0], &summary[1]);
    let ratio = |x: f64, y: f64| if x > 0.0 { y / x } else { f64::NAN };
    let mut ratios = vec![
        (
            "route ops/s".to_string(),
            ratio(a.route_ops_per_sec, b.route_ops_per_sec),
        ),
        (
            "route p50".to_string(),
            ratio(a.p50_us as f64, b.p50_us as f64),
        ),
        (
            "route p99".to_string(),
            ratio(a.p99_us as f64, b.p99_us as f64),
        ),
        (
            "route p99.9".to_string(),
            ratio(a.p999_us as f64, b.p999_us as f64),
        ),
        (
            "register p99".to_string(),
            ratio(a.register_p99_us as f64, b.register_p99_us as f64),
        ),
    ];
    if let (Some(x), Some(y)) = (a.server_cores, b.server_cores) {
        ratios.push(("server cores".into(), ratio(x, y)));
    }
    if let (Some(x), Some(y)) = (a.server_rss_mib, b.server_rss_mib) {
        ratios.push(("server RSS".into(), ratio(x, y)));
    }
    Ok(CompareResult {
        scenario: sc.name.clone(),
        rounds: out,
        summary,
        ratios,
        warnings,
    })
}

pub fn render_text(c: &CompareResult) -> String {
    let mut s = format!(
        "compare: scenario {}, {} run(s) per target, alternating (medians)\n",
        c.scenario,
        c.rounds.len() / 2
    );
    let _ = writeln!(
        s,
        "{:<4} {:<24} {:>11} {:>9} {:>9} {:>9} {:>9} {:>8} {:>7} {:>8}",
        "", "target", "ops/s", "p50", "p99", "p99.9", "reg p99", "errors", "cores", "RSS MiB"
    );
    for (i, t) in c.summary.iter().enumerate() {
        let _ = writeln!(
            s,
            "{:<4} {:<24} {:>11} {:>9} {:>9} {:>9} {:>9} {:>8} {:>7} {:>8}",
            ["A", "B"][i],
            t.target,
            fmt_rate(t.route_ops_per_sec),
            fmt_us(t.p50_us),
            fmt_us(t.p99_us),
            fmt_us(t.p999_us),
            fmt_us(t.register_p99_us),
            fmt_count(t.errors),
            t.server_cores
                .map(|c| format!("{c:.2}"))
                .unwrap_or("-".into()),
            t.server_rss_mib
                .map(|m| format!("{m:.0}"))
                .unwrap_or("-".into()),
        );
    }
    s.push_str("ratios B/A:");
    for (m, r) in &c.ratios {
        let _ = write!(s, "  {m} {r:.2}x");
    }
    s.push('\n');
    for w in &c.warnings {
        let _ = writeln!(s, "WARNING: {w}");
    }
    s
}

pub fn render_html(c: &CompareResult) -> String {
    let mut b = format!("<pre>{}</pre>\n", esc(&render_text(c)));
    let cats: Vec<String> = c.summary.iter().map(|t| t.target.clone()).collect();
    let ms = |us: u64| us as f64 / 1e3;
    let lat = vec![
        (
            "p50".to_string(),
            c.summary.iter().map(|t| ms(t.p50_us)).collect(),
        ),
        (
            "p99".to_string(),
            c.summary.iter().map(|t| ms(t.p99_us)).collect(),
        ),
        (
            "p99.9".to_string(),
            c.summary.iter().map(|t| ms(t.p999_us)).collect(),
        ),
    ];
    b.push_str(&html::figure(plots::bar_chart(
        "Route latency (ms), median of rounds",
        "ms",
        &cats,
        &lat,
    )));
    let tput = vec![(
        "ops/s".to_string(),
        c.summary.iter().map(|t| t.route_ops_per_sec).collect(),
    )];
    b.push_str(&html::figure(plots::bar_chart(
        "Route throughput, median of rounds",
        "ops/s",
        &cats,
        &tput,
    )));
    html::page(&format!("loadgen compare: {}", c.scenario), &b)
}
