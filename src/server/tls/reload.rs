//! Watching the certificate, key and trust files, as upstream's
//! `FileWatchService` does for them: polled from a thread of its own (never a
//! shard), a change rebuilds the configuration, which new sessions then use; a
//! broken new file keeps the configuration in force and is logged.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::material::{self, Files};
use super::settings::TlsSettings;
use super::TlsService;

/// How often the files are read (upstream's `FileWatchService` polls every 500 ms).
const POLL: Duration = Duration::from_millis(500);

pub fn spawn(settings: TlsSettings, files: Files, service: Arc<TlsService>, stop: Arc<AtomicBool>) {
    let started = std::thread::Builder::new()
        .name("tls-reload".to_string())
        .spawn(move || watch(settings, files, service, stop));
    if let Err(e) = started {
        tracing::error!(error = %e, "cannot start the TLS file watcher; certificate changes need a restart");
    }
}

fn watch(settings: TlsSettings, mut last: Files, service: Arc<TlsService>, stop: Arc<AtomicBool>) {
    // What was last refused, so that a broken file is logged once, not every poll.
    let mut refused: Option<Files> = None;
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(POLL);
        let now = match Files::read(&settings) {
            Ok(f) => f,
            Err(e) => {
                tracing::debug!(error = %e, "TLS files not readable now; keeping the configuration in force");
                continue;
            }
        };
        if now == last || refused.as_ref() == Some(&now) {
            continue;
        }
        match material::from_files(&settings, &now) {
            Ok(config) => {
                service.publish(config);
                tracing::info!("TLS files changed; new connections use the new configuration");
                last = now;
                refused = None;
            }
            Err(e) => {
                tracing::warn!(error = %e, "TLS files changed but do not build; keeping the configuration in force");
                refused = Some(now);
            }
        }
    }
}
