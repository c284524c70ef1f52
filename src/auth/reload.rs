//! Watching the accounts file, as upstream's `PlainPermissionManager#watch` does:
//! polled from a thread of its own (never a shard); a change that parses replaces
//! the accounts, a broken one keeps those in force and is logged once.

use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::accounts::{Accounts, AccountsError};
use super::AuthService;

/// How often the file is looked at (upstream's `FileWatchService` polls every 500 ms).
pub const POLL: Duration = Duration::from_millis(500);

/// What identifies one version of the file: its mtime, length and a hash of its
/// bytes (the hash catches a rewrite within the mtime's granularity).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    modified: Option<SystemTime>,
    len: u64,
    hash: u64,
}

impl Seen {
    fn of(text: &[u8], meta: &std::fs::Metadata) -> Seen {
        let mut h = foldhash::quality::FixedState::with_seed(0x5eed).build_hasher();
        h.write(text);
        Seen {
            modified: meta.modified().ok(),
            len: meta.len(),
            hash: h.finish(),
        }
    }
}

fn read(path: &Path) -> Result<(Vec<u8>, Seen), AccountsError> {
    let io = |source| AccountsError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    let bytes = std::fs::read(path).map_err(io)?;
    let seen = Seen::of(&bytes, &meta);
    Ok((bytes, seen))
}

fn parse(path: &Path, bytes: &[u8]) -> Result<Accounts, AccountsError> {
    let text = std::str::from_utf8(bytes).map_err(|e| AccountsError::Invalid {
        path: path.to_path_buf(),
        reason: format!("not UTF-8 text: {e}"),
    })?;
    Accounts::parse_from(text, path)
}

/// The first load, remembering which version of the file it read.
pub(super) fn first_load(path: &Path) -> Result<(Accounts, Seen), AccountsError> {
    let (bytes, seen) = read(path)?;
    Ok((parse(path, &bytes)?, seen))
}

pub(super) fn spawn(path: PathBuf, seen: Seen, service: Arc<AuthService>, stop: Arc<AtomicBool>) {
    let started = std::thread::Builder::new()
        .name("acl-reload".to_string())
        .spawn(move || watch(&path, seen, &service, &stop));
    if let Err(e) = started {
        tracing::error!(error = %e, "cannot start the accounts file watcher; changes need a restart");
    }
}

fn watch(path: &Path, mut last: Seen, service: &AuthService, stop: &AtomicBool) {
    // The version last refused (or unreadable), so it is logged once, not every poll.
    let mut refused: Option<Seen> = None;
    let mut unreadable = false;
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(POLL);
        let (bytes, now) = match read(path) {
            Ok(r) => {
                unreadable = false;
                r
            }
            Err(e) => {
                if !unreadable {
                    tracing::warn!(file = %path.display(), error = %e, "accounts file not readable; keeping the accounts in force");
                    unreadable = true;
                }
                continue;
            }
        };
        if now == last || refused == Some(now) {
            continue;
        }
        match parse(path, &bytes) {
            Ok(accounts) => {
                tracing::info!(file = %path.display(), accounts = accounts.len(), "accounts file changed; new accounts in force");
                service.publish(accounts);
                last = now;
                refused = None;
            }
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "accounts file changed but is not valid; keeping the accounts in force");
                refused = Some(now);
            }
        }
    }
}
