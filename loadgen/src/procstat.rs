//! CPU and memory of a process from /proc: loadgen itself and, with
//! `--server-pid`, the server under test.

use std::time::Instant;

/// Clock ticks per second of /proc/PID/stat times.
fn clk_tck() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let v = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if v > 0 {
        v as f64
    } else {
        100.0
    }
}

/// utime + stime of a process, in ticks.
pub fn cpu_ticks(pid: Option<u32>) -> Option<u64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/stat"),
        None => "/proc/self/stat".to_string(),
    };
    let text = std::fs::read_to_string(path).ok()?;
    // The command name may hold spaces: fields start after the last ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After ')': state(0) ppid(1) ... utime(11) stime(12).
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Resident set size in KiB.
pub fn rss_kib(pid: Option<u32>) -> Option<u64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/status"),
        None => "/proc/self/status".to_string(),
    };
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The 1-minute load average (runnable processes, all users).
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Cores of this machine.
pub fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Samples one process: CPU use (cores) between calls and RSS.
pub struct Sampler {
    pid: Option<u32>,
    tck: f64,
    last: Option<(u64, Instant)>,
    first: Option<(u64, Instant)>,
}

#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct ProcSample {
    /// CPU time used per wall second since the last sample (1.0 = one core).
    pub cpu_cores: f64,
    pub rss_mib: f64,
}

impl Sampler {
    /// `None` samples loadgen itself.
    pub fn new(pid: Option<u32>) -> Self {
        let mut s = Sampler {
            pid,
            tck: clk_tck(),
            last: None,
            first: None,
        };
        s.last = cpu_ticks(pid).map(|t| (t, Instant::now()));
        s.first = s.last;
        s
    }

    /// `None` once the process is gone (or /proc is unreadable).
    pub fn sample(&mut self) -> Option<ProcSample> {
        let ticks = cpu_ticks(self.pid)?;
        let now = Instant::now();
        let cpu = match self.last {
            Some((t0, i0)) => {
                let dt = now.duration_since(i0).as_secs_f64();
                if dt > 0.0 {
                    ticks.saturating_sub(t0) as f64 / self.tck / dt
                } else {
                    0.0
                }
            }
            None => 0.0,
        };
        self.last = Some((ticks, now));
        if self.first.is_none() {
            self.first = self.last;
        }
        let rss = rss_kib(self.pid).unwrap_or(0) as f64 / 1024.0;
        Some(ProcSample {
            cpu_cores: cpu,
            rss_mib: rss,
        })
    }

    /// Resets the averaging start (e.g. when the measured window opens).
    pub fn mark(&mut self) {
        self.first = cpu_ticks(self.pid).map(|t| (t, Instant::now()));
    }

    /// Average cores used since `new` or the last `mark`.
    pub fn average(&self) -> Option<f64> {
        let (t0, i0) = self.first?;
        let ticks = cpu_ticks(self.pid).or(self.last.map(|l| l.0))?;
        let dt = i0.elapsed().as_secs_f64();
        (dt > 0.0).then(|| ticks.saturating_sub(t0) as f64 / self.tck / dt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_self() {
        assert!(cpu_ticks(None).is_some());
        assert!(rss_kib(None).unwrap_or(0) > 0);
        let mut s = Sampler::new(None);
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        assert!(x != 1);
        assert!(s.sample().is_some());
        assert!(Sampler::new(Some(u32::MAX - 1)).sample().is_none());
    }
}
