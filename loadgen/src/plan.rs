//! Capacity planning: run the scenario at growing scale until the route p99
//! breaks the SLO or errors exceed the budget, then state the largest load that
//! held, with the server's CPU and RSS.

use std::fmt::Write;
use std::time::Duration;

use serde::Serialize;

use crate::costs::{self, Costs, Demand, Load};
use crate::error::Result;
use crate::report::{esc, html, plots};
use crate::result::RunResult;
use crate::run::{self, RunOptions};
use crate::scenario::{ClientMode, Scenario};
use crate::units::{fmt_count, fmt_rate, fmt_us, Dur};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Vary {
    /// Brokers, topics and clients together.
    All,
    /// Clients only (lookup rate; closed loop: in-flight requests).
    Clients,
    /// Brokers and topics only.
    Brokers,
}

#[derive(Debug, Clone)]
pub struct PlanOptions {
    pub slo_p99: Duration,
    pub error_budget: f64,
    pub start_scale: f64,
    pub step_factor: f64,
    pub max_steps: u32,
    pub step_duration: Option<Dur>,
    pub vary: Vary,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanStep {
    pub step: u32,
    pub scale: f64,
    pub broker_processes: u64,
    pub topics: u32,
    pub clients: u32,
    pub offered_lookups_per_sec: f64,
    pub route_ops_per_sec: f64,
    pub route_p99_us: u64,
    /// Every registration (changed and unchanged, merged), worst target.
    pub register_p99_us: u64,
    /// Registrations whose body changed / that resent the last body.
    pub register_changed_p99_us: u64,
    pub register_unchanged_p99_us: u64,
    pub error_rate: f64,
    pub server_cores: Option<f64>,
    pub server_rss_mib: Option<f64>,
    pub loadgen_cores: f64,
    pub pass: bool,
    pub verdict: String,
    /// What the step's estate asks of the server by the measured costs.
    pub load: Load,
    pub model: Demand,
    /// The run's warnings (loadgen bottleneck, busy machine, ...).
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanResult {
    pub scenario: String,
    pub slo_p99_us: u64,
    pub error_budget: f64,
    pub steps: Vec<PlanStep>,
    /// Index in `steps` of the largest passing step.
    pub best: Option<usize>,
    pub sentence: String,
}

/// The scenario of one step.
pub fn step_scenario(base: &Scenario, scale: f64, vary: Vary) -> Scenario {
    match vary {
        Vary::All => base.scaled(scale),
        Vary::Brokers => {
            let mut s = base.scaled(scale);
            s.clients = base.clients.clone();
            s
        }
        Vary::Clients => {
            let mut s = base.clone();
            s.clients.count = ((base.clients.count as f64 * scale).round() as u32).max(1);
            s.clients.connections = s.clients.connections.min(s.clients.count);
            if s.clients.mode == ClientMode::Closed {
                s.clients.closed_in_flight =
                    ((base.clients.closed_in_flight as f64 * scale).round() as u32)
                        .clamp(1, 65_536);
            }
            s
        }
    }
}

fn evaluate(r: &RunResult, step: u32, scale: f64, opts: &PlanOptions) -> PlanStep {
    let (count, _, ops, p99) = r.route_totals();
    let reg = r.reg_p99_worst();
    let total = r.total_count().max(1);
    let error_rate = r.total_errors() as f64 / total as f64;
    let server = r.servers.iter().flatten().next();
    let slo_us = opts.slo_p99.as_micros() as u64;
    // loadgen falling behind its own schedule by more than half the SLO means
    // the step measured loadgen, not the server.
    let lag_bound =
        r.scenario.clients.mode == ClientMode::Open && r.send_lag_p99_us > (slo_us / 2).max(5_000);
    let loadgen_bound = lag_bound || r.warnings.iter().any(|w| w.contains("bottleneck"));
    let (pass, verdict) = if loadgen_bound {
        let why = if lag_bound {
            format!("send lag p99 {}", fmt_us(r.send_lag_p99_us))
        } else {
            format!("{:.2} cores used", r.loadgen.cores_avg)
        };
        (false, format!("inconclusive: loadgen could not keep up ({why}); give it more cores or another machine"))
    } else if count == 0 && r.scenario.clients.mode != ClientMode::Off {
        (false, "no route lookups completed".to_string())
    } else if error_rate > opts.error_budget {
        (
            false,
            format!(
                "error rate {:.4}% > budget {:.4}%",
                error_rate * 100.0,
                opts.error_budget * 100.0
            ),
        )
    } else if p99 > slo_us {
        (
            false,
            format!("route p99 {} > SLO {}", fmt_us(p99), fmt_us(slo_us)),
        )
    } else {
        (
            true,
            format!("route p99 {} <= {}", fmt_us(p99), fmt_us(slo_us)),
        )
    };
    PlanStep {
        step,
        scale,
        broker_processes: r.scenario.broker_processes(),
        topics: r.scenario.topics.count,
        clients: r.scenario.clients.count,
        offered_lookups_per_sec: r.scenario.lookup_rate(),
        route_ops_per_sec: ops,
        route_p99_us: p99,
        register_p99_us: reg.all_us,
        register_changed_p99_us: reg.changed_us,
        register_unchanged_p99_us: reg.unchanged_us,
        error_rate,
        server_cores: server.map(|s| s.cores_avg),
        server_rss_mib: server.map(|s| s.rss_mib_peak),
        loadgen_cores: r.loadgen.cores_avg,
        pass,
        verdict,
        load: Load::of(&r.scenario),
        model: costs::MEASURED.demand(&Load::of(&r.scenario)),
        warnings: r.warnings.clone(),
    }
}

fn describe(s: &PlanStep) -> String {
    format!(
        "{} brokers x {} topics and {} clients ({} lookups/s)",
        fmt_count(s.broker_processes),
        fmt_count(s.topics as u64),
        fmt_count(s.clients as u64),
        fmt_rate(s.route_ops_per_sec)
    )
}

fn sentence(steps: &[PlanStep], best: Option<usize>, slo: Duration) -> String {
    let slo = fmt_us(slo.as_micros() as u64);
    let Some(b) = best else {
        return match steps.first() {
            Some(s) => format!(
                "Even the smallest step ({}) broke the SLO: {}. Lower --start-scale.",
                describe(s),
                s.verdict
            ),
            None => "No step ran.".into(),
        };
    };
    let s = &steps[b];
    let mut out = format!(
        "One node holds {} at p99 <= {slo} (measured {})",
        describe(s),
        fmt_us(s.route_p99_us)
    );
    match (s.server_cores, s.server_rss_mib) {
        (Some(c), Some(m)) => {
            let _ = write!(out, ", using {c:.2} cores and {m:.0} MiB RSS");
        }
        _ => out.push_str(" (server CPU/RSS unknown: pass --server-pid)"),
    }
    out.push('.');
    match steps.get(b + 1) {
        Some(n) => {
            let _ = write!(
                out,
                " The next step ({}) failed: {}.",
                describe(n),
                n.verdict
            );
        }
        None => out.push_str(" The limit was not reached: raise --max-steps or --step-factor."),
    }
    out.push(' ');
    out.push_str(&model_sentence(&costs::MEASURED, &s.load));
    out
}

/// Cores with two decimals, three below 0.1 (small estates are not all zeros).
fn fmt_cores(x: f64) -> String {
    if x < 0.1 {
        format!("{x:.3}")
    } else {
        format!("{x:.2}")
    }
}

/// The per-core model's view of an estate: the cores its load needs by the
/// measured per-operation costs, and where the single writer saturates.
pub fn model_sentence(c: &Costs, load: &Load) -> String {
    let d = c.demand(load);
    let topics = fmt_count(load.topics_per_registration.round() as u64);
    let registrations = format!(
        "{}/s unchanged and {}/s changed, {topics} topics each; the writer: {:.1} % of one core",
        fmt_rate(load.unchanged_per_sec),
        fmt_rate(load.changed_per_sec),
        d.writer * 100.0
    );
    let head = if load.lookups_modelled {
        format!(
            "this estate needs {} cores of server CPU: {} for lookups ({}/s), {} for \
             registrations ({registrations})",
            fmt_cores(d.total()),
            fmt_cores(d.lookups),
            fmt_rate(load.lookups_per_sec),
            fmt_cores(d.registrations_shard + d.writer),
        )
    } else {
        format!(
            "this estate needs {} cores of server CPU besides lookups (a closed loop's \
             lookups take whatever is left, so they are not modelled): registrations \
             {registrations}",
            fmt_cores(d.registrations_shard + d.writer),
        )
    };
    format!(
        "By the measured per-operation costs ({}), {head}; the writer saturates at {} changed \
         registrations/s of {topics} topics.",
        c.source,
        fmt_rate(d.writer_limit_per_sec),
    )
}

pub async fn plan(
    base: &Scenario,
    opts: &PlanOptions,
    run_opts: &RunOptions,
) -> Result<PlanResult> {
    let mut steps = Vec::new();
    let mut best = None;
    let mut scale = opts.start_scale;
    for i in 0..opts.max_steps {
        let mut sc = step_scenario(base, scale, opts.vary);
        if let Some(d) = opts.step_duration {
            sc.duration = d;
        }
        sc.name_prefix.clear();
        eprintln!(
            "plan step {}: scale {scale:.3} ({} brokers, {} topics, {} clients) ...",
            i + 1,
            sc.broker_processes(),
            sc.topics.count,
            sc.clients.count
        );
        let step = match run::run(&sc, run_opts).await {
            Ok(r) => evaluate(&r, i + 1, scale, opts),
            Err(e) => PlanStep {
                step: i + 1,
                scale,
                broker_processes: sc.broker_processes(),
                topics: sc.topics.count,
                clients: sc.clients.count,
                offered_lookups_per_sec: sc.lookup_rate(),
                route_ops_per_sec: 0.0,
                route_p99_us: 0,
                register_p99_us: 0,
                register_changed_p99_us: 0,
                register_unchanged_p99_us: 0,
                error_rate: 1.0,
                server_cores: None,
                server_rss_mib: None,
                loadgen_cores: 0.0,
                pass: false,
                verdict: format!("run failed: {e}"),
                load: Load::of(&sc),
                model: costs::MEASURED.demand(&Load::of(&sc)),
                warnings: Vec::new(),
            },
        };
        eprintln!(
            "  -> {} ({})",
            if step.pass { "pass" } else { "FAIL" },
            step.verdict
        );
        let pass = step.pass;
        steps.push(step);
        if !pass {
            break;
        }
        best = Some(steps.len() - 1);
        scale *= opts.step_factor;
    }
    Ok(PlanResult {
        scenario: base.name.clone(),
        slo_p99_us: opts.slo_p99.as_micros() as u64,
        error_budget: opts.error_budget,
        sentence: sentence(&steps, best, opts.slo_p99),
        steps,
        best,
    })
}

pub fn render_text(p: &PlanResult) -> String {
    let mut s = format!(
        "capacity plan: scenario {}, SLO route p99 <= {}, error budget {:.3}%\n",
        p.scenario,
        fmt_us(p.slo_p99_us),
        p.error_budget * 100.0
    );
    let _ = writeln!(
        s,
        "{:>4} {:>7} {:>8} {:>7} {:>8} {:>10} {:>9} {:>9} {:>8} {:>7} {:>8} {:>8}  verdict",
        "step",
        "scale",
        "brokers",
        "topics",
        "clients",
        "lookups/s",
        "p99",
        "reg p99",
        "errors",
        "cores",
        "RSS MiB",
        "lg cores"
    );
    for st in &p.steps {
        let _ = writeln!(
            s,
            "{:>4} {:>7.3} {:>8} {:>7} {:>8} {:>10} {:>9} {:>9} {:>7.3}% {:>7} {:>8} {:>8.2}  {}",
            st.step,
            st.scale,
            st.broker_processes,
            st.topics,
            st.clients,
            fmt_rate(st.route_ops_per_sec),
            fmt_us(st.route_p99_us),
            fmt_us(st.register_p99_us),
            st.error_rate * 100.0,
            st.server_cores
                .map(|c| format!("{c:.2}"))
                .unwrap_or("-".into()),
            st.server_rss_mib
                .map(|m| format!("{m:.0}"))
                .unwrap_or("-".into()),
            st.loadgen_cores,
            st.verdict
        );
    }
    let mut seen: Vec<&String> = Vec::new();
    for w in p.steps.iter().flat_map(|st| st.warnings.iter()) {
        if !seen.contains(&w) {
            seen.push(w);
        }
    }
    for w in seen {
        let _ = writeln!(s, "WARNING: {w}");
    }
    let _ = writeln!(s, "\n{}", p.sentence);
    s
}

pub fn render_html(p: &PlanResult) -> String {
    let mut b = format!(
        "<p><b>{}</b></p>\n<pre>{}</pre>\n",
        esc(&p.sentence),
        esc(&render_text(p))
    );
    let pts = |f: fn(&PlanStep) -> f64| -> Vec<(f64, f64)> {
        p.steps
            .iter()
            .map(|s| (s.route_ops_per_sec, f(s)))
            .collect()
    };
    let lines = vec![
        plots::Line {
            label: "route p99 (ms)".into(),
            points: pts(|s| s.route_p99_us as f64 / 1e3),
            thin: false,
        },
        plots::Line {
            label: "SLO".into(),
            points: p
                .steps
                .iter()
                .map(|s| (s.route_ops_per_sec, p.slo_p99_us as f64 / 1e3))
                .collect(),
            thin: true,
        },
    ];
    b.push_str(&html::figure(plots::time_chart(
        "Route p99 by load (x: lookups/s)",
        "ms",
        &lines,
        true,
    )));
    let cpu = vec![plots::Line {
        label: "server cores".into(),
        points: pts(|s| s.server_cores.unwrap_or(0.0)),
        thin: false,
    }];
    b.push_str(&html::figure(plots::time_chart(
        "Server CPU by load (x: lookups/s)",
        "cores",
        &cpu,
        false,
    )));
    html::page(&format!("loadgen capacity plan: {}", p.scenario), &b)
}
