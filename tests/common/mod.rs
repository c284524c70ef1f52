//! Shared harness of the wire-level integration tests: a real `namesrv` process
//! on an ephemeral port ([`TestServer`]) and a blocking raw-protocol client
//! ([`Client`]) built on the protocol crate's codecs.
//!
//! Every test starts its own server in its own temp dir; `Drop` stops it
//! (SIGTERM, then SIGKILL after a deadline), so nothing outlives the test.

#![allow(dead_code)] // each test file uses a different part of the harness

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use protocol::body::{
    body_crc32, DataVersion, QueueData, RegisterBrokerBody, TopicConfig, TopicRouteData,
};
use protocol::codes::{request as rq, response, version};
use protocol::frame;
use protocol::{RemotingCommand, SerializeType};

pub use protocol::codes;

mod auth;
mod http;
#[allow(unused_imports)] // only the authentication tests use it
pub use auth::*;
#[allow(unused_imports)] // only the HTTP tests use it
pub use http::*;

/// How long the server gets to print its boot line.
const BOOT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a stopped server gets to exit before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);
/// Read timeout of every client socket: a bound for an answer that is coming, so
/// generous. On a loaded 2-core CI machine 5 s was seen to run out once (a 318
/// that persists the configuration); tests that expect no answer set their own.
pub const READ_TIMEOUT: Duration = Duration::from_secs(15);

pub const BOOT_LINE: &str = "The Name Server boot success. serializeType=";

// ---------------------------------------------------------------------------
// polling

/// Polls `f` until it returns `Some`, or panics with `what` after `within`.
pub fn wait_for<T>(within: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = f() {
            return v;
        }
        if Instant::now() >= deadline {
            panic!("timed out after {within:?} waiting for {what}");
        }
        thread::sleep(Duration::from_millis(20));
    }
}

// ---------------------------------------------------------------------------
// the server process

/// A `namesrv` child process with its own temp dir (config, KV file).
pub struct TestServer {
    pub dir: tempfile::TempDir,
    pub conf_path: PathBuf,
    pub kv_path: PathBuf,
    pub addr: SocketAddr,
    /// The HTTP listener's address from the boot line (`None`: `http off`).
    pub http: Option<SocketAddr>,
    child: Option<Child>,
    stderr: Arc<Mutex<String>>,
}

impl TestServer {
    /// Starts a server with the harness defaults (`listenPort=0`,
    /// `bindAddress=127.0.0.1`, `cores=2`, paths inside a temp dir) overridden or
    /// extended by `extra`.
    pub fn start(extra: &[(&str, &str)]) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let conf_path = dir.path().join("namesrv.properties");
        let kv_path = dir.path().join("kvConfig.json");
        write_props(&conf_path, &kv_path, extra);
        Self::start_in(dir, conf_path, kv_path)
    }

    /// Starts a server on an existing dir and config file (e.g. a prepared KV file).
    pub fn start_in(dir: tempfile::TempDir, conf_path: PathBuf, kv_path: PathBuf) -> TestServer {
        let (child, addr, stderr, http) = spawn_and_wait_boot(&conf_path);
        TestServer {
            dir,
            conf_path,
            kv_path,
            addr,
            http,
            child: Some(child),
            stderr,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("server running").id()
    }

    /// Everything the server wrote to stderr so far (its log).
    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    pub fn client(&self) -> Client {
        Client::connect(self.addr)
    }

    /// Sends `sig` to the server process.
    pub fn signal(&self, sig: i32) {
        let pid = self.pid() as libc::pid_t;
        // Safety: plain kill(2) on our own child.
        let rc = unsafe { libc::kill(pid, sig) };
        assert_eq!(rc, 0, "kill({pid}, {sig}) failed");
    }

    /// Waits for the process to exit, up to `within`; `None` if it is still running.
    pub fn wait_exit(&mut self, within: Duration) -> Option<ExitStatus> {
        let child = self.child.as_mut().expect("server running");
        let deadline = Instant::now() + within;
        loop {
            match child.try_wait() {
                Ok(Some(status)) => {
                    self.child = None;
                    return Some(status);
                }
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
                Ok(None) => return None,
                Err(e) => panic!("waiting for the server failed: {e}"),
            }
        }
    }

    /// SIGTERM, and the exit status (panics if it does not exit in time).
    pub fn stop(&mut self) -> ExitStatus {
        self.signal(libc::SIGTERM);
        match self.wait_exit(STOP_TIMEOUT) {
            Some(s) => s,
            None => {
                self.kill();
                panic!(
                    "server ignored SIGTERM for {STOP_TIMEOUT:?}; stderr:\n{}",
                    self.stderr()
                );
            }
        }
    }

    /// Stops the server (gracefully) and starts it again with the same temp dir
    /// and config file. The port changes (`listenPort=0`).
    pub fn restart(&mut self) {
        let status = self.stop();
        assert!(status.success(), "server exited with {status} on SIGTERM");
        let (child, addr, stderr, http) = spawn_and_wait_boot(&self.conf_path);
        self.child = Some(child);
        self.addr = addr;
        self.http = http;
        self.stderr = stderr;
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The server's resident set size, from /proc.
    pub fn rss_kib(&self) -> u64 {
        rss_kib(self.pid())
    }

    /// The server's virtual size (catches reservations that are never touched).
    pub fn vm_size_kib(&self) -> u64 {
        proc_status_kib(self.pid(), "VmSize")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            // Safety: plain kill(2) on our own child.
            unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
            let started = Instant::now();
            let deadline = started + STOP_TIMEOUT;
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    if started.elapsed() > Duration::from_secs(1) {
                        eprintln!("test server took {:?} to stop", started.elapsed());
                    }
                    self.child = None;
                    return;
                }
                thread::sleep(Duration::from_millis(20));
            }
            eprintln!("test server did not exit on SIGTERM; killing it");
            self.kill();
        }
    }
}

