//! `namesrv`: command line, config, logging, signals; then the server.
//! `namesrv diff ADDR ADDR…` instead compares running name servers (see [`diff`]).

mod diff;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use clap::Parser;
use namesrv::config::Config;
use namesrv::http::console::ConsoleCtx;
use namesrv::http::probes::Readiness;
use namesrv::kv::KvStore;
use namesrv::server::Server;

/// A thread-per-core drop-in replacement for the Apache RocketMQ NameServer.
///
/// With no subcommand it runs the name server; `namesrv diff ADDR ADDR…` compares
/// running name servers instead.
#[derive(Parser, Debug)]
#[command(name = "namesrv", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// A Java properties file with upstream's key names (e.g. `listenPort=9876`).
    #[arg(short = 'c', long = "configFile")]
    config_file: Option<PathBuf>,
    /// Print the effective configuration and exit.
    #[arg(short = 'p', long = "printConfigItem")]
    print_config: bool,
    /// Accepted for compatibility with `mqnamesrv`; has no effect there either.
    #[arg(short = 'n', long = "namesrvAddr")]
    namesrv_addr: Option<String>,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// Compare running name servers (ours or Java's); exit 0 if they agree, 1 if not, 2 on error.
    ///
    /// Asks each server for cluster info (106), its topic list (206, or 224 per
    /// cluster when 206 is disabled) and the route (105) of every topic any of them
    /// listed, then prints one line per difference: missing clusters, broker groups
    /// or broker addresses, a different address for a broker id, missing topics,
    /// different queue data (perm, read/write queue nums, sysflag) or order conf.
    ///
    /// Exit status: 0 when they agree, 1 when they differ, 2 when a server cannot be
    /// asked (refused, timed out, or an unexpected reply; the message names its
    /// address) or the command line is wrong.
    Diff(diff::DiffArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    if let Some(Command::Diff(args)) = &cli.command {
        return ExitCode::from(diff::run(args));
    }

    let (config, file_keys) = match &cli.config_file {
        Some(path) => match Config::load_file_with_keys(path) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "bad configuration");
                eprintln!("namesrv: {e}");
                return ExitCode::from(2);
            }
        },
        None => (Config::default(), Vec::new()),
    };
    if cli.print_config {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(config.to_properties_text().as_bytes());
        return ExitCode::SUCCESS;
    }
    // A feature we do not have must not look enabled (upstream would run it).
    if let Some(u) = config.unsupported() {
        tracing::error!(key = u.key, "{u}; refusing to start");
        eprintln!("namesrv: {u}; refusing to start");
        return ExitCode::from(2);
    }
    // One line for every key the operator set that does nothing here.
    if let Some(keys) = namesrv::config::no_effect_summary(file_keys.iter().map(String::as_str)) {
        tracing::warn!(keys = %keys, "config keys with no effect in this name server");
    }

    let kv = match KvStore::load(&config.kv_config_path) {
        Ok(kv) => kv,
        Err(e) => {
            tracing::error!(error = %e, "cannot load the KV store");
            eprintln!("namesrv: {e}");
            return ExitCode::from(2);
        }
    };

    // Every connection is a file; the limits derive from this (server::limits).
    if let Some(raised) = host::raise_nofile_limit() {
        tracing::debug!(
            from = raised.from,
            to = raised.to,
            "raised the open-files limit"
        );
    }
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        if let Err(e) = signal_hook::flag::register(sig, stop.clone()) {
            eprintln!("namesrv: cannot install a signal handler: {e}");
            return ExitCode::from(2);
        }
    }

    // The accounts are read here, before anything listens: a missing or malformed
    // file must stop the start, not open the server unchecked.
    let auth = if config.authentication_enabled {
        let path = std::path::Path::new(&config.auth_config_path);
        match namesrv::auth::AuthService::start(path, stop.clone()) {
            // `AuthService::start` logs the file and its account count.
            Ok(a) => Some(a),
            Err(e) => {
                tracing::error!(error = %e, "cannot load the accounts file; refusing to start");
                eprintln!("namesrv: authenticationEnabled=true: {e}; refusing to start");
                return ExitCode::from(2);
            }
        }
    } else {
        None
    };

    let serialize = config.reply_serialize.name();
    let (bind_address, http_port) = (config.bind_address.clone(), config.http_port);
    let stats_every = config.stats_log_interval_seconds;
    let server = match Server::start(config, kv, auth, stop.clone()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot start");
            eprintln!("namesrv: {e}");
            return ExitCode::from(1);
        }
    };
    let view = Arc::new(ConsoleCtx {
        snapshot: server.snapshot(),
        metrics: server.metrics(),
        version: env!("CARGO_PKG_VERSION"),
        ready: Readiness::new(stop, server.snapshot()),
        sorted: Default::default(),
        rates: std::sync::Mutex::new(namesrv::console::rates::RateWindow::new()),
    });
    let http = match namesrv::http::start(&bind_address, http_port, view.clone()) {
        Ok(Some(h)) => h.local_addr.to_string(),
        Ok(None) => "off".to_string(),
        Err(e) => {
            // Not fatal: upstream has no HTTP port, so a drop-in replacement must
            // not refuse to start because something else holds 9877.
            tracing::error!(error = %e, "cannot start the HTTP listener; metrics, probes and console are off");
            // Named in the boot line, so scripts and operators see it at once.
            "off (bind failed)".to_string()
        }
    };
    namesrv::http::stats::start(stats_every, view);
    // The boot line is a contract: operators' scripts grep for "boot success",
    // and ours read the address after the last "address ".
    let line = format!(
        "The Name Server boot success. serializeType={serialize}, http {http}, address {}",
        server.local_addr()
    );
    tracing::info!(address = %server.local_addr(), http = %http, "{line}");
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
    server.join();
    tracing::info!("name server stopped");
    ExitCode::SUCCESS
}

/// Logs to stderr; the filter comes from `RUST_LOG` (default `info`). glommio logs
/// through the `log` crate, which tracing-subscriber picks up.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
