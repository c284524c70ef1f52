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
//! - [`auth`]: signed requests (`--access-key`/`--secret-key`);
//! - [`attack`]: the hostile clients of `loadgen attack`.

pub mod attack;
pub mod auth;
pub mod broker;
pub mod churn;
pub mod cli;
pub mod client;
pub mod closed;
pub mod compare;
pub mod conn;
pub mod costs;
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