/// Writes the harness's properties file: defaults, then `extra` (which wins).
pub fn write_props(conf_path: &Path, kv_path: &Path, extra: &[(&str, &str)]) {
    let defaults = [
        ("listenPort", "0".to_string()),
        ("bindAddress", "127.0.0.1".to_string()),
        ("cores", "2".to_string()),
        ("httpPort", "0".to_string()),
        ("kvConfigPath", kv_path.display().to_string()),
        ("configStorePath", conf_path.display().to_string()),
    ];
    let mut text = String::new();
    for (k, v) in &defaults {
        if !extra.iter().any(|(ek, _)| ek == k) {
            text.push_str(&format!("{k}={v}\n"));
        }
    }
    for (k, v) in extra {
        text.push_str(&format!("{k}={v}\n"));
    }
    std::fs::write(conf_path, text).expect("write config");
}

fn server_command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_namesrv"));
    cmd.args(args)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Spawns `namesrv -c conf` and waits for the boot line; returns the child, the
/// address it printed, its (continuously drained) stderr and its HTTP address.
fn spawn_and_wait_boot(conf: &Path) -> (Child, SocketAddr, Arc<Mutex<String>>, Option<SocketAddr>) {
    let conf = conf.to_str().expect("utf-8 path");
    let mut child = server_command(&["-c", conf])
        .spawn()
        .expect("spawn namesrv");
    let stderr = drain(child.stderr.take().expect("stderr"));
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel::<String>();
    thread::spawn(move || {
        // Keeps draining after the boot line so the server never blocks on stdout.
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + BOOT_TIMEOUT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                if let Some(addr) = parse_boot_line(&line) {
                    return (child, addr, stderr, parse_http_addr(&line));
                }
            }
            Err(_) => {
                let _ = child.kill();
                let status = child.wait().ok();
                thread::sleep(Duration::from_millis(100));
                let err = stderr.lock().map(|s| s.clone()).unwrap_or_default();
                panic!("namesrv did not print its boot line within {BOOT_TIMEOUT:?} (exit: {status:?}); stderr:\n{err}");
            }
        }
    }
}

/// `The Name Server boot success. serializeType=JSON, address 127.0.0.1:PORT`
pub fn parse_boot_line(line: &str) -> Option<SocketAddr> {
    if !line.starts_with(BOOT_LINE) {
        return None;
    }
    let addr = line.rsplit("address ").next()?;
    addr.trim().parse().ok()
}

