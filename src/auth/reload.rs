//! Watching the accounts file, as upstream's `PlainPermissionManager#watch` does:
//! polled from a thread of its own (never a shard); a change seen the same by two
//! polls in a row that parses replaces the accounts, a broken one keeps those in
//! force and is logged once.

use std::hash::{BuildHasher, Hasher};
use std::io::Read as _;
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

/// Largest accounts file read: real ones are a few KiB. A wrong `authConfigPath`
/// (a log file, a device) must not grow memory every poll.
pub const MAX_FILE_BYTES: u64 = 4 << 20;

fn read(path: &Path) -> Result<(Vec<u8>, Seen), AccountsError> {
    let io = |source| AccountsError::Io {
        path: path.to_path_buf(),
        source,
    };
    let too_large = || AccountsError::Invalid {
        path: path.to_path_buf(),
        reason: format!(
            "larger than {} MiB; not an accounts file",
            MAX_FILE_BYTES >> 20
        ),
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large());
    }
    // Bounded read as well: a device or a growing file may report another length.
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large());
    }
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

/// Which version of the file a poll should parse.
#[derive(Debug)]
struct Versions {
    /// The version in force.
    last: Seen,
    /// The version last refused, so it is logged once, not every poll.
    refused: Option<Seen>,
    /// A new version seen by the previous poll: parsed only when the next poll
    /// sees it again, so a file caught mid-write (which may parse, with a cut
    /// pattern wider than meant) is never put in force.
    pending: Option<Seen>,
}

impl Versions {
    fn new(last: Seen) -> Versions {
        Versions {
            last,
            refused: None,
            pending: None,
        }
    }

    /// Whether version `now`, just read, is to be parsed.
    fn parse_now(&mut self, now: Seen) -> bool {
        if now == self.last || self.refused == Some(now) {
            self.pending = None;
            return false;
        }
        if self.pending != Some(now) {
            self.pending = Some(now);
            return false;
        }
        self.pending = None;
        true
    }

    fn applied(&mut self, now: Seen) {
        self.last = now;
        self.refused = None;
    }

    fn refused(&mut self, now: Seen) {
        self.refused = Some(now);
    }
}

fn watch(path: &Path, last: Seen, service: &AuthService, stop: &AtomicBool) {
    let mut versions = Versions::new(last);
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
        if !versions.parse_now(now) {
            continue;
        }
        match parse(path, &bytes) {
            Ok(accounts) => {
                tracing::info!(file = %path.display(), accounts = accounts.len(), "accounts file changed; new accounts in force");
                service.publish(accounts);
                versions.applied(now);
            }
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "accounts file changed but is not valid; keeping the accounts in force");
                versions.refused(now);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(n: u64) -> Seen {
        Seen {
            modified: None,
            len: n,
            hash: n,
        }
    }

    #[test]
    fn a_version_is_parsed_once_two_polls_in_a_row_saw_it() {
        let (a, b, c) = (version(1), version(2), version(3));
        let mut v = Versions::new(a);
        assert!(!v.parse_now(a), "the version in force");
        // A file mid-write: every poll sees another version; none is parsed.
        assert!(!v.parse_now(b));
        assert!(!v.parse_now(c));
        assert!(!v.parse_now(b));
        // Settled: the second sighting in a row is parsed.
        assert!(v.parse_now(b));
        v.applied(b);
        assert!(!v.parse_now(b));
        // A refused version is not parsed again, nor logged again.
        assert!(!v.parse_now(c));
        assert!(v.parse_now(c));
        v.refused(c);
        assert!(!v.parse_now(c));
        assert!(!v.parse_now(c));
        // Back to the version in force, then a change again.
        assert!(!v.parse_now(b));
        assert!(!v.parse_now(a));
        assert!(v.parse_now(a));
    }
}
