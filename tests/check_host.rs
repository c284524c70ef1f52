//! `tuning/check-host`: the host-readiness script. It must print one OK/WARN/FAIL
//! line per check and a summary, exit 0 (ready) or 1 (not ready) but never crash
//! (2 is reserved for bad usage), and compare the properties file's `cores` with the
//! CPU count. The script is read-only, so running it here changes nothing.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The checks every run reports, by the name printed after the level.
const CHECKS: &[&str] = &[
    "kernel",
    "io_uring_disabled",
    "io_uring_setup",
    "memlock",
    "nofile (soft)",
    "nofile (hard)",
    "fs.nr_open",
    "fs.file-max",
    "somaxconn",
    "listen backlog",
    "tcp_max_syn_backlog",
    "ip_local_port_range",
    "cpu affinity",
    "cores",
];

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tuning/check-host")
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `bash -c SHELL_PREFIX exec check-host ARGS` with a time limit.
fn run_with(prefix: &str, args: &[&str]) -> Run {
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(format!("{prefix} exec \"$0\" \"$@\""))
        .arg(script())
        .args(args)
        .env_remove("INVOCATION_ID")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start bash");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("check-host did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = reader.join().unwrap();
    let stderr = err_reader.join().unwrap();
    let code = status
        .code()
        .unwrap_or_else(|| panic!("check-host killed by a signal: {status}\n{stdout}\n{stderr}"));
    Run {
        code,
        stdout,
        stderr,
    }
}

fn run(args: &[&str]) -> Run {
    run_with("", args)
}

/// The result line of one check: (level, rest of the line).
fn check_line<'a>(stdout: &'a str, name: &str) -> Option<(&'a str, &'a str)> {
    stdout.lines().find_map(|l| {
        let level = ["OK", "WARN", "FAIL"]
            .into_iter()
            .find(|lv| l.starts_with(lv))?;
        let rest = l[level.len()..].trim_start();
        let msg = rest.strip_prefix(name)?;
        // the name is followed by the column padding, not by more of a longer name
        msg.starts_with("  ").then(|| (level, msg.trim()))
    })
}

/// Checks the shape of a normal run and returns (ok, warn, fail) from the summary.
fn assert_well_formed(r: &Run) -> (usize, usize, usize) {
    assert!(
        r.code == 0 || r.code == 1,
        "exit status {} (want 0 or 1)\nstdout:\n{}\nstderr:\n{}",
        r.code,
        r.stdout,
        r.stderr
    );
    let mut counted = (0, 0, 0);
    for name in CHECKS {
        let (level, msg) = check_line(&r.stdout, name)
            .unwrap_or_else(|| panic!("no OK/WARN/FAIL line for {name:?}:\n{}", r.stdout));
        assert!(!msg.is_empty(), "empty message for {name}");
        match level {
            "OK" => counted.0 += 1,
            "WARN" => counted.1 += 1,
            _ => counted.2 += 1,
        }
    }
    let level_lines = r
        .stdout
        .lines()
        .filter(|l| ["OK ", "WARN ", "FAIL "].iter().any(|p| l.starts_with(p)))
        .count();
    assert_eq!(
        level_lines,
        CHECKS.len(),
        "unexpected result lines:\n{}",
        r.stdout
    );

    let summary = r
        .stdout
        .lines()
        .find(|l| l.starts_with("summary: "))
        .unwrap_or_else(|| panic!("no summary line:\n{}", r.stdout));
    let nums: Vec<usize> = summary
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    assert!(nums.len() >= 4, "summary without counts: {summary}");
    assert_eq!(
        (nums[0], nums[1], nums[2], nums[3]),
        (CHECKS.len(), counted.0, counted.1, counted.2),
        "summary does not match the lines: {summary}"
    );
    // Exit 1 exactly when something failed; every WARN/FAIL carries a fix.
    assert_eq!(r.code == 1, counted.2 > 0, "exit {} vs {summary}", r.code);
    let lines: Vec<&str> = r.stdout.lines().collect();
    for (i, l) in lines.iter().enumerate() {
        if l.starts_with("FAIL ") {
            assert!(
                lines
                    .get(i + 1)
                    .is_some_and(|n| n.trim_start().starts_with("fix: ")),
                "FAIL without a fix: {l}"
            );
        }
    }
    counted
}

fn cpus() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

#[test]
fn reports_every_check_and_a_summary() {
    let r = run(&[]);
    eprintln!("{}", r.stdout);
    assert_well_formed(&r);
}

#[test]
fn cores_above_the_cpu_count_warns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let props = dir.path().join("namesrv.properties");
    let cores = if cpus() < 64 { 64 } else { cpus() * 2 };
    std::fs::write(
        &props,
        format!("listenPort=9876\n# a comment\ncores = {cores}\nserverSocketBacklog=4096\n"),
    )
    .unwrap();
    let r = run(&["-c", props.to_str().unwrap()]);
    eprintln!("{}", r.stdout);
    assert_well_formed(&r);
    let (level, msg) = check_line(&r.stdout, "cores").unwrap();
    assert_eq!(level, "WARN", "cores={cores} on {} CPUs: {msg}", cpus());
    assert!(msg.contains(&format!("cores={cores}")), "{msg}");
    assert!(msg.contains("CPUs"), "{msg}");
    let (_, backlog) = check_line(&r.stdout, "listen backlog").unwrap();
    assert!(
        backlog.contains("4096"),
        "backlog line ignores the file: {backlog}"
    );
}

#[test]
fn cores_within_the_cpu_count_is_ok() {
    let dir = tempfile::tempdir().expect("tempdir");
    let props = dir.path().join("namesrv.properties");
    std::fs::write(&props, "cores=1\n").unwrap();
    let r = run(&["-c", props.to_str().unwrap()]);
    assert_well_formed(&r);
    let (level, msg) = check_line(&r.stdout, "cores").unwrap();
    assert_eq!(level, "OK", "{msg}");
}

#[test]
fn memlock_below_glommios_floor_fails_with_a_fix() {
    // Lowering a soft limit needs no privilege.
    let r = run_with("{ ulimit -Sl 256 || true; };", &[]);
    eprintln!("{}", r.stdout);
    assert_well_formed(&r);
    let (level, msg) = check_line(&r.stdout, "memlock").unwrap();
    assert_eq!(level, "FAIL", "{msg}");
    assert!(msg.contains("512 KiB"), "{msg}");
    assert!(r.stdout.contains("LimitMEMLOCK=infinity"), "{}", r.stdout);
    assert_eq!(r.code, 1);
}

#[test]
fn bad_usage_exits_2() {
    let r = run(&["-c", "/nonexistent/namesrv.properties"]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("cannot read"), "{}", r.stderr);
    let r = run(&["--no-such-option"]);
    assert_eq!(r.code, 2);
    let r = run(&["--help"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("usage"));
}