/// The `http ADDR` of the boot line (`None` for `http off`).
pub fn parse_http_addr(line: &str) -> Option<SocketAddr> {
    let rest = line.split(", http ").nth(1)?;
    rest.split(',').next()?.trim().parse().ok()
}

fn drain(r: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    drain_joinable(r).0
}

/// Collects everything `r` yields until EOF; the handle ends at EOF.
fn drain_joinable(mut r: impl Read + Send + 'static) -> (Arc<Mutex<String>>, JoinHandle<()>) {
    let out = Arc::new(Mutex::new(String::new()));
    let sink = out.clone();
    let handle = thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match r.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if let Ok(mut s) = sink.lock() {
                        s.push_str(&String::from_utf8_lossy(&buf[..n]));
                    }
                }
            }
        }
    });
    (out, handle)
}

/// Runs `namesrv args` to completion (it must exit within 10 s); returns the exit
/// status, stdout and stderr.
pub fn run_to_exit(args: &[&str]) -> (ExitStatus, String, String) {
    let mut child = server_command(args).spawn().expect("spawn namesrv");
    let (out, out_done) = drain_joinable(child.stdout.take().expect("stdout"));
    let (err, err_done) = drain_joinable(child.stderr.take().expect("stderr"));
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().expect("try_wait") {
            break s;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "namesrv {args:?} did not exit within 10 s; stdout:\n{}\nstderr:\n{}",
                out.lock().unwrap(),
                err.lock().unwrap()
            );
        }
        thread::sleep(Duration::from_millis(20));
    };
    // The pipes close with the process: read them to the end.
    let _ = out_done.join();
    let _ = err_done.join();
    let out = out.lock().map(|s| s.clone()).unwrap_or_default();
    let err = err.lock().map(|s| s.clone()).unwrap_or_default();
    (status, out, err)
}

/// VmRSS of a process, in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    proc_status_kib(pid, "VmRSS")
}

/// A `kB` field of /proc/<pid>/status (`VmRSS`, `VmSize`, ...).
pub fn proc_status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/{pid}/status"))
}

// ---------------------------------------------------------------------------
// request building

