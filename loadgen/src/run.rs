//! One run of a scenario: brokers register, clients look routes up (open or
//! closed loop) for warm-up + window, churn happens, then everything stops and
//! the measurements become a [`RunResult`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::{mpsc, watch, Semaphore};

use crate::auth::{Credentials, RouteRequests};
use crate::broker::{self, BrokerEnv, RegTotals, StartupReport};
use crate::churn;
use crate::client::{self, ClientEnv};
use crate::closed;
use crate::conn::Shared;
use crate::error::{Error, Result};
use crate::expected::Expected;
use crate::monitor::Monitor;
use crate::procstat;
use crate::result::{
    reg_p99s, summarize_proc, OpSummary, ProcUse, RunResult, Startup, Verification,
};
use crate::scenario::{ClientMode, Scenario, Sweep};
use crate::stats::{Hub, Op};
use crate::sweep;
use crate::topology::Topology;
use crate::verify::Verifier;

#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// `host:port` of every name server; brokers register with all of them.
    pub targets: Vec<String>,
    /// Per target (same order): the server's pid, for CPU/RSS from /proc.
    pub server_pids: Vec<Option<u32>>,
    /// Print a line per second to stderr.
    pub live: bool,
    /// Tokio worker threads loadgen runs on (for the bottleneck check).
    pub worker_threads: usize,
    /// Sign every request with this account (`--access-key`/`--secret-key`).
    pub credentials: Option<Credentials>,
    /// With `credentials`: route lookups are sent unsigned (`--unsigned-lookups`).
    pub unsigned_lookups: bool,
}

async fn resolve(targets: &[String]) -> Result<Vec<SocketAddr>> {
    let mut out = Vec::new();
    for t in targets {
        let addr = tokio::net::lookup_host(t.as_str())
            .await
            .map_err(|_| Error::BadTarget(t.clone()))?
            .next()
            .ok_or_else(|| Error::BadTarget(t.clone()))?;
        out.push(addr);
    }
    if out.is_empty() {
        return Err(Error::BadTarget("(none: give --target host:port)".into()));
    }
    Ok(out)
}

fn run_prefix() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mix = (nanos as u64) ^ ((std::process::id() as u64) << 20);
    format!("lg{:06x}_", mix & 0xFF_FFFF)
}

/// Why no registration succeeded, as far as the replies tell: the server's own
/// words when it answered (a refusal, code 16, needs --access-key/--secret-key),
/// else the question whether anything listens there.
fn registration_hint(hub: &Hub, targets: &[String]) -> String {
    let first = hub.with_series(|s, _| {
        s.iter()
            .filter(|((_, op), _)| *op == Op::Register)
            .find_map(|(_, series)| series.examples.first().cloned())
    });
    match first {
        Some(ex) if ex.contains("code 16 ") => format!(
            "{ex}: refused (NO_PERMISSION): the server checks signatures, give \
             --access-key/--secret-key of an account it knows"
        ),
        Some(ex) => ex,
        None => format!("is a name server listening on {}?", targets.join(", ")),
    }
}

