//! `namesrv diff ADDR ADDR…`: where name servers disagree.
//!
//! Name servers never sync with each other; each knows what the brokers that
//! reached it registered (apache/rocketmq#4807). This asks every given server —
//! ours or Java's, over the RocketMQ protocol — for cluster info (106), the topic
//! list (206, or 224 per cluster when 206 is disabled) and the route (105) of every
//! topic any of them listed, then reports what differs.
//!
//! - [`conn`]: one pipelined connection per server.
//! - [`view`]: one server's answers, decoded into sorted maps.
//! - [`compare`]: the differences between views.
//! - [`report`]: text or JSON.

mod compare;
mod conn;
mod report;
mod view;

use std::collections::BTreeSet;
use std::io::Write;
use std::thread;
use std::time::Duration;

use view::{AskError, Asker, Limits};

/// Exit status when every server answered and they agree.
pub const EXIT_AGREE: u8 = 0;
/// Exit status when every server answered and they differ.
pub const EXIT_DIFFER: u8 = 1;
/// Exit status when a server could not be asked.
pub const EXIT_ERROR: u8 = 2;

/// The arguments of `namesrv diff` (its help text is on `Command::Diff` in main.rs).
#[derive(clap::Args, Debug)]
pub struct DiffArgs {
    /// Name server addresses (host:port), at least two.
    #[arg(value_name = "ADDR", num_args = 2.., required = true)]
    pub addrs: Vec<String>,
    /// Print the report as one JSON document instead of lines.
    #[arg(long)]
    pub json: bool,
    /// Connect timeout, and the longest wait for any reply, in milliseconds.
    #[arg(long = "timeout-ms", value_name = "MS", default_value_t = 5000)]
    pub timeout_ms: u64,
    /// Most route lookups in flight per server (one connection each).
    #[arg(long = "in-flight", value_name = "N", default_value_t = 128)]
    pub in_flight: usize,
}

/// Runs the diff; returns the exit status.
pub fn run(args: &DiffArgs) -> u8 {
    let limits = Limits {
        timeout: Duration::from_millis(args.timeout_ms.max(1)),
        in_flight: args.in_flight.max(1),
    };
    match ask_all(&args.addrs, limits) {
        Err((addr, e)) => {
            tracing::debug!(%addr, error = %e, "diff: a server could not be asked");
            eprintln!("namesrv diff: {addr}: {e}");
            EXIT_ERROR
        }
        Ok(views) => {
            let (diffs, totals) = compare::compare(&views);
            let out = if args.json {
                report::json(&args.addrs, &diffs, totals)
            } else {
                report::text(&args.addrs, &diffs, totals)
            };
            let mut stdout = std::io::stdout().lock();
            if stdout
                .write_all(out.as_bytes())
                .and_then(|_| stdout.flush())
                .is_err()
            {
                return EXIT_ERROR;
            }
            if diffs.is_empty() {
                EXIT_AGREE
            } else {
                EXIT_DIFFER
            }
        }
    }
}

/// Every server's view: tables first (in parallel), then the routes of every topic
/// any server listed (in parallel, each pipelined). The first failing server, in
/// argument order, is the error.
fn ask_all(addrs: &[String], limits: Limits) -> Result<Vec<view::View>, (String, AskError)> {
    let askers = on_each(addrs, |addr| {
        let mut asker = Asker::connect(addr, limits)?;
        asker.ask_tables()?;
        Ok(asker)
    })?;
    let topics: BTreeSet<String> = askers
        .iter()
        .flat_map(|a| a.view.listed.iter().cloned())
        .collect();
    let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
    let mut pairs: Vec<(String, Asker)> = addrs.iter().cloned().zip(askers).collect();
    let done = thread::scope(|s| {
        let handles: Vec<_> = pairs
            .iter_mut()
            .map(|(_, asker)| s.spawn(|| asker.ask_routes(&topics)))
            .collect();
        handles.into_iter().map(join).collect::<Vec<_>>()
    });
    for ((addr, _), r) in pairs.iter().zip(done) {
        r.map_err(|e| (addr.clone(), e))?;
    }
    Ok(pairs.into_iter().map(|(_, a)| a.view).collect())
}

/// Runs `f` for each address on its own thread; the results in argument order.
fn on_each<T: Send>(
    addrs: &[String],
    f: impl Fn(&str) -> Result<T, AskError> + Sync,
) -> Result<Vec<T>, (String, AskError)> {
    let results = thread::scope(|s| {
        let f = &f;
        let handles: Vec<_> = addrs.iter().map(|a| s.spawn(move || f(a))).collect();
        handles.into_iter().map(join).collect::<Vec<_>>()
    });
    addrs
        .iter()
        .zip(results)
        .map(|(a, r)| r.map_err(|e| (a.clone(), e)))
        .collect()
}

fn join<T>(h: thread::ScopedJoinHandle<'_, Result<T, AskError>>) -> Result<T, AskError> {
    h.join().unwrap_or_else(|_| {
        Err(AskError::BadBody {
            code: 0,
            what: "the worker thread panicked".to_string(),
        })
    })
}
