//! What the hostile side of one attack did, counted from many tasks.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde::Serialize;

/// Counters the attack tasks bump.
#[derive(Default)]
pub struct Tally {
    pub conns_opened: AtomicU64,
    pub conns_failed: AtomicU64,
    pub closed_by_server: AtomicU64,
    pub requests_sent: AtomicU64,
    pub replies_ok: AtomicU64,
    pub replies_err: AtomicU64,
    pub bytes_sent: AtomicU64,
    /// Reply codes seen, with counts.
    codes: Mutex<BTreeMap<i32, u64>>,
}

impl Tally {
    pub fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Ordering::Relaxed);
    }

    pub fn one(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a connection attempt as opened or failed; the connection, if
    /// it opened.
    pub fn opened<T>(&self, conn: Option<T>) -> Option<T> {
        Self::one(if conn.is_some() {
            &self.conns_opened
        } else {
            &self.conns_failed
        });
        conn
    }

    /// Counts a reply by its code.
    pub fn reply(&self, code: i32) {
        if code == 0 {
            Self::one(&self.replies_ok);
        } else {
            Self::one(&self.replies_err);
        }
        let mut m = self.codes.lock().unwrap_or_else(|e| e.into_inner());
        *m.entry(code).or_default() += 1;
    }

    pub fn figures(&self) -> HostileFigures {
        let codes = self.codes.lock().unwrap_or_else(|e| e.into_inner());
        let mut notes = Vec::new();
        if !codes.is_empty() {
            let list: Vec<String> = codes
                .iter()
                .map(|(c, n)| format!("{n}x code {c}"))
                .collect();
            notes.push(format!("replies: {}", list.join(", ")));
        }
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        HostileFigures {
            conns_opened: g(&self.conns_opened),
            conns_failed: g(&self.conns_failed),
            closed_by_server: g(&self.closed_by_server),
            requests_sent: g(&self.requests_sent),
            replies_ok: g(&self.replies_ok),
            replies_err: g(&self.replies_err),
            bytes_sent: g(&self.bytes_sent),
            notes,
            kv_file_bytes: None,
            kv_bak_bytes: None,
            exit_after_sigterm_ms: None,
            exit_after_close_ms: None,
        }
    }
}

/// The hostile side's figures in the report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HostileFigures {
    /// Attack connections established / refused or timed out.
    pub conns_opened: u64,
    pub conns_failed: u64,
    /// Attack connections the server closed before the attack ended.
    pub closed_by_server: u64,
    pub requests_sent: u64,
    /// Replies with code 0 / with another code.
    pub replies_ok: u64,
    pub replies_err: u64,
    pub bytes_sent: u64,
    /// Free-form facts of this attack (body sizes, reply codes, timings).
    pub notes: Vec<String>,
    /// `kv-flood` with `--kv-file`: the file and its `.bak` after the puts.
    pub kv_file_bytes: Option<u64>,
    pub kv_bak_bytes: Option<u64>,
    /// `sigterm-noread`: ms from SIGTERM to exit while the non-reader was
    /// connected, or (if it did not exit then) from closing the non-reader.
    pub exit_after_sigterm_ms: Option<u64>,
    pub exit_after_close_ms: Option<u64>,
}