/// A request header with the given ext fields (version 479, JAVA).
pub fn request(code: i32, ext: &[(&str, &str)]) -> RemotingCommand {
    RemotingCommand::request(
        code,
        0,
        ext.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

/// A topic as a broker registers it.
pub fn topic(name: &str, perm: i32, queues: i32) -> TopicConfig {
    TopicConfig {
        topic_name: name.to_string(),
        read_queue_nums: queues,
        write_queue_nums: queues,
        perm,
        ..TopicConfig::default()
    }
}

/// The QueueData a route lists for a plain topic of `topic(_, perm, queues)`.
pub fn queue_data(broker_name: &str, perm: i32, queues: i32) -> QueueData {
    QueueData {
        broker_name: broker_name.into(),
        perm,
        read_queue_nums: queues,
        topic_sys_flag: 0,
        write_queue_nums: queues,
    }
}

pub fn dv(counter: i64, state_version: i64) -> DataVersion {
    DataVersion {
        counter,
        state_version,
        timestamp: 1_700_000_000_000 + counter,
    }
}

/// How a registration fills `bodyCrc32`.
#[derive(Debug, Clone, Copy)]
pub enum Crc {
    /// The real CRC of the body.
    Correct,
    /// No field at all.
    Absent,
    /// This value.
    Value(i32),
}

/// A REGISTER_BROKER request; fields are public so tests can tweak them.
#[derive(Debug, Clone)]
pub struct BrokerReg {
    pub cluster: String,
    pub name: String,
    pub addr: String,
    pub id: i64,
    pub ha_server_addr: Option<String>,
    pub topics: Vec<TopicConfig>,
    pub data_version: DataVersion,
    pub filter_servers: Vec<String>,
    /// The request `version` (selects the body format).
    pub version: i32,
    pub compressed: bool,
    pub crc: Crc,
    pub heartbeat_timeout_ms: Option<i64>,
    pub enable_acting_master: Option<bool>,
    pub zone: Option<String>,
}

impl BrokerReg {
    pub fn new(cluster: &str, name: &str, addr: &str, id: i64, topics: Vec<TopicConfig>) -> Self {
        BrokerReg {
            cluster: cluster.to_string(),
            name: name.to_string(),
            addr: addr.to_string(),
            id,
            ha_server_addr: Some(format!("{addr}-ha")),
            topics,
            data_version: dv(1, 0),
            filter_servers: Vec::new(),
            version: version::CURRENT,
            compressed: false,
            crc: Crc::Correct,
            heartbeat_timeout_ms: None,
            enable_acting_master: None,
            zone: None,
        }
    }

    pub fn body(&self) -> Vec<u8> {
        let body = RegisterBrokerBody {
            data_version: self.data_version,
            topic_configs: self.topics.clone(),
            mapping_infos: Default::default(),
            filter_server_list: Some(self.filter_servers.clone()),
        };
        if self.compressed {
            body.encode_compressed(self.version)
        } else {
            body.encode_plain()
        }
    }

    /// The request header and body.
    pub fn request(&self) -> (RemotingCommand, Vec<u8>) {
        let body = self.body();
        let mut cmd = request(
            rq::REGISTER_BROKER,
            &[
                ("brokerName", &self.name),
                ("brokerAddr", &self.addr),
                ("clusterName", &self.cluster),
                ("brokerId", &self.id.to_string()),
                ("compressed", if self.compressed { "true" } else { "false" }),
            ],
        );
        cmd.version = self.version;
        if let Some(ha) = &self.ha_server_addr {
            cmd.push_ext("haServerAddr", ha.as_str());
        }
        match self.crc {
            Crc::Correct => cmd.push_ext("bodyCrc32", body_crc32(&body).to_string()),
            Crc::Absent => {}
            Crc::Value(v) => cmd.push_ext("bodyCrc32", v.to_string()),
        }
        if let Some(ms) = self.heartbeat_timeout_ms {
            cmd.push_ext("heartbeatTimeoutMillis", ms.to_string());
        }
        if let Some(a) = self.enable_acting_master {
            cmd.push_ext("enableActingMaster", a.to_string());
        }
        if let Some(z) = &self.zone {
            cmd.push_ext("__ZONE_NAME", z.as_str());
        }
        (cmd, body)
    }

    /// A 904 heartbeat for this broker.
    pub fn heartbeat(&self) -> RemotingCommand {
        request(
            rq::BROKER_HEARTBEAT,
            &[
                ("clusterName", &self.cluster),
                ("brokerAddr", &self.addr),
                ("brokerName", &self.name),
            ],
        )
    }

    /// A 322 QUERY_DATA_VERSION header for this broker.
    pub fn query_data_version(&self) -> RemotingCommand {
        request(
            rq::QUERY_DATA_VERSION,
            &[
                ("brokerName", &self.name),
                ("brokerAddr", &self.addr),
                ("clusterName", &self.cluster),
                ("brokerId", &self.id.to_string()),
            ],
        )
    }

    /// A 104 UNREGISTER_BROKER header for this broker.
    pub fn unregister(&self) -> RemotingCommand {
        request(
            rq::UNREGISTER_BROKER,
            &[
                ("brokerName", &self.name),
                ("brokerAddr", &self.addr),
                ("clusterName", &self.cluster),
                ("brokerId", &self.id.to_string()),
            ],
        )
    }
}

// ---------------------------------------------------------------------------
// the client

/// A reply: header and body.
pub type Reply = (RemotingCommand, Option<Vec<u8>>);

/// A blocking raw-protocol client over one TCP connection.
pub struct Client {
    pub stream: TcpStream,
    /// Header serialization of the requests sent.
    pub serialize: SerializeType,
    next_opaque: i32,
    buf: BytesMut,
    /// Serialization of the last frame read.
    pub last_reply_type: Option<SerializeType>,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
        Client::from_stream(stream)
    }

    /// A client over an already connected stream (e.g. one bound to another
    /// source address); sets the usual read timeout.
    pub fn from_stream(stream: TcpStream) -> Client {
        stream
            .set_read_timeout(Some(READ_TIMEOUT))
            .expect("timeout");
        let _ = stream.set_nodelay(true);
        Client {
            stream,
            serialize: SerializeType::Json,
            next_opaque: 1,
            buf: BytesMut::new(),
            last_reply_type: None,
        }
    }

    pub fn with_serialize(mut self, ty: SerializeType) -> Client {
        self.serialize = ty;
        self
    }

    fn take_opaque(&mut self) -> i32 {
        let o = self.next_opaque;
        self.next_opaque += 1;
        o
    }

    pub fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Sends one frame as it is (opaque and flag untouched).
    pub fn send(&mut self, cmd: &RemotingCommand, body: Option<&[u8]>) {
        let bytes = frame::encode_to_vec(cmd, self.serialize, body);
        self.stream.write_all(&bytes).expect("send frame");
    }

    /// Reads one frame.
    pub fn read_frame(&mut self) -> io::Result<Reply> {
        loop {
            if let Some((cmd, ty, body)) = frame::next_request(&mut self.buf, usize::MAX)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?
            {
                self.last_reply_type = Some(ty);
                return Ok((cmd, body.map(|b| b.to_vec())));
            }
            let mut chunk = [0u8; 64 * 1024];
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed by the server",
                ));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Sends `cmd` with a fresh opaque and returns the reply, checking that it
    /// is a response to this request.
    pub fn call(&mut self, mut cmd: RemotingCommand, body: Option<&[u8]>) -> Reply {
        cmd.opaque = self.take_opaque();
        cmd.flag = 0;
        self.send(&cmd, body);
        let reply = self
            .read_frame()
            .unwrap_or_else(|e| panic!("no reply to code {}: {e}", cmd.code));
        assert_eq!(reply.0.opaque, cmd.opaque, "reply opaque");
        assert_eq!(reply.0.flag, 1, "reply flag");
        reply
    }

    /// `call` with a header built from `code` and `ext`.
    pub fn ask(&mut self, code: i32, ext: &[(&str, &str)], body: Option<&[u8]>) -> Reply {
        self.call(request(code, ext), body)
    }

    /// Sends `cmd` as a oneway request (flag 2); nothing is read.
    pub fn oneway(&mut self, mut cmd: RemotingCommand, body: Option<&[u8]>) {
        cmd.opaque = self.take_opaque();
        cmd.flag = codes::flag::ONEWAY;
        self.send(&cmd, body);
    }

    pub fn register_broker(&mut self, reg: &BrokerReg) -> Reply {
        let (cmd, body) = reg.request();
        self.call(cmd, Some(&body))
    }

    /// Registers and asserts success.
    pub fn register_ok(&mut self, reg: &BrokerReg) -> Reply {
        let r = self.register_broker(reg);
        assert_eq!(
            r.0.code, 0,
            "register {} failed: {:?}",
            reg.name, r.0.remark
        );
        r
    }

    /// 105 (version 479): `None` on 17 TOPIC_NOT_EXIST.
    pub fn route(&mut self, topic: &str) -> Option<TopicRouteData> {
        let (cmd, body) = self.ask(rq::GET_ROUTEINFO_BY_TOPIC, &[("topic", topic)], None);
        match cmd.code {
            response::SUCCESS => {
                let body = body.expect("route reply without a body");
                Some(TopicRouteData::decode(&body).expect("route body decodes"))
            }
            response::TOPIC_NOT_EXIST => None,
            code => panic!("route {topic}: unexpected code {code} {:?}", cmd.remark),
        }
    }

    /// Asserts the server closes this connection (EOF or reset) within `within`,
    /// without sending anything first.
    pub fn expect_closed(&mut self, within: Duration) {
        let deadline = Instant::now() + within;
        self.stream
            .set_read_timeout(Some(Duration::from_millis(100)))
            .expect("timeout");
        let mut got = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => break,
                Err(e)
                    if e.kind() == io::ErrorKind::WouldBlock
                        || e.kind() == io::ErrorKind::TimedOut =>
                {
                    if Instant::now() >= deadline {
                        panic!("the server did not close the connection within {within:?}");
                    }
                }
                Err(e) => panic!("unexpected read error: {e}"),
            }
        }
        assert!(
            got.is_empty(),
            "the server answered before closing: {} bytes {:?}",
            got.len(),
            String::from_utf8_lossy(&got)
        );
        self.stream
            .set_read_timeout(Some(READ_TIMEOUT))
            .expect("timeout");
    }

    /// Half-closes our side (FIN), as a peer that stops mid-frame.
    pub fn shutdown_write(&self) {
        let _ = self.stream.shutdown(Shutdown::Write);
    }
}

