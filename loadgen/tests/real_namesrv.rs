//! loadgen against the real `namesrv` binary: small scenarios with churn, data
//! changes, both header kinds, both body forms and both route dialects must
//! finish with zero verification errors. Also drives the `loadgen` CLI.

mod common;

use common::{start_real, tiny_with};
use loadgen::run::{run, RunOptions};
use loadgen::stats::Op;

fn errors(r: &loadgen::result::RunResult) -> String {
    format!(
        "{:?}",
        r.ops
            .iter()
            .map(|o| (o.target, o.op, &o.error_kinds, &o.examples))
            .collect::<Vec<_>>()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_server_churn_and_lookups_verify_clean() {
    let srv = start_real();
    let opts = RunOptions {
        targets: vec![srv.addr.clone()],
        server_pids: vec![Some(srv.pid())],
        worker_threads: 2,
        ..Default::default()
    };
    // Open loop, plain bodies, 904 heartbeats, churn: crashes, shutdowns, rejoins.
    let s = tiny_with(
        "open",
        &[
            "duration=\"2500ms\"",
            // Generous for a debug server on a busy 2-core CI box.
            "settle=\"1500ms\"",
            "churn.crashes_per_min=90",
            "churn.shutdowns_per_min=90",
            "churn.down_time=\"700ms\"",
            "brokers.data_changes_per_sec=4.0",
        ],
    );
    let r = run(&s, &opts).await.expect("run");
    assert_eq!(r.total_errors(), 0, "{}", errors(&r));
    assert!(
        r.verification.routes_checked > 200,
        "checked {}",
        r.verification.routes_checked
    );
    assert!(r.churn.crashes + r.churn.shutdowns > 0, "{:?}", r.churn);
    assert!(r.servers[0].as_ref().map(|s| s.rss_mib_peak).unwrap_or(0.0) > 0.0);

    // Closed loop, binary headers, compressed bodies, legacy route dialect,
    // 322 heartbeats with replies.
    let s = tiny_with(
        "closed",
        &[
            "clients.header=\"binary\"",
            "clients.version=373",
            "brokers.compressed=true",
            "brokers.heartbeat=\"322\"",
            "brokers.heartbeat_oneway=false",
            "brokers.on_exit=\"unregister\"",
        ],
    );
    let r = run(&s, &opts).await.expect("run");
    assert_eq!(r.total_errors(), 0, "{}", errors(&r));
    let route = r.op(0, Op::Route).expect("route");
    assert!(route.count > 500, "closed loop count {}", route.count);
    assert!(r.op(0, Op::Heartbeat).map(|o| o.count).unwrap_or(0) > 0);
    assert!(r.op(0, Op::Unregister).is_some() || r.op(0, Op::Register).is_some());
}

#[test]
fn cli_run_writes_json_and_html() {
    let srv = start_real();
    let dir = std::env::temp_dir().join(format!("loadgen-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let json = dir.join("r.json");
    let html = dir.join("r.html");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .args([
            "run",
            "smoke",
            "--target",
            &srv.addr,
            "--duration",
            "1s",
            "--set",
            "warmup=\"200ms\"",
            "--no-live",
        ])
        .args(["--server-pid", &srv.pid().to_string()])
        .arg("--json")
        .arg(&json)
        .arg("--report")
        .arg(&html)
        .output()
        .expect("run loadgen");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "loadgen failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("RESULT: PASS"), "{stdout}");
    assert!(stdout.contains("p99.9"));
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).expect("json")).expect("parse");
    assert!(v["ops"].as_array().map(|a| !a.is_empty()).unwrap_or(false));
    let page = std::fs::read_to_string(&html).expect("html");
    assert!(page.contains("<svg") && !page.contains("http://cdn") && !page.contains("<script"));
    let _ = std::fs::remove_dir_all(&dir);
}
