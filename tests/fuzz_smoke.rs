//! A bounded coverage-guided run of every fuzz target (fuzz/), so a decoder that
//! starts to panic, or a round trip that starts to disagree, fails the suite.
//!
//! Runs `fuzz/smoke`, which installs cargo-fuzz (pinned, cached under `.cache/`),
//! builds every target once and fuzzes each for `FUZZ_SECONDS` (default 15) after
//! replaying its recorded regressions. Not skipped when cargo-fuzz cannot be
//! installed: the test fails and says why. docs/FUZZING.md has the details.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// The first run installs cargo-fuzz and builds every target with sanitizer
/// flags from scratch; on 2 busy cores that can take a long while.
const SMOKE_DEADLINE: Duration = Duration::from_secs(45 * 60);

/// The `[[bin]]` names of fuzz/Cargo.toml, in file order.
fn declared_targets(manifest: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut in_bin = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
        } else if in_bin {
            if let Some(name) = line.strip_prefix("name = ") {
                targets.push(name.trim_matches('"').to_string());
            }
        }
    }
    targets
}

#[test]
fn every_fuzz_target_survives_a_bounded_run() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(repo.join("fuzz/Cargo.toml")).expect("fuzz/Cargo.toml");
    let targets = declared_targets(&manifest);
    // Every decoder of issue 9's list has its target.
    for required in [
        "frame",
        "header_json",
        "header_binary",
        "body_register_plain",
        "body_register_compressed",
        "body_route",
        "body_cluster_info",
        "body_topic_list",
        "body_kv_table",
        "properties",
        "config_update_roundtrip",
        "kv_file",
        "proxy_header",
    ] {
        assert!(
            targets.iter().any(|t| t == required),
            "fuzz target {required} missing from fuzz/Cargo.toml"
        );
    }

    let mut child = Command::new("bash")
        .arg(repo.join("fuzz/smoke"))
        .current_dir(repo)
        // The caller's target dir belongs to the normal build; the fuzz build has
        // its own (fuzz/target), passed explicitly by the script.
        .env_remove("CARGO_TARGET_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        // Its own process group, so a timeout stops cargo and the fuzzers too.
        .process_group(0)
        .spawn()
        .expect("run fuzz/smoke");
    let pid = child.id();
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel::<String>();
    let reader = thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // Shown live with --nocapture.
            println!("{line}");
            if tx.send(line).is_err() {
                break;
            }
        }
    });

    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for fuzz/smoke") {
            break status;
        }
        if started.elapsed() > SMOKE_DEADLINE {
            // SAFETY: kill(2) on the process group we created above; no memory
            // is involved.
            unsafe {
                libc::kill(-(pid as i32), libc::SIGKILL);
            }
            let _ = child.wait();
            panic!("fuzz/smoke did not finish within {SMOKE_DEADLINE:?}");
        }
        thread::sleep(Duration::from_millis(200));
    };
    reader.join().expect("stdout reader");
    let lines: Vec<String> = rx.try_iter().collect();

    let failed: Vec<&String> = lines.iter().filter(|l| l.contains(" FAILED")).collect();
    assert!(
        failed.is_empty() && status.success(),
        "fuzz smoke failed ({status}):\n{}",
        failed
            .iter()
            .map(|l| l.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    for t in &targets {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&format!("smoke: {t} ok ("))),
            "no result line for fuzz target {t}"
        );
    }
    let summary = format!("smoke: {n} of {n} targets ok", n = targets.len());
    assert!(lines.contains(&summary), "expected the line {summary:?}");
}