/// Fresh connections each asking for `topic`: they land on every shard.
pub fn routes_on_fresh_connections(
    addr: SocketAddr,
    topic: &str,
    n: usize,
) -> Vec<Option<TopicRouteData>> {
    (0..n).map(|_| Client::connect(addr).route(topic)).collect()
}

/// The remark of a reply, or "".
pub fn remark(r: &Reply) -> &str {
    r.0.remark.as_deref().unwrap_or("")
}

pub fn body_str(r: &Reply) -> String {
    String::from_utf8(r.1.clone().unwrap_or_default()).expect("utf-8 body")
}

// ---------------------------------------------------------------------------
// log, KV and namesrv-config helpers shared by several test files

/// Waits (up to 5 s: stderr is drained by a thread, and a connection is closed
/// before its log line is written) for a log line holding every one of `parts`;
/// returns that line.
pub fn wait_log_line(server: &TestServer, parts: &[&str]) -> String {
    wait_for(
        Duration::from_secs(5),
        &format!("a log line with {parts:?}"),
        || {
            server
                .stderr()
                .lines()
                .find(|l| parts.iter().all(|p| l.contains(p)))
                .map(str::to_string)
        },
    )
}

/// PUT_KV_CONFIG (100): the reply's code and remark.
pub fn try_put(c: &mut Client, ns: &str, key: &str, value: &str) -> (i32, String) {
    let r = c.ask(
        rq::PUT_KV_CONFIG,
        &[("namespace", ns), ("key", key), ("value", value)],
        None,
    );
    (r.0.code, remark(&r).to_string())
}

