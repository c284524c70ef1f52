//! Command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::plan::Vary;
use crate::units::{parse_duration, Dur};

#[derive(Parser, Debug)]
#[command(
    name = "loadgen",
    version,
    about = "Load generator and capacity planner for RocketMQ name servers",
    long_about = "Simulates thousands of brokers (registering, heartbeating, churning) and tens of \
thousands of clients (route lookups), verifies every route reply against what the brokers \
registered, and reports latency (HDR histograms), throughput, errors and resource use."
)]
pub struct Cli {
    #[command(subcommand)]
    pub cmd: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a scenario against one or more name servers.
    Run(RunArgs),
    /// Step the load up until the p99 SLO or the error budget breaks.
    Plan(PlanArgs),
    /// Run a scenario against two targets alternately and report ratios.
    Compare(CompareArgs),
    /// Run hostile clients against one name server while victims look routes up.
    Attack(crate::attack::AttackArgs),
    /// Print the per-core model built on the measured per-operation costs and,
    /// for a scenario, the server CPU its estate needs (nothing is run).
    Costs {
        /// A built-in scenario name or a TOML file to size.
        scenario: Option<String>,
        /// Override a scenario field (`key.path=value`, TOML).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Multiply the population (as `run --scale`).
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
    },
    /// List the built-in scenarios, or print one.
    Scenarios {
        /// Print this scenario's TOML.
        name: Option<String>,
    },
}

fn dur(s: &str) -> Result<Dur, String> {
    parse_duration(s).map(Dur)
}

#[derive(Args, Debug, Clone)]
pub struct Common {
    /// A built-in scenario (smoke, production, broker-storm, max-lookup,
    /// churn-soak, estate-10k) or a TOML file.
    #[arg(default_value = "smoke")]
    pub scenario: String,
    /// A name server, host:port; repeat for several (brokers register with all).
    #[arg(long = "target", short = 't', required = true)]
    pub targets: Vec<String>,
    /// Multiply brokers, topics, clients and churn by this factor.
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Override the measured window, e.g. 30s.
    #[arg(long, value_parser = dur)]
    pub duration: Option<Dur>,
    /// Override a scenario field, e.g. --set brokers.groups=50 --set clients.header=binary.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Tokio worker threads (default: min(2, cores)).
    #[arg(long)]
    pub threads: Option<usize>,
    /// The server's pid (per target, in order) for CPU and RSS from /proc.
    #[arg(long = "server-pid")]
    pub server_pids: Vec<u32>,
    /// Write the full result as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write a self-contained HTML report with charts.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Print the live line even when stderr is not a terminal.
    #[arg(long)]
    pub live: bool,
    /// Never print the live line.
    #[arg(long, conflicts_with = "live")]
    pub no_live: bool,
    /// Sign every request (lookups, registrations, heartbeats, ...) as a client with
    /// `AclClientRPCHook` does, with this account's access key; needs --secret-key.
    /// A lookup is signed once per topic, so loadgen adds no HMAC per request.
    #[arg(long, requires = "secret_key", value_name = "KEY")]
    pub access_key: Option<String>,
    /// The account's secret key (needs --access-key). Visible in `ps`: use a test account.
    #[arg(long, requires = "access_key", value_name = "SECRET")]
    pub secret_key: Option<String>,
    /// Also send this `SecurityToken` (signed with the rest; needs --access-key).
    #[arg(long, requires = "access_key", value_name = "TOKEN")]
    pub security_token: Option<String>,
    /// Sign the brokers' requests only; route lookups go anonymous, as unsigned
    /// producers and consumers send them (needs --access-key).
    #[arg(long, requires = "access_key")]
    pub unsigned_lookups: bool,
}

impl Common {
    /// The account to sign with, when --access-key and --secret-key are given.
    pub fn credentials(&self) -> Option<crate::auth::Credentials> {
        match (&self.access_key, &self.secret_key) {
            (Some(ak), Some(sk)) => Some(crate::auth::Credentials::new(
                ak,
                sk,
                self.security_token.as_deref(),
            )),
            _ => None,
        }
    }
}

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub common: Common,
}

#[derive(Args, Debug)]
pub struct PlanArgs {
    #[command(flatten)]
    pub common: Common,
    /// The route-lookup p99 to hold, e.g. 5ms.
    #[arg(long, value_parser = dur)]
    pub slo_p99: Dur,
    /// Largest tolerated error rate (errors / operations).
    #[arg(long, default_value_t = 0.0)]
    pub error_budget: f64,
    /// Scale of the first step.
    #[arg(long, default_value_t = 0.1)]
    pub start_scale: f64,
    /// Scale multiplier between steps.
    #[arg(long, default_value_t = 2.0)]
    pub step_factor: f64,
    #[arg(long, default_value_t = 6)]
    pub max_steps: u32,
    /// Window of each step (default: the scenario's duration).
    #[arg(long, value_parser = dur)]
    pub step_duration: Option<Dur>,
    /// What grows from step to step.
    #[arg(long, value_enum, default_value_t = Vary::All)]
    pub vary: Vary,
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    #[command(flatten)]
    pub common: Common,
    /// Runs per target (alternating A B, B A, ...).
    #[arg(long, default_value_t = 2)]
    pub rounds: u32,
}
