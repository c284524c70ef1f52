//! Signed loadgen (`--access-key`/`--secret-key`) against the real `namesrv` with
//! authentication on and anonymous route reads off: with the account's keys every
//! registration, heartbeat and lookup is accepted and every route verifies; with
//! no keys or a wrong secret the run fails and says the server refused it, and
//! anonymous lookups (`--unsigned-lookups`) are each counted as refused.

mod common;

use common::{start_real_with, tiny_with, RealServer};
use loadgen::auth::Credentials;
use loadgen::run::{run, RunOptions};
use loadgen::stats::Op;

const ACCESS_KEY: &str = "loadgen-bench";
const SECRET_KEY: &str = "s3cret-for-loadgen";

/// namesrv with `authenticationEnabled=true`, `anonymousRouteRead=false` and one
/// non-admin account (brokers and lookups need no admin rights).
fn start_locked() -> RealServer {
    let dir = std::env::temp_dir().join(format!(
        "loadgen-acl-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    std::fs::create_dir_all(&dir).expect("acl dir");
    let acl = dir.join("plain_acl.yml");
    std::fs::write(
        &acl,
        format!(
            "globalWhiteRemoteAddresses: []\naccounts:\n  - accessKey: {ACCESS_KEY}\n    secretKey: {SECRET_KEY}\n    admin: false\n"
        ),
    )
    .expect("write accounts");
    let srv = start_real_with(&format!(
        "authenticationEnabled=true\nanonymousRouteRead=false\nauthConfigPath={}\n",
        acl.display()
    ));
    // The server has read the file at start; its own temp dir is removed on drop.
    let _ = std::fs::remove_dir_all(&dir);
    srv
}

fn opts(srv: &RealServer, creds: Option<Credentials>) -> RunOptions {
    RunOptions {
        targets: vec![srv.addr.clone()],
        server_pids: vec![Some(srv.pid())],
        worker_threads: 2,
        credentials: creds,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_runs_verify_and_unsigned_runs_are_refused() {
    let srv = start_locked();
    let creds = Credentials::new(ACCESS_KEY, SECRET_KEY, None);

    // Closed loop (the A/B's max-lookup path) with 322 heartbeats that get
    // replies, then the open loop with oneway 904s and a clean unregister.
    for (mode, extra) in [
        (
            "closed",
            [
                "brokers.heartbeat=\"322\"",
                "brokers.heartbeat_oneway=false",
            ],
        ),
        (
            "open",
            ["brokers.on_exit=\"unregister\"", "brokers.compressed=true"],
        ),
    ] {
        let s = tiny_with(mode, &extra);
        let r = run(&s, &opts(&srv, Some(creds.clone())))
            .await
            .expect("signed run");
        let route = r.op(0, Op::Route).expect("route op");
        assert_eq!(
            r.total_errors(),
            0,
            "{mode}: {:?}",
            r.ops
                .iter()
                .map(|o| (o.op, &o.error_kinds, &o.examples))
                .collect::<Vec<_>>()
        );
        assert!(route.count > 100, "{mode}: {} lookups", route.count);
        assert!(
            r.verification.routes_checked > 100,
            "{mode}: checked {}",
            r.verification.routes_checked
        );
        assert!(r.op(0, Op::Heartbeat).map(|o| o.count).unwrap_or(0) > 0);
    }

    // Signed brokers, anonymous lookups (--unsigned-lookups): the brokers register,
    // every lookup is refused with NO_PERMISSION and counted as such.
    let mut o = opts(&srv, Some(creds.clone()));
    o.unsigned_lookups = true;
    let r = run(&tiny_with("closed", &[]), &o)
        .await
        .expect("unsigned lookups");
    let route = r.op(0, Op::Route).expect("route op");
    assert!(route.count > 100, "{} lookups", route.count);
    assert_eq!(route.errors, route.count, "{:?}", route.error_kinds);
    assert_eq!(
        route.error_kinds.get("code_16").copied(),
        Some(route.count),
        "{:?}",
        route.error_kinds
    );
    assert_eq!(r.verification.routes_checked, 0);
    assert_eq!(r.op(0, Op::Register).map(|o| o.errors), Some(0));

    // No keys, or a wrong secret: the brokers' registrations are refused, so the
    // run cannot start, and the error says why.
    for (who, c) in [
        ("unsigned", None),
        (
            "wrong secret",
            Some(Credentials::new(ACCESS_KEY, "not-the-secret", None)),
        ),
    ] {
        let err = match run(&tiny_with("closed", &[]), &opts(&srv, c)).await {
            Ok(r) => panic!("{who}: run succeeded: {} errors", r.total_errors()),
            Err(e) => e.to_string(),
        };
        assert!(err.contains("code 16 "), "{who}: {err}");
        assert!(err.contains("NO_PERMISSION"), "{who}: {err}");
        assert!(!err.contains(SECRET_KEY), "{who}: {err}");
    }
}

#[test]
fn cli_signs_with_access_and_secret_key() {
    let srv = start_locked();
    let lg = |keys: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_loadgen"))
            .args(["run", "smoke", "--target", &srv.addr, "--duration", "1s"])
            .args(["--set", "warmup=\"200ms\"", "--no-live"])
            .args(keys)
            .output()
            .expect("run loadgen")
    };
    let out = lg(&["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "signed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("RESULT: PASS"), "{stdout}");

    let out = lg(&[]);
    assert_eq!(out.status.code(), Some(2), "unsigned must fail to start");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("NO_PERMISSION"), "{stderr}");

    // Half a key pair is a usage error (clap exits 2 before connecting).
    let out = lg(&["--access-key", ACCESS_KEY]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--secret-key"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
