//! The server process under attack, by the pid the operator gave: its RSS
//! over time, whether it still runs, and SIGTERM.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::procstat::rss_kib;

/// `true` while `/proc/PID` exists and the process is not a zombie (a child
/// of ours that exited stays listed until it is reaped).
pub fn alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat
        .rfind(')')
        .and_then(|i| stat[i + 1..].split_whitespace().next());
    !matches!(state, Some("Z") | Some("X") | None)
}

/// Sends SIGTERM to `pid` (only that process).
pub fn sigterm(pid: u32) -> std::io::Result<()> {
    let pid = libc::pid_t::try_from(pid)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "pid out of range"))?;
    // SAFETY: kill(2) with a positive pid signals exactly that process; no memory is passed.
    if unsafe { libc::kill(pid, libc::SIGTERM) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Samples the RSS every 50 ms until stopped; keeps the peak.
pub struct RssWatch {
    peak_kib: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl RssWatch {
    pub fn start(pid: u32) -> Self {
        let peak_kib = Arc::new(AtomicU64::new(rss_kib(Some(pid)).unwrap_or(0)));
        let stop = Arc::new(AtomicBool::new(false));
        let (p, s) = (peak_kib.clone(), stop.clone());
        let task = tokio::spawn(async move {
            while !s.load(Ordering::Acquire) {
                if let Some(kib) = rss_kib(Some(pid)) {
                    p.fetch_max(kib, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        RssWatch {
            peak_kib,
            stop,
            task,
        }
    }

    /// Stops sampling; the peak in MiB.
    pub async fn finish(self) -> f64 {
        self.stop.store(true, Ordering::Release);
        let _ = self.task.await;
        self.peak_kib.load(Ordering::Relaxed) as f64 / 1024.0
    }
}

/// RSS in MiB now, if the process is there.
pub fn rss_mib(pid: u32) -> Option<f64> {
    rss_kib(Some(pid)).map(|k| k as f64 / 1024.0)
}
