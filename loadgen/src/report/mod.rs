//! Output of a run: the text table, the JSON file and the HTML page.

pub mod html;
pub mod plots;
pub mod text;

use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};

/// Writes any result as pretty JSON.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    std::fs::write(path, text).map_err(|e| Error::Report(format!("{}: {e}", path.display())))
}

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