/// PUT_KV_CONFIG (100) that must succeed, without a remark.
pub fn put_ok(c: &mut Client, ns: &str, key: &str, value: &str) {
    let r = c.ask(
        rq::PUT_KV_CONFIG,
        &[("namespace", ns), ("key", key), ("value", value)],
        None,
    );
    assert_eq!((r.0.code, r.0.remark.as_deref()), (0, None));
}

/// GET_KV_CONFIG (101): the value, or `None` on the exact upstream miss reply.
pub fn get(c: &mut Client, ns: &str, key: &str) -> Option<String> {
    let r = c.ask(rq::GET_KV_CONFIG, &[("namespace", ns), ("key", key)], None);
    match r.0.code {
        0 => Some(r.0.ext("value").expect("value ext").to_string()),
        response::QUERY_NOT_FOUND => {
            assert_eq!(
                remark(&r),
                format!("No config item, Namespace: {ns} Key: {key}")
            );
            assert_eq!(
                r.0.ext_fields,
                Some(vec![]),
                "a custom header: extFields {{}}"
            );
            None
        }
        code => panic!("GET_KV_CONFIG: unexpected {code} {:?}", r.0.remark),
    }
}

/// The GET_NAMESRV_CONFIG (319) body.
pub fn config_text(c: &mut Client) -> String {
    let r = c.ask(rq::GET_NAMESRV_CONFIG, &[], None);
    assert_eq!(r.0.code, 0);
    body_str(&r)
}

/// UPDATE_NAMESRV_CONFIG (318): the reply's code and remark.
pub fn try_update(c: &mut Client, body: &[u8]) -> (i32, String) {
    let r = c.ask(rq::UPDATE_NAMESRV_CONFIG, &[], Some(body));
    (r.0.code, remark(&r).to_string())
}

/// UPDATE_NAMESRV_CONFIG (318) that must succeed, without a remark.
pub fn update_ok(c: &mut Client, body: &str) {
    let r = c.ask(rq::UPDATE_NAMESRV_CONFIG, &[], Some(body.as_bytes()));
    assert_eq!((r.0.code, r.0.remark.as_deref()), (0, None), "{body}");
}

/// The text of a log line or log without the colour escapes (`ESC [ ... m`) the
/// log formatter may add.
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for e in chars.by_ref() {
                if e.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
