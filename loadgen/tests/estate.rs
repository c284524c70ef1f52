//! The `estate-10k` scenario, scaled down, against the real `namesrv`: the
//! groups of a cluster share one register body, idle brokers re-register the
//! same bytes every period (`register_unchanged`), data changes and rejoins
//! register afresh (`register`), and every route stays right.

mod common;

use common::start_real;
use loadgen::run::{run, RunOptions};
use loadgen::scenario::Scenario;
use loadgen::stats::Op;

/// 40 groups (80 processes) in 2 clusters of 20, 100 topics per cluster on all
/// 20 groups: the estate's shape. Periods 600 ms (`time_scale` 0.02), a window
/// of exactly 3 periods after a warm-up longer than one.
fn small_estate(extra: &[&str]) -> Scenario {
    let mut o: Vec<String> = [
        "brokers.groups=40",
        "brokers.clusters=2",
        "topics.count=200",
        "topics.groups_per_topic=20",
        "clients.count=400",
        "clients.connections=4",
        "time_scale=0.02",
        "warmup=\"700ms\"",
        "duration=\"1800ms\"",
        // Generous: a debug server on a busy 2-core box publishes late.
        "settle=\"3s\"",
        "brokers.startup_timeout=\"60s\"",
        "brokers.data_changes_per_sec=0.0",
        "churn.crashes_per_min=0.0",
        "churn.shutdowns_per_min=0.0",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    o.extend(extra.iter().map(|s| s.to_string()));
    Scenario::load("estate-10k", &o).expect("estate scenario")
}

fn opts(srv: &common::RealServer) -> RunOptions {
    RunOptions {
        targets: vec![srv.addr.clone()],
        server_pids: vec![Some(srv.pid())],
        worker_threads: 2,
        ..Default::default()
    }
}

fn errors(r: &loadgen::result::RunResult) -> String {
    format!(
        "{:?} {:?}",
        r.ops
            .iter()
            .map(|o| (o.op, &o.error_kinds, &o.examples))
            .collect::<Vec<_>>(),
        r.warnings
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_estate_reregisters_the_same_bytes_and_routes_verify() {
    let srv = start_real();
    let r = run(&small_estate(&[]), &opts(&srv)).await.expect("run");
    assert_eq!(r.total_errors(), 0, "{}", errors(&r));
    assert_eq!(r.startup.registrations, 80);
    // One body per cluster, shared by its 20 groups.
    assert_eq!(r.startup.register_bodies, 2);
    // Nothing changed after startup: the 80 startup registrations are the only
    // changed ones, everything later repeats them byte for byte.
    assert_eq!(r.registrations.changed, 80, "{:?}", r.registrations);
    assert_eq!(r.registrations.errors, 0);
    assert_eq!(r.op(0, Op::Register).map_or(0, |o| o.count), 0);
    // Registrations count from their schedule (a fixed 600 ms period), so a
    // window of exactly 3 periods holds exactly 3 per process.
    let same = r
        .op(0, Op::RegisterUnchanged)
        .expect("unchanged registrations");
    assert_eq!(same.count, 80 * 3);
    assert!(r.registrations.unchanged >= same.count);
    // `reg p99` (plan, compare) covers the unchanged ones: no changed
    // registration in the window, so it is theirs exactly, not 0.
    let reg = r.reg_p99(0);
    assert_eq!(reg.changed_us, 0);
    assert_eq!(reg.all_us, reg.unchanged_us);
    assert_eq!(reg.all_us, r.reg_p99_worst().all_us);
    assert!(reg.all_us > 0 && reg.all_us <= same.max_us, "{reg:?}");
    // 400 clients x 4 topics x 3 periods; only the ±2 ms timer slack (a lookup
    // sent that late counts from its send) moves a few across the window edges.
    let route = r.op(0, Op::Route).expect("routes");
    assert!(route.count.abs_diff(4800) <= 48, "{}", route.count);
    assert_eq!(r.verification.routes_checked, route.count);
    assert_eq!(r.verification.wrong, 0);
    assert_eq!(r.verification.in_transition, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_changes_and_rejoins_register_afresh() {
    let srv = start_real();
    // Each data change re-registers the group's master and slave with a new
    // DataVersion (their own body from then on).
    let r = run(
        &small_estate(&["brokers.data_changes_per_sec=6.0"]),
        &opts(&srv),
    )
    .await
    .expect("run");
    assert_eq!(r.total_errors(), 0, "{}", errors(&r));
    let g = r.registrations;
    assert!(g.data_changes > 0, "{g:?}");
    assert_eq!(g.changed, 80 + 2 * g.data_changes, "{g:?}");
    assert_eq!(g.errors, 0);
    assert_eq!(r.verification.wrong, 0);

    // Slaves shut down (104) and rejoin: a rejoin is a fresh registration on a
    // new connection; the masters stay unchanged throughout.
    let r = run(
        &small_estate(&[
            "churn.shutdowns_per_min=240",
            "churn.masters=false",
            "churn.down_time=\"400ms\"",
        ]),
        &opts(&srv),
    )
    .await
    .expect("run");
    assert_eq!(r.total_errors(), 0, "{}", errors(&r));
    let g = r.registrations;
    assert!(g.rejoins > 0, "{g:?}");
    assert_eq!(g.changed, 80 + g.rejoins, "{g:?}");
    assert_eq!(g.data_changes, 0);
    assert_eq!(r.verification.wrong, 0);
}
