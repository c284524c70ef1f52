//! `loadgen`: load generation, verification and capacity planning for RocketMQ
//! name servers. The binary is a thin CLI over [`run::run`], [`plan::plan`] and
//! [`compare::compare`]; tests drive the same functions in-process.
//!
//! Layout, one idea per module:
//! - [`scenario`], [`topology`]: what to simulate;
//! - [`broker`], [`churn`], [`client`] (open loop), [`closed`] (closed loop):
//!   the simulators, over [`conn`] connections built from [`requests`];
//! - [`expected`], [`verify`]: the ground truth and the route check;
//! - [`stats`], [`monitor`], [`procstat`], [`result`]: measurement;
//! - [`report`], [`plan`], [`compare`], [`cli`]: output and commands;
//! - [`attack`]: the hostile clients of `loadgen attack`.

pub mod attack;
pub mod broker;
pub mod churn;
pub mod cli;
pub mod client;
pub mod closed;
pub mod compare;
pub mod conn;
pub mod error;
pub mod expected;
pub mod monitor;
pub mod plan;
pub mod procstat;
pub mod report;
pub mod requests;
pub mod result;
pub mod rng;
pub mod run;
pub mod scenario;
pub mod stats;
pub mod sweep;
pub mod topology;
pub mod units;
pub mod verify;

/// Raises the open-file soft limit to the hard limit (thousands of broker
/// connections need it).
pub fn raise_fd_limit() {
    // SAFETY: getrlimit/setrlimit on a valid, initialized struct.
    unsafe {
        let mut rl = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) == 0 && rl.rlim_cur < rl.rlim_max {
            rl.rlim_cur = rl.rlim_max;
            let _ = libc::setrlimit(libc::RLIMIT_NOFILE, &rl);
        }
    }
}