pub async fn run(sc: &Scenario, opts: &RunOptions) -> Result<RunResult> {
    let targets = Arc::new(resolve(&opts.targets).await?);
    let mut sc = sc.clone();
    if sc.name_prefix.is_empty() {
        sc.name_prefix = run_prefix();
    }
    let sc = Arc::new(sc);
    let started_unix_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let topo = Arc::new(Topology::build(&sc, &sc.name_prefix));
    let exp = Arc::new(Expected::new(
        topo.clone(),
        sc.settle.0,
        sc.brokers.acting_master_header,
    ));
    let hub = Arc::new(Hub::new());
    let verifier = Arc::new(Verifier::new(exp.clone(), targets.len()).with_checks(sc.verify));
    let shared = Arc::new(Shared {
        verifier,
        hub: hub.clone(),
        creds: opts.credentials.clone().map(Arc::new),
    });
    let mut pids = opts.server_pids.clone();
    pids.resize(targets.len(), None);
    let monitor = Monitor::start(hub.clone(), pids.clone(), opts.live);

    // Brokers: connect and register, a bounded number at a time.
    let (stop_tx, stop_rx) = watch::channel(false);
    let env = Arc::new(BrokerEnv {
        sc: sc.clone(),
        topo: topo.clone(),
        exp: exp.clone(),
        shared: shared.clone(),
        targets: targets.clone(),
        cluster_info_cache: Default::default(),
        bodies: Default::default(),
        start_dv: broker::start_data_version(),
    });
    let sem = Arc::new(Semaphore::new(
        sc.brokers.startup_concurrency.max(1) as usize
    ));
    let (ready_tx, mut ready_rx) = mpsc::channel::<StartupReport>(topo.groups.len().max(1));
    let align = Instant::now();
    let go = Arc::new(tokio::sync::Barrier::new(topo.groups.len() + 1));
    let groups: Vec<_> = (0..topo.groups.len() as u32)
        .map(|g| {
            broker::spawn_group(
                env.clone(),
                g,
                sem.clone(),
                ready_tx.clone(),
                stop_rx.clone(),
                align,
                go.clone(),
            )
        })
        .collect();
    drop(ready_tx);
    go.wait().await;
    // Every body is built: the startup registrations (and a storm) start now.
    let t_start = Instant::now();
    let mut startup = Startup {
        broker_processes: sc.broker_processes(),
        ..Default::default()
    };
    let startup_limit = sc
        .brokers
        .startup_timeout
        .0
        .max(sc.brokers.request_timeout.0 * 3);
    let mut reported = 0;
    while reported < groups.len() {
        match tokio::time::timeout(startup_limit, ready_rx.recv()).await {
            Ok(Some(r)) => {
                startup.registrations += r.registrations;
                startup.errors += r.errors;
                reported += 1;
            }
            _ => break,
        }
    }
    startup.secs = t_start.elapsed().as_secs_f64();
    // One body per class: its first group (the class's index) encodes it.
    startup.register_bodies = topo
        .groups
        .iter()
        .enumerate()
        .filter(|(g, grp)| grp.body_class == *g as u32)
        .count() as u64;
    let mut warnings = Vec::new();
    if reported < groups.len() {
        warnings.push(format!("only {reported} of {} broker groups finished their first registration in {startup_limit:?}", groups.len()));
    }
    if !topo.groups.is_empty() && startup.registrations == 0 {
        let _ = stop_tx.send(true);
        let _ = monitor.finish().await;
        return Err(Error::Startup(format!(
            "no broker registration succeeded ({} errors): {}",
            startup.errors,
            registration_hint(&hub, &opts.targets)
        )));
    }
    let cenv = Arc::new(ClientEnv {
        sc: sc.clone(),
        topo: topo.clone(),
        shared: shared.clone(),
        targets: targets.clone(),
        routes: RouteRequests::new(
            &topo,
            shared.creds.clone().filter(|_| !opts.unsigned_lookups),
            sc.clients.version,
            sc.clients.accept_standard_json,
        ),
    });
    if sc.sweep != Sweep::Off {
        run_sweep(
            &sc,
            &topo,
            &cenv,
            t_start,
            startup_limit,
            &mut startup,
            &mut warnings,
        )
        .await;
    }
    let churn_task = tokio::spawn(churn::run(
        sc.clone(),
        groups.iter().map(|g| g.tx.clone()).collect(),
        1 + sc.brokers.slaves as usize,
        stop_rx.clone(),
    ));

    // Clients: warm-up, then the measured window.
    let client_start = Instant::now();
    let window_start = client_start + sc.warmup.0;
    let window_end = window_start + sc.duration.0;
    hub.open_window(window_start);
    hub.close_window(window_end);
    match sc.clients.mode {
        ClientMode::Open => client::run_open(cenv, client_start, window_end).await,
        ClientMode::Closed => closed::run_closed(cenv, window_end).await,
        ClientMode::Off => tokio::time::sleep_until(window_end.into()).await,
    }
    if Instant::now() < window_end {
        tokio::time::sleep_until(window_end.into()).await;
    }

    // Stop brokers and churn; bounded wait.
    let _ = stop_tx.send(true);
    let churn_counts = churn_task.await.unwrap_or_default();
    let mut registrations = RegTotals::default();
    let mut unfinished = 0;
    for g in groups {
        let mut join = g.join;
        match tokio::time::timeout(Duration::from_secs(15), &mut join).await {
            Ok(Ok(t)) => registrations.add(&t),
            Ok(Err(_)) => unfinished += 1,
            Err(_) => {
                unfinished += 1;
                join.abort();
            }
        }
    }
    if unfinished > 0 {
        warnings.push(format!(
            "{unfinished} broker group(s) did not stop in time: the registration totals miss them"
        ));
    }
    let system = monitor.finish().await;

    let window = hub.window().unwrap_or((0.0, 0.0));
    let window_secs = (window.1 - window.0).max(1e-3);
    let end_sec = window.1.floor() as u64;
    let system: Vec<_> = system.into_iter().filter(|p| p.t < end_sec).collect();
    let (ops, register_p99, lag) = hub.with_series(|series, lag| {
        let ops: Vec<OpSummary> = series
            .iter()
            .map(|((t, op), s)| OpSummary::from_series(*t, *op, s, window_secs, end_sec))
            .collect();
        let lag = lag
            .map(|h| (h.value_at_quantile(0.99), h.max()))
            .unwrap_or((0, 0));
        (ops, reg_p99s(series, targets.len()), lag)
    });
    let loadgen = summarize_proc(&system, window, |p| {
        Some((p.loadgen_cores, p.loadgen_rss_mib))
    })
    .map(|(a, pk, r)| ProcUse {
        pid: Some(std::process::id()),
        cores_avg: a,
        cores_peak: pk,
        rss_mib_peak: r,
    })
    .unwrap_or_default();
    let servers: Vec<Option<ProcUse>> = (0..targets.len())
        .map(|i| {
            summarize_proc(&system, window, |p| {
                Some((
                    p.server_cores.get(i).copied().flatten()?,
                    p.server_rss_mib.get(i).copied().flatten()?,
                ))
            })
            .map(|(a, pk, r)| ProcUse {
                pid: pids[i],
                cores_avg: a,
                cores_peak: pk,
                rss_mib_peak: r,
            })
        })
        .collect();
    let mut verification = Verification {
        settle_secs: sc.settle.0.as_secs_f64(),
        ..Default::default()
    };
    for o in &ops {
        if o.op == Op::Route {
            verification.routes_checked += o.count
                - o.error_kinds
                    .iter()
                    .filter(|(k, _)| !is_verify_kind(k))
                    .map(|(_, v)| v)
                    .sum::<u64>();
            verification.in_transition += o.in_transition;
        }
        verification.wrong += o
            .error_kinds
            .iter()
            .filter(|(k, _)| is_verify_kind(k))
            .map(|(_, v)| v)
            .sum::<u64>();
    }
    let mut res = RunResult {
        scenario: (*sc).clone(),
        targets: opts.targets.clone(),
        name_prefix: sc.name_prefix.clone(),
        started_unix_ms,
        window,
        window_secs,
        worker_threads: opts.worker_threads,
        startup,
        ops,
        verification,
        churn: churn_counts,
        registrations,
        register_p99,
        loadgen,
        send_lag_p99_us: lag.0,
        send_lag_max_us: lag.1,
        servers,
        system,
        warnings,
    };
    bottleneck_warnings(&mut res);
    Ok(res)
}

