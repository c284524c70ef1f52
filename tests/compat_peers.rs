//! Drop-in proof with real RocketMQ peers, as part of `cargo test --workspace`
//! (see `compat/README.md` and `docs/compat.md`):
//!
//! - `compat/run ours`: every scenario under `compat/scenarios/` (a real 5.x broker,
//!   master and slave, mqadmin 5.x and 4.9.x, the Java clients 5.x and 4.9.x, the Go
//!   client; `tls_peers.sh`: the same 5.x peers over TLS; `auth_peers.sh`: the same
//!   peers signing their requests, with `authenticationEnabled=true`) against this
//!   crate's `namesrv` binary;
//! - `compat/differential/run.sh`: Apache's Java NameServer (5.3.3 and 5.5.0) and ours
//!   side by side, replies compared byte for byte (phase `tls`: inside TLS too).
//!
//! The first run fetches the peers (Maven Central, the Go module proxy) into
//! `.cache/peers`, about 2.5 minutes; later runs need no network. A peer that cannot be
//! fetched, or a missing `java`/`javac`/`mvn`/`go`/`python3`, fails the test: it never
//! skips. The scripts' output is streamed as they run (it is not captured).

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::time::Instant;

/// The two runs share the peer cache and the 2 cores: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn run_script(script: &str, args: &[&str], limit_secs: u64) {
    let _one_at_a_time = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let t0 = Instant::now();
    eprintln!("compat_peers: running {script} {}", args.join(" "));
    // `timeout` stops a hung run; the scripts trap TERM and stop everything they started.
    // compat/run writes the names of the failed checks here, for the message below.
    let failures = std::env::temp_dir().join(format!("compat-failures-{}", std::process::id()));
    let _ = std::fs::remove_file(&failures);
    let status = Command::new("timeout")
        .args(["-k", "60", &limit_secs.to_string(), "bash"])
        .arg(root.join(script))
        .args(args)
        .current_dir(root)
        .env("NAMESRV_BIN", env!("CARGO_BIN_EXE_namesrv"))
        .env("COMPAT_FAILURES_FILE", &failures)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {script} through timeout(1) and bash: {e}"));
    eprintln!(
        "compat_peers: {script} finished in {:.0}s with {status}",
        t0.elapsed().as_secs_f64()
    );
    let failed = std::fs::read_to_string(&failures).unwrap_or_default();
    let _ = std::fs::remove_file(&failures);
    assert!(
        status.success(),
        "{script} {} failed ({status}); failed checks:\n{}(each with its log's last lines \
         under \"=== failed checks\" above; logs are kept in the temp dir it printed)",
        args.join(" "),
        if failed.is_empty() {
            "(not named)\n"
        } else {
            failed.as_str()
        }
    );
}

/// Every compat scenario against our namesrv.
#[test]
fn compat_scenarios_against_ours() {
    // A hang guard, not a target: about 20 min on a quiet 2-core machine, running
    // beside the differential below.
    run_script("compat/run", &["ours"], 40 * 60);
}

/// The differential test: Java NameServer 5.3.3 and 5.5.0 versus ours.
#[test]
fn compat_differential_against_java() {
    // A hang guard, not a target: 2 releases × (4 fixed phases, the `tls` one
    // included, + 3 random seeds) take about 12 min beside the scenarios above on a
    // 2-core machine, and more when it is loaded.
    run_script("compat/differential/run.sh", &[], 30 * 60);
}
