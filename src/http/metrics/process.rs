//! The standard `process_*` metrics, read from `/proc/self` at scrape time.

/// What a scrape reports of the process itself.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProcessStats {
    pub resident_bytes: u64,
    pub cpu_seconds: f64,
    pub open_fds: u64,
}

impl ProcessStats {
    /// Reads `/proc/self`; a field it cannot read stays 0.
    pub fn read() -> ProcessStats {
        let page = page_size();
        let resident_bytes = std::fs::read_to_string("/proc/self/statm")
            .ok()
            .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
            .map_or(0, |pages| pages * page);
        let cpu_seconds = std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|s| cpu_ticks(&s))
            .map_or(0.0, |ticks| ticks as f64 / clock_ticks());
        // Less the descriptor read_dir itself holds open while it lists.
        let open_fds = std::fs::read_dir("/proc/self/fd")
            .map(|d| (d.count() as u64).saturating_sub(1))
            .unwrap_or(0);
        ProcessStats {
            resident_bytes,
            cpu_seconds,
            open_fds,
        }
    }
}

/// utime + stime from `/proc/self/stat`. The command name (field 2) may hold
/// spaces and parentheses, so fields are counted from its closing parenthesis.
fn cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    // After ')' come field 3 (state) on; utime and stime are fields 14 and 15.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

fn page_size() -> u64 {
    // SAFETY: sysconf only reads its argument.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if n > 0 {
        n as u64
    } else {
        4096
    }
}

fn clock_ticks() -> f64 {
    // SAFETY: sysconf only reads its argument.
    let n = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if n > 0 {
        n as f64
    } else {
        100.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_skip_a_command_with_spaces() {
        let stat = "42 (name (x) y) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0";
        assert_eq!(cpu_ticks(stat), Some(300));
    }

    #[test]
    fn reads_this_process() {
        let p = ProcessStats::read();
        assert!(p.resident_bytes > 0 && p.open_fds > 0);
    }
}