/// The timed route sweep after startup (scenario `sweep`), and for `full`
/// one untimed pass over every user topic.
async fn run_sweep(
    sc: &Scenario,
    topo: &Topology,
    cenv: &Arc<ClientEnv>,
    t_start: Instant,
    limit: Duration,
    startup: &mut Startup,
    warnings: &mut Vec<String>,
) {
    let users: Vec<u32> = (0..topo.user_topics).collect();
    let timed: Vec<u32> = match sc.sweep {
        Sweep::Off => return,
        Sweep::All => users.clone(),
        Sweep::Brokers | Sweep::Full => topo
            .groups
            .iter()
            .filter_map(|g| topo.topics.iter().position(|t| t.name == g.name))
            .map(|i| i as u32)
            .collect(),
    };
    startup.sweep_topics = timed.len() as u64;
    let deadline = Instant::now() + limit;
    let s = sweep::sweep(cenv.clone(), Arc::new(timed), deadline).await;
    startup.sweep_rounds = s.rounds;
    startup.sweep_unserved = s.unserved;
    startup.served_secs = s.done_at.map(|at| at.duration_since(t_start).as_secs_f64());
    if s.unserved > 0 {
        warnings.push(format!(
            "route sweep: {} route(s) still not served after {limit:?} ({})",
            s.unserved,
            s.example.unwrap_or_default()
        ));
    }
    if sc.sweep == Sweep::Full {
        let n = users.len() as u64;
        let full = sweep::sweep(cenv.clone(), Arc::new(users), Instant::now() + limit).await;
        startup.full_check_topics = n;
        startup.full_check_unserved = full.unserved;
        if full.unserved > 0 {
            warnings.push(format!(
                "route sweep: {} user topic route(s) wrong or missing after the broker sweep ({})",
                full.unserved,
                full.example.unwrap_or_default()
            ));
        }
    }
}

