//! Typed errors of the load generator.

use std::io;

/// Anything that stops a run, a plan or a comparison.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("i/o: {0}")]
    Io(#[from] io::Error),
    #[error("scenario: {0}")]
    Scenario(String),
    #[error("scenario TOML: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("target {target}: {source}")]
    Connect { target: String, source: io::Error },
    #[error("bad target address {0:?} (expected host:port)")]
    BadTarget(String),
    #[error("protocol: {0}")]
    Frame(#[from] protocol::FrameError),
    #[error("startup: {0}")]
    Startup(String),
    #[error("report: {0}")]
    Report(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
