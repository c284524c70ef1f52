//! What the name server and loadgen both ask of the host: the open-files limit
//! (every connection is a file) and the CPUs this process may run on.
//!
//! A crate of its own so that loadgen, which targets any name server, shares
//! these with the server without depending on it. Linux only, through `libc`.

/// The soft open-files limit before and after [`raise_nofile_limit`] raised it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Raised {
    pub from: u64,
    pub to: u64,
}

/// Raises the soft open-files limit to the hard one: the soft default (often
/// 1024) is far below what a name server, or a load generator simulating
/// thousands of brokers, needs. Returns the change, or `None` if the soft limit
/// already was the hard one or the kernel refused.
// `rlim_t` is not u64 on every target (32-bit glibc): the casts are not no-ops there.
#[allow(clippy::unnecessary_cast)]
pub fn raise_nofile_limit() -> Option<Raised> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the valid, initialized struct we own, and
    // setrlimit only reads it.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 || lim.rlim_cur >= lim.rlim_max {
            return None;
        }
        let from = lim.rlim_cur;
        lim.rlim_cur = lim.rlim_max;
        if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
            return None;
        }
        Some(Raised {
            from: from as u64,
            to: lim.rlim_max as u64,
        })
    }
}

/// The soft open-files limit; `None` if it is unlimited or cannot be read.
#[allow(clippy::unnecessary_cast)] // as in `raise_nofile_limit`
pub fn nofile_soft_limit() -> Option<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the valid, initialized struct we own.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0;
    (ok && lim.rlim_cur != libc::RLIM_INFINITY).then_some(lim.rlim_cur as u64)
}

/// The CPUs the scheduler lets this process run on (taskset, systemd's
/// CPUAffinity or a cpuset), in ascending order. If the mask cannot be read,
/// CPUs `0..available_parallelism`.
pub fn allowed_cpus() -> Vec<usize> {
    // SAFETY: a zeroed cpu_set_t is a valid (empty) set, sched_getaffinity
    // writes at most size_of::<cpu_set_t>() bytes into it, and CPU_ISSET only
    // reads it for indices below CPU_SETSIZE.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            let n = std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1);
            return (0..n).collect();
        }
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&c| libc::CPU_ISSET(c, &set))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::unnecessary_cast)] // as in `raise_nofile_limit`
    fn raised_limit_is_the_hard_one() {
        let _ = raise_nofile_limit();
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: as in `nofile_soft_limit`.
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
        assert_eq!(lim.rlim_cur, lim.rlim_max);
        // Already raised: nothing more to do.
        assert_eq!(raise_nofile_limit(), None);
        let expected = (lim.rlim_cur != libc::RLIM_INFINITY).then_some(lim.rlim_cur as u64);
        assert_eq!(nofile_soft_limit(), expected);
    }

    #[test]
    fn allowed_cpus_are_sorted_distinct_and_usable() {
        let cpus = allowed_cpus();
        assert!(!cpus.is_empty());
        assert!(cpus.windows(2).all(|w| w[0] < w[1]), "{cpus:?}");
        // `available_parallelism` counts the allowed CPUs (less under a CPU quota).
        let usable = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert!(cpus.len() >= usable, "{cpus:?} vs {usable}");
    }
}
