//! `loadgen attack` against the real `namesrv` binary, briefly and with small
//! sizes: every attack runs, opens the connections it was told to, the victims
//! are answered, the server still answers afterwards, and `sigterm-noread`
//! sees the process go.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use bytes::BytesMut;
use common::{start_real, start_real_with};
use protocol::codes::request;
use protocol::frame::{self, Frame, DEFAULT_MAX_FRAME};
use protocol::{RemotingCommand, SerializeType};
use serde_json::Value;

const SMALL: &[&str] = &[
    "--duration",
    "1500ms",
    "--pause",
    "200ms",
    "--victims",
    "2",
    "--victim-rate",
    "20",
    "--bomb-conns",
    "2",
    "--bomb-mib",
    "2",
    "--flood-topics",
    "5000",
    "--noread-topics",
    "300",
    "--noread-conns",
    "3",
    "--noread-requests",
    "50",
    "--trickle-conns",
    "3",
    "--partial-conns",
    "5",
    "--frame-mib",
    "1",
    "--flood-conns",
    "120",
    "--kv-puts",
    "4",
    "--kv-value-kib",
    "16",
];

fn loadgen_attack(
    target: &str,
    extra: &[&str],
    json: &std::path::Path,
) -> (std::process::ExitStatus, String, Value) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .args(["attack", "--target", target])
        .args(SMALL)
        .args(extra)
        .arg("--json")
        .arg(json)
        .output()
        .expect("run loadgen attack");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let text = std::fs::read(json).unwrap_or_else(|e| {
        panic!(
            "no JSON ({e}): {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let v: Value = serde_json::from_slice(&text).expect("JSON report");
    (out.status, stdout, v)
}

/// A 206 on a fresh connection, through our own frame code: the reply's code.
fn topic_list_code(addr: &str) -> i32 {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let cmd = RemotingCommand::request(request::GET_ALL_TOPIC_LIST_FROM_NAMESERVER, 7, Vec::new());
    s.write_all(&frame::encode_to_vec(&cmd, SerializeType::Json, None))
        .expect("send");
    let mut buf = BytesMut::new();
    let mut chunk = [0u8; 64 * 1024];
    loop {
        if let Some(f) = Frame::parse(&mut buf, DEFAULT_MAX_FRAME).expect("frame") {
            let reply = f.command().expect("header");
            assert_eq!(reply.opaque, 7);
            return reply.code;
        }
        let n = s.read(&mut chunk).expect("read");
        assert!(n > 0, "server closed without a reply");
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn u(v: &Value, path: &[&str]) -> u64 {
    let mut x = v;
    for p in path {
        x = &x[*p];
    }
    x.as_u64()
        .unwrap_or_else(|| panic!("{path:?} not a number in {v}"))
}

#[test]
fn every_attack_runs_and_the_server_survives() {
    // A short drain time: sigterm-noread sees the exit well inside its window
    // (1.1 s after its SIGTERM), with the non-readers still connected.
    let srv = start_real_with("shutdownTimeoutMillis=100\n");
    let kv = srv.dir().join("kv.json");
    let json = srv.dir().join("attack.json");
    let pid = srv.pid().to_string();
    let (status, stdout, v) = loadgen_attack(
        &srv.addr,
        &["--pid", &pid, "--kv-file", kv.to_str().expect("utf-8 path")],
        &json,
    );
    // Without --attack: all, sigterm-noread last (it stops the server).
    let attacks = v["attacks"].as_array().expect("attacks");
    let names: Vec<&str> = attacks
        .iter()
        .map(|a| a["attack"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        names,
        [
            "bomb",
            "topic-flood",
            "noread",
            "trickle",
            "partial-frames",
            "conn-flood",
            "kv-flood",
            "sigterm-noread"
        ],
        "{stdout}"
    );
    let opened = |i: usize| u(&attacks[i], &["hostile", "conns_opened"]);
    assert_eq!(opened(0), 2, "bomb connections");
    assert_eq!(opened(1), 1, "topic-flood connection");
    assert_eq!(opened(2), 3, "noread connections");
    assert_eq!(opened(3), 3, "trickle connections");
    assert_eq!(opened(4), 5, "partial-frames connections");
    assert_eq!(opened(5), 120, "conn-flood connections");
    assert_eq!(opened(6), 1, "kv-flood connection");
    assert_eq!(opened(7), 3, "sigterm-noread connections");
    // The non-readers pipelined all their (small) requests: the kernel's
    // buffers take 50 × 3 requests whatever the server does.
    assert_eq!(u(&attacks[2], &["hostile", "requests_sent"]), 150);
    assert_eq!(u(&attacks[1], &["hostile", "requests_sent"]), 1);
    assert_eq!(u(&attacks[6], &["hostile", "requests_sent"]), 4);
    let kv_replies =
        u(&attacks[6], &["hostile", "replies_ok"]) + u(&attacks[6], &["hostile", "replies_err"]);
    assert_eq!(kv_replies, 4, "every KV put answered");
    // 16 KiB values are under kvMaxValueLength: all stored, so the file held
    // the four keys (compact JSON, upstream's layout) when the attack measured
    // it; the attack then deletes them, leaving the empty namespace.
    assert_eq!(u(&attacks[6], &["hostile", "replies_ok"]), 4);
    let kvs: serde_json::Map<String, Value> = (0..4)
        .map(|i| (format!("k{i}"), Value::String("v".repeat(16 << 10))))
        .collect();
    let full = serde_json::json!({ "configTable": { "AttackKv": kvs } }).to_string();
    assert_eq!(
        u(&attacks[6], &["hostile", "kv_file_bytes"]),
        full.len() as u64
    );
    let left = std::fs::read_to_string(&kv).expect("the KV file");
    assert_eq!(left, r#"{"configTable":{"AttackKv":{}}}"#);
    assert!(u(&attacks[0], &["hostile", "requests_sent"]) >= 1);
    for a in &attacks[..7] {
        let sent = u(a, &["victims", "lookups_sent"]);
        let answered = u(a, &["victims", "lookups_answered"]);
        // 2 connections × 20/s × 1.5 s = 60, give or take the first tick; fewer
        // only if loadgen itself was starved (a busy CI box).
        assert!((40..=66).contains(&sent), "{} sent {sent}", a["attack"]);
        assert!(
            answered > 0 && answered <= sent,
            "{}: {answered}/{sent}",
            a["attack"]
        );
        assert_eq!(
            u(a, &["victims", "lookups_wrong"]),
            0,
            "{}: the victim route never went away",
            a["attack"]
        );
        assert_eq!(a["survived"], Value::Bool(true), "{}", a["attack"]);
        assert!(u(a, &["victims", "new_conns_tried"]) >= 1);
        assert!(a["rss_mib_peak"].as_f64().unwrap_or(0.0) > 0.0);
    }
    // sigterm-noread saw the process go with the non-readers still connected
    // (within the drain time of 100 ms, plus the exit).
    let h = &attacks[7]["hostile"];
    let exit_ms = u(&attacks[7], &["hostile", "exit_after_sigterm_ms"]);
    assert_eq!(h["exit_after_close_ms"], Value::Null, "{stdout}");
    assert_eq!(u(&attacks[7], &["hostile", "requests_sent"]), 150);
    assert!(status.success(), "{stdout}");
    // Its table row shows the victims' figures and that exit.
    let row = stdout
        .lines()
        .find(|l| l.starts_with("sigterm-noread "))
        .unwrap_or_else(|| panic!("no sigterm-noread row: {stdout}"));
    let cols: Vec<&str> = row.split_whitespace().collect();
    let victims = |k: &str| u(&attacks[7], &["victims", k]).to_string();
    assert_eq!(cols[1], victims("lookups_sent"), "{row}");
    assert_eq!(cols[2], victims("lookups_answered"), "{row}");
    assert_eq!(
        cols[cols.len() - 2..],
        ["exit".to_string(), format!("{exit_ms}ms")],
        "{row}"
    );
}

#[test]
fn selected_attacks_only_and_the_server_answers_afterwards() {
    let srv = start_real();
    let json = srv.dir().join("attack.json");
    let (status, stdout, v) = loadgen_attack(
        &srv.addr,
        &[
            "--attack",
            "trickle",
            "--attack",
            "conn-flood",
            "--attack",
            "sigterm-noread",
        ],
        &json,
    );
    assert!(status.success(), "{stdout}");
    let attacks = v["attacks"].as_array().expect("attacks");
    assert_eq!(attacks.len(), 3, "{stdout}");
    assert_eq!(attacks[0]["attack"], "trickle");
    assert_eq!(attacks[1]["attack"], "conn-flood");
    // Without --pid there is nothing to SIGTERM, and no RSS.
    assert_eq!(attacks[2]["skipped"], "needs --pid");
    assert!(attacks[0]["rss_mib_peak"].is_null());
    assert_eq!(v["pid"], Value::Null);
    // Still answering, on a fresh connection, after both attacks.
    assert_eq!(topic_list_code(&srv.addr), 0);
}
