//! Test helpers: an in-process mock name server (honest or lying) and a guard
//! that runs the real `namesrv` binary on a free loopback port.

#![allow(dead_code)]

pub mod mock;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use loadgen::scenario::Scenario;

/// The real server, killed on drop.
pub struct RealServer {
    child: Child,
    pub addr: String,
    _dir: PathBuf,
}

impl Drop for RealServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self._dir);
    }
}

impl RealServer {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The temp dir holding its config and `kv.json`.
    pub fn dir(&self) -> &Path {
        &self._dir
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// `target/debug/namesrv`, built with `cargo build -p namesrv` when missing.
pub fn namesrv_binary() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    let bin = target.join("debug").join("namesrv");
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let st = Command::new(cargo)
            .args(["build", "-p", "namesrv"])
            .current_dir(workspace_root())
            .status()
            .expect("run cargo build -p namesrv");
        assert!(st.success(), "cargo build -p namesrv failed");
    }
    bin
}

/// Starts namesrv on 127.0.0.1 with a free port and waits for its boot line.
pub fn start_real() -> RealServer {
    start_real_with("")
}

/// [`start_real`] with `extra` (`key=value` lines) appended to its config file.
pub fn start_real_with(extra: &str) -> RealServer {
    let dir = std::env::temp_dir().join(format!(
        "loadgen-test-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let conf = dir.join("namesrv.conf");
    std::fs::write(
        &conf,
        format!(
            "listenPort=0\nbindAddress=127.0.0.1\nhttpPort=-1\nkvConfigPath={}\n{extra}",
            dir.join("kv.json").display()
        ),
    )
    .expect("write conf");
    let mut child = Command::new(namesrv_binary())
        .arg("-c")
        .arg(&conf)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn namesrv");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(i) = line.find("boot success") {
                if let Some(a) = line[i..].split("address ").nth(1) {
                    let _ = tx.send(a.split_whitespace().next().unwrap_or("").to_string());
                }
            }
        }
    });
    let addr = match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(a) => a,
        Err(_) => {
            let _ = child.kill();
            panic!("namesrv did not print its boot line");
        }
    };
    RealServer {
        child,
        addr,
        _dir: dir,
    }
}

fn rand_suffix() -> u64 {
    Instant::now().elapsed().as_nanos() as u64
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
}

/// A small, fast scenario: everything on, ~1.5 s window.
pub fn tiny(mode: &str) -> Scenario {
    tiny_with(mode, &[])
}

/// [`tiny`] plus `key=value` overrides (applied last).
pub fn tiny_with(mode: &str, sets: &[&str]) -> Scenario {
    let mut o: Vec<String> = vec![
        "duration=\"1500ms\"".into(),
        "warmup=\"300ms\"".into(),
        "settle=\"1s\"".into(),
        "brokers.groups=4".into(),
        "topics.count=30".into(),
        "clients.count=100".into(),
        "clients.refresh_period=\"500ms\"".into(),
        format!("clients.mode=\"{mode}\""),
        "clients.closed_connections=2".into(),
        "clients.closed_in_flight=8".into(),
    ];
    o.extend(sets.iter().map(|s| s.to_string()));
    Scenario::load("smoke", &o).expect("tiny scenario")
}
