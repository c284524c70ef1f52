//! Our `namesrv` with its HTTP listener on a free port (`httpPort=0`). The harness's
//! `TestServer` stops reading stdout at the remoting boot line; this one keeps every
//! line of stdout and stderr, because the line naming the HTTP port may come on either
//! and before or after it.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::common::{parse_boot_line, strip_ansi, write_props};

const BOOT_TIMEOUT: Duration = Duration::from_secs(10);
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Namesrv {
    pub remoting: SocketAddr,
    pub http: SocketAddr,
    _dir: tempfile::TempDir,
    lines: Arc<Mutex<Vec<String>>>,
    child: Option<Child>,
}

impl Namesrv {
    /// Starts `namesrv` with the harness defaults plus `httpPort=0` and `extra`, and
    /// waits for both ports to be named in its output.
    pub fn start(extra: &[(&str, &str)]) -> Namesrv {
        let dir = tempfile::tempdir().expect("tempdir");
        let conf = dir.path().join("namesrv.properties");
        let mut props = vec![("httpPort", "0")];
        props.extend_from_slice(extra);
        write_props(&conf, &dir.path().join("kvConfig.json"), &props);
        let mut child = Command::new(env!("CARGO_BIN_EXE_namesrv"))
            .arg("-c")
            .arg(&conf)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn namesrv");
        let lines = Arc::new(Mutex::new(Vec::new()));
        collect_lines(child.stdout.take().expect("stdout"), lines.clone());
        collect_lines(child.stderr.take().expect("stderr"), lines.clone());
        let mut server = Namesrv {
            remoting: "0.0.0.0:0".parse().expect("placeholder"),
            http: "0.0.0.0:0".parse().expect("placeholder"),
            _dir: dir,
            lines,
            child: Some(child),
        };
        let deadline = Instant::now() + BOOT_TIMEOUT;
        loop {
            let snapshot = server.output();
            let remoting = snapshot.lines().find_map(parse_boot_line);
            let http = remoting.and_then(|r| snapshot.lines().find_map(|l| http_addr(l, r)));
            if let (Some(r), Some(h)) = (remoting, http) {
                server.remoting = r;
                server.http = h;
                return server;
            }
            let exited = server
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if exited.is_some() || Instant::now() >= deadline {
                panic!(
                    "namesrv did not name its remoting and HTTP ports within {BOOT_TIMEOUT:?} \
                     (exit: {exited:?}); its output:\n{snapshot}"
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Everything it printed so far, stdout and stderr interleaved by arrival.
    pub fn output(&self) -> String {
        self.lines.lock().map(|l| l.join("\n")).unwrap_or_default()
    }
}

impl Drop for Namesrv {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // Safety: kill(2) on our own, not yet reaped, child.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

fn collect_lines(r: impl Read + Send + 'static, into: Arc<Mutex<Vec<String>>>) {
    thread::spawn(move || {
        for line in BufReader::new(r).lines() {
            let Ok(line) = line else { break };
            if let Ok(mut lines) = into.lock() {
                lines.push(strip_ansi(&line));
            }
        }
    });
}

/// The HTTP listener's address in a log line that mentions HTTP: the last
/// `127.0.0.1:PORT` on it that is not the remoting address and not port 0 (a config
/// dump may say `httpPort=0`).
pub fn http_addr(line: &str, remoting: SocketAddr) -> Option<SocketAddr> {
    if !line.to_ascii_lowercase().contains("http") {
        return None;
    }
    let mut found = None;
    let mut rest = line;
    while let Some(at) = rest.find("127.0.0.1:") {
        let tail = &rest[at + "127.0.0.1:".len()..];
        let digits: String = tail.chars().take_while(char::is_ascii_digit).collect();
        if let Ok(port) = digits.parse::<u16>() {
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            if port != 0 && addr != remoting {
                found = Some(addr);
            }
        }
        rest = tail;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_http_port_in_a_log_line() {
        let remoting: SocketAddr = "127.0.0.1:46131".parse().expect("addr");
        let line = strip_ansi(
            "\u{1b}[2m2026-12-01T16:44:46Z\u{1b}[0m \u{1b}[32m INFO\u{1b}[0m namesrv::http: HTTP listener \
             bound \u{1b}[3maddr\u{1b}[0m\u{1b}[2m=\u{1b}[0m127.0.0.1:9877",
        );
        assert_eq!(
            http_addr(&line, remoting),
            Some("127.0.0.1:9877".parse().expect("addr"))
        );
        assert_eq!(
            http_addr("config httpPort=0 listen 127.0.0.1:0", remoting),
            None
        );
        assert_eq!(
            http_addr(
                "The Name Server boot success. address 127.0.0.1:46131",
                remoting
            ),
            None
        );
    }
}