fn is_verify_kind(k: &str) -> bool {
    matches!(
        k,
        "wrong_route"
            | "missing_route"
            | "unexpected_route"
            | "wrong_dialect"
            | "wrong_reply"
            | "undecodable"
    )
}

/// Warns when loadgen (not the target) may be what limits the numbers.
fn bottleneck_warnings(r: &mut RunResult) {
    let cores = procstat::cores() as f64;
    let usable = (r.worker_threads.max(1) as f64).min(cores);
    let lg = r.loadgen.cores_avg;
    if lg >= 0.85 * usable {
        r.warnings.push(format!(
            "loadgen used {lg:.2} of its {usable:.0} usable core(s): it is probably the bottleneck, not the target (give it more --threads or another machine)"
        ));
    }
    let server_total: f64 = r.servers.iter().flatten().map(|s| s.cores_avg).sum();
    if server_total > 0.0 && lg + server_total >= 0.9 * cores {
        r.warnings.push(format!(
            "loadgen ({lg:.2}) and the server(s) ({server_total:.2}) together used {:.2} of {cores:.0} cores: they compete for CPU, so the results understate the server",
            lg + server_total
        ));
    }
    if let Some(load) = procstat::load_average() {
        if load > cores * 1.2 {
            r.warnings.push(format!(
                "the machine is busy: load average {load:.1} on {cores:.0} cores (other processes compete with loadgen and the server; tail latencies include that)"
            ));
        }
    }
    if r.scenario.clients.mode == ClientMode::Closed && server_total > 0.0 && lg > server_total {
        r.warnings.push(format!(
            "closed loop: loadgen used more CPU ({lg:.2} cores) than the server ({server_total:.2}): the maximum measured is likely loadgen's"
        ));
    }
    if r.scenario.clients.mode == ClientMode::Open && r.send_lag_p99_us > 5_000 {
        r.warnings.push(format!(
            "loadgen sent requests late (p99 {} ms behind schedule; its own scheduling or a busy machine): the latencies include that delay (no coordinated omission)",
            r.send_lag_p99_us / 1000
        ));
    }
}
