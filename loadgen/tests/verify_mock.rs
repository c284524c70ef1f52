//! loadgen against the in-process mock: an honest server passes with zero
//! errors; a lying one (wrong addresses, missing topics) is caught.

mod common;

use common::mock::{self, Lie};
use common::{tiny, tiny_with};
use loadgen::plan::{self, PlanOptions, Vary};
use loadgen::run::{run, RunOptions};
use loadgen::stats::Op;
use loadgen::units::Dur;

fn opts(targets: Vec<String>) -> RunOptions {
    RunOptions {
        targets,
        worker_threads: 2,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn honest_mock_open_loop_has_zero_errors() {
    let addr = mock::start(Lie::Honest).await;
    let r = run(&tiny("open"), &opts(vec![addr])).await.expect("run");
    let route = r.op(0, Op::Route).expect("route op");
    assert!(route.count > 100, "route count {}", route.count);
    assert_eq!(
        r.total_errors(),
        0,
        "errors: {:?}",
        r.ops
            .iter()
            .map(|o| (&o.error_kinds, &o.examples))
            .collect::<Vec<_>>()
    );
    assert_eq!(r.verification.wrong, 0);
    assert!(r.op(0, Op::Register).map(|o| o.count).unwrap_or(0) > 0);
    assert!(route.p99_us > 0 && route.p50_us <= route.p99_us);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn honest_mock_closed_loop_binary_legacy_two_targets() {
    let a = mock::start(Lie::Honest).await;
    let b = mock::start(Lie::Honest).await;
    let sc = tiny_with(
        "closed",
        &[
            "clients.header=\"binary\"",
            "clients.version=300",
            "brokers.compressed=true",
            "brokers.heartbeat=\"322\"",
            "brokers.heartbeat_oneway=false",
        ],
    );
    let r = run(&sc, &opts(vec![a, b])).await.expect("run");
    for t in 0..2 {
        let route = r.op(t, Op::Route).expect("route op per target");
        assert!(route.count > 100, "target {t}: {}", route.count);
        assert!(r.op(t, Op::Heartbeat).map(|o| o.count).unwrap_or(0) > 0);
    }
    assert_eq!(
        r.total_errors(),
        0,
        "errors: {:?}",
        r.ops
            .iter()
            .map(|o| (&o.error_kinds, &o.examples))
            .collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lying_mock_wrong_addresses_are_detected() {
    let addr = mock::start(Lie::WrongAddr).await;
    let sc = tiny_with(
        "open",
        &["settle=\"100ms\"", "brokers.data_changes_per_sec=0.0"],
    );
    let r = run(&sc, &opts(vec![addr])).await.expect("run");
    let route = r.op(0, Op::Route).expect("route op");
    assert!(route.errors > 0, "a lying server must be caught");
    assert!(
        route.error_kinds.get("wrong_route").copied().unwrap_or(0) > 0,
        "{:?}",
        route.error_kinds
    );
    assert!(r.verification.wrong > 0);
    assert!(
        route.examples.iter().any(|e| e.contains("brokerAddrs")),
        "{:?}",
        route.examples
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lying_mock_missing_topics_are_detected() {
    let addr = mock::start(Lie::DropTopics).await;
    let sc = tiny_with(
        "closed",
        &["settle=\"100ms\"", "brokers.data_changes_per_sec=0.0"],
    );
    let r = run(&sc, &opts(vec![addr])).await.expect("run");
    let route = r.op(0, Op::Route).expect("route op");
    let missing = route.error_kinds.get("missing_route").copied().unwrap_or(0);
    assert!(
        missing > route.count / 10,
        "missing {missing} of {}",
        route.count
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_steps_until_the_slo_breaks() {
    let addr = mock::start(Lie::Honest).await;
    let sc = tiny_with("open", &["warmup=\"100ms\""]);
    let po = PlanOptions {
        // An SLO no server meets: the first step fails, and the sentence says so.
        slo_p99: std::time::Duration::from_nanos(1),
        error_budget: 0.0,
        start_scale: 1.0,
        step_factor: 2.0,
        max_steps: 3,
        step_duration: Some(Dur::millis(500)),
        vary: Vary::Clients,
    };
    let p = plan::plan(&sc, &po, &opts(vec![addr.clone()]))
        .await
        .expect("plan");
    assert_eq!(p.steps.len(), 1);
    assert!(p.best.is_none());
    assert!(p.sentence.contains("smallest step"), "{}", p.sentence);

    let po = PlanOptions {
        slo_p99: std::time::Duration::from_secs(5),
        max_steps: 2,
        ..po
    };
    let p = plan::plan(&sc, &po, &opts(vec![addr])).await.expect("plan");
    assert_eq!(p.steps.len(), 2, "{:?}", p.steps);
    assert_eq!(p.best, Some(1));
    assert!(p.sentence.starts_with("One node holds"), "{}", p.sentence);
    // the per-core model's view of the best step, from the same costs as `loadgen costs`
    let model = loadgen::plan::model_sentence(&loadgen::costs::MEASURED, &p.steps[1].load);
    assert!(p.sentence.ends_with(&format!(" {model}")), "{}", p.sentence);
    assert_eq!(
        p.steps[1].load,
        loadgen::costs::Load::of(&plan::step_scenario(&sc, p.steps[1].scale, po.vary))
    );
    assert!(p.steps[1].clients == 2 * p.steps[0].clients);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compare_reports_ratios() {
    let a = mock::start(Lie::Honest).await;
    let b = mock::start(Lie::Honest).await;
    let sc = tiny_with("closed", &["duration=\"500ms\"", "warmup=\"100ms\""]);
    let c = loadgen::compare::compare(&sc, &[a, b], &[], 1, &opts(vec![]))
        .await
        .expect("compare");
    assert_eq!(c.rounds.len(), 2);
    assert!(c
        .summary
        .iter()
        .all(|t| t.route_ops_per_sec > 0.0 && t.errors == 0));
    let tput = c
        .ratios
        .iter()
        .find(|(m, _)| m == "route ops/s")
        .expect("ratio");
    assert!(tput.1.is_finite() && tput.1 > 0.0);
    assert!(loadgen::compare::render_html(&c).contains("<svg"));
}
