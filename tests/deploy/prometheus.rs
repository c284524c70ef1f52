//! A real Prometheus server for the test (Debian's package, unpacked by
//! `tools/fetch-debs`): its own config and TSDB in a temp dir, 127.0.0.1 only, a 1 s
//! scrape interval, stopped by its pid when dropped. Queried through its HTTP API.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long Prometheus gets to open its TSDB and answer `/-/ready`.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long it gets to exit on SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Prometheus {
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Prometheus {
    /// Starts `bin` scraping `/metrics` of `target` every second.
    pub fn start(bin: &Path, target: SocketAddr) -> Prometheus {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
                 scrape_configs:\n  - job_name: namesrv\n    metrics_path: /metrics\n    \
                 static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .expect("write prometheus.yml");
        // Prometheus cannot report a port it picked itself: take a free one and retry if
        // someone else grabbed it in between.
        let log_path = dir.path().join("prometheus.log");
        let mut last_log = String::new();
        for _attempt in 0..3 {
            let addr = free_port();
            let log = std::fs::File::create(&log_path).expect("create prometheus.log");
            let mut child = Command::new(bin)
                .arg(format!("--config.file={}", config.display()))
                .arg(format!(
                    "--storage.tsdb.path={}",
                    dir.path().join("data").display()
                ))
                .arg(format!("--web.listen-address={addr}"))
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("dup log"))
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
            if wait_ready(&mut child, addr) {
                return Prometheus {
                    addr,
                    dir,
                    child: Some(child),
                };
            }
            stop_child(child);
            last_log = std::fs::read_to_string(&log_path).unwrap_or_default();
        }
        panic!("Prometheus did not become ready; its log:\n{last_log}");
    }

    /// The log Prometheus wrote so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// `GET /api/v1/query?query=...`: the parsed reply, whatever its status.
    pub fn query(&self, promql: &str) -> serde_json::Value {
        let path = format!("/api/v1/query?query={}", url_encode(promql));
        let (status, body) = http_get(self.addr, &path, "application/json")
            .unwrap_or_else(|e| panic!("query {promql:?}: cannot reach Prometheus: {e}"));
        serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("query {promql:?}: HTTP {status}, not JSON ({e}): {body}"))
    }

    /// The single value an instant vector query returns: `None` while it returns no
    /// series; panics on an error or on more than one series.
    pub fn scalar(&self, promql: &str) -> Option<f64> {
        let reply = self.query(promql);
        assert_eq!(
            reply["status"], "success",
            "query {promql:?} failed: {reply}"
        );
        let result = reply["data"]["result"].as_array().expect("result array");
        match result.as_slice() {
            [] => None,
            [one] => {
                let value = one["value"][1].as_str().expect("sample value string");
                Some(
                    value
                        .parse()
                        .unwrap_or_else(|_| panic!("{promql:?}: value {value}")),
                )
            }
            many => panic!("query {promql:?} returned {} series: {reply}", many.len()),
        }
    }

    /// Stops the server with SIGTERM (SIGKILL after a deadline) and reaps it.
    pub fn stop(&mut self) {
        if let Some(child) = self.child.take() {
            stop_child(child);
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `/-/ready` answers 200; false if the process exited first or time ran out.
fn wait_ready(child: &mut Child, addr: SocketAddr) -> bool {
    let deadline = Instant::now() + READY_TIMEOUT;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if let Ok((200, _)) = http_get(addr, "/-/ready", "*/*") {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// SIGTERM to our own child, SIGKILL if it has not exited after [`STOP_TIMEOUT`].
fn stop_child(mut child: Child) {
    // Safety: kill(2) on the pid of a child we have not reaped yet.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let deadline = Instant::now() + STOP_TIMEOUT;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local_addr")
}

/// Percent-encodes everything but the unreserved characters (RFC 3986).
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A plain HTTP/1.1 GET with `Connection: close`: the status and the (de-chunked) body.
pub fn http_get(addr: SocketAddr, path: &str, accept: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: {accept}\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other(format!("no header end in {text:?}")))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line in {head:?}")))?;
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase().starts_with("transfer-encoding:")
            && l.to_ascii_lowercase().contains("chunked")
    });
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_string()
    };
    Ok((status, body))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}
