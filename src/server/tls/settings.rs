//! The TLS keys, read once at start. Upstream reads them as JVM system
//! properties (`TlsSystemConfig`), then overrides them from `tls.config.file`
//! (`TlsHelper#extractTlsConfigFromFile`); we read them from the `-c` file and from
//! `tls.config.file`, the `-c` file winning.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::parse_properties;

pub const MODE: &str = "tls.server.mode";
pub const NEED_CLIENT_AUTH: &str = "tls.server.need.client.auth";
pub const KEY_PATH: &str = "tls.server.keyPath";
pub const KEY_PASSWORD: &str = "tls.server.keyPassword";
pub const CERT_PATH: &str = "tls.server.certPath";
pub const AUTH_CLIENT: &str = "tls.server.authClient";
pub const TRUST_CERT_PATH: &str = "tls.server.trustCertPath";
pub const TEST_MODE: &str = "tls.test.mode.enable";
pub const CONFIG_FILE: &str = "tls.config.file";

/// Every key this module reads (the configuration code treats them as known).
pub const TLS_KEYS: &[&str] = &[
    MODE,
    NEED_CLIENT_AUTH,
    KEY_PATH,
    KEY_PASSWORD,
    CERT_PATH,
    AUTH_CLIENT,
    TRUST_CERT_PATH,
    TEST_MODE,
    CONFIG_FILE,
];

/// Upstream keys the server side reads that we do not (docs/compat.md says why).
pub const UNUSED_KEYS: &[&str] = &["tls.ciphers", "tls.protocols"];

/// Keys whose values are never printed (319, `-p`, console, logs).
pub const SECRET_KEYS: &[&str] = &[KEY_PASSWORD];

/// Upstream's `TlsSystemConfig#tlsConfigFile` default.
pub const DEFAULT_CONFIG_FILE: &str = "/etc/rocketmq/tls.properties";

/// `tls.server.mode` (upstream's `TlsMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// No TLS: a ClientHello is read as a (bad) frame.
    Disabled,
    /// TLS and plaintext on the same port.
    Permissive,
    /// TLS only: plaintext connections are closed.
    Enforcing,
}

/// `tls.server.need.client.auth` (netty's `ClientAuth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    None,
    Optional,
    Require,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{key}={value}: expected one of {expected}")]
    BadValue {
        key: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("cannot read {path}: {reason}")]
    File { path: PathBuf, reason: String },
}

/// The TLS settings in force.
#[derive(Clone, PartialEq, Eq)]
pub struct TlsSettings {
    pub mode: TlsMode,
    pub need_client_auth: ClientAuth,
    pub key_path: Option<PathBuf>,
    pub key_password: Option<String>,
    pub cert_path: Option<PathBuf>,
    /// Verify client certificates against `trust_cert_path` (upstream's
    /// `tls.server.authClient`; false accepts any client certificate).
    pub auth_client: bool,
    pub trust_cert_path: Option<PathBuf>,
    /// A self-signed certificate made at start, whatever the files say.
    pub test_mode: bool,
    pub config_file: PathBuf,
}

// Written by hand so the key password never reaches a log line.
impl std::fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSettings")
            .field("mode", &self.mode)
            .field("need_client_auth", &self.need_client_auth)
            .field("key_path", &self.key_path)
            .field("key_password_set", &self.key_password.is_some())
            .field("cert_path", &self.cert_path)
            .field("auth_client", &self.auth_client)
            .field("trust_cert_path", &self.trust_cert_path)
            .field("test_mode", &self.test_mode)
            .field("config_file", &self.config_file)
            .finish()
    }
}

impl Default for TlsSettings {
    fn default() -> Self {
        TlsSettings {
            mode: TlsMode::Permissive,
            need_client_auth: ClientAuth::None,
            key_path: None,
            key_password: None,
            cert_path: None,
            auth_client: false,
            trust_cert_path: None,
            test_mode: true,
            config_file: PathBuf::from(DEFAULT_CONFIG_FILE),
        }
    }
}

impl TlsSettings {
    /// The settings from the `-c` file's properties (`raw`) and, under them, the
    /// properties of `tls.config.file` when that file exists.
    pub fn load(raw: &BTreeMap<String, String>) -> Result<TlsSettings, SettingsError> {
        let mut settings = TlsSettings::default();
        if let Some(file) = raw.get(CONFIG_FILE) {
            settings.config_file = PathBuf::from(file.trim());
        }
        let from_file = read_file(&settings.config_file)?;
        for key in from_file.keys().chain(raw.keys()) {
            if UNUSED_KEYS.contains(&key.as_str()) {
                tracing::warn!(key = %key, "TLS key has no effect here (rustls's defaults are used)");
            }
        }
        for (key, value) in from_file.iter().chain(raw.iter()) {
            settings.apply(key, value)?;
        }
        Ok(settings)
    }

    fn apply(&mut self, key: &str, value: &str) -> Result<(), SettingsError> {
        let path = |v: &str| {
            let v = v.trim();
            (!v.is_empty()).then(|| PathBuf::from(v))
        };
        match key {
            MODE => self.mode = parse_mode(value)?,
            NEED_CLIENT_AUTH => self.need_client_auth = parse_client_auth(value)?,
            KEY_PATH => self.key_path = path(value),
            KEY_PASSWORD => self.key_password = (!value.is_empty()).then(|| value.to_string()),
            CERT_PATH => self.cert_path = path(value),
            AUTH_CLIENT => self.auth_client = parse_bool(AUTH_CLIENT, value)?,
            TRUST_CERT_PATH => self.trust_cert_path = path(value),
            TEST_MODE => self.test_mode = parse_bool(TEST_MODE, value)?,
            _ => {}
        }
        Ok(())
    }
}

/// `tls.config.file`'s properties, or none if it does not exist.
fn read_file(path: &Path) -> Result<BTreeMap<String, String>, SettingsError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::debug!(file = %path.display(), "no TLS config file");
            return Ok(BTreeMap::new());
        }
        Err(e) => {
            return Err(SettingsError::File {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })
        }
    };
    let props = parse_properties(&bytes).map_err(|e| SettingsError::File {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    // Its own name inside it means nothing (upstream reads the file once).
    Ok(props
        .into_iter()
        .filter(|(k, _)| k != CONFIG_FILE)
        .collect())
}

fn parse_mode(value: &str) -> Result<TlsMode, SettingsError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "disabled" => Ok(TlsMode::Disabled),
        "permissive" => Ok(TlsMode::Permissive),
        "enforcing" => Ok(TlsMode::Enforcing),
        _ => Err(SettingsError::BadValue {
            key: MODE,
            value: value.to_string(),
            expected: "disabled, permissive, enforcing",
        }),
    }
}

fn parse_client_auth(value: &str) -> Result<ClientAuth, SettingsError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "none" | "" => Ok(ClientAuth::None),
        "optional" => Ok(ClientAuth::Optional),
        "require" => Ok(ClientAuth::Require),
        _ => Err(SettingsError::BadValue {
            key: NEED_CLIENT_AUTH,
            value: value.to_string(),
            expected: "none, optional, require",
        }),
    }
}

fn parse_bool(key: &'static str, value: &str) -> Result<bool, SettingsError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(SettingsError::BadValue {
            key,
            value: value.to_string(),
            expected: "true, false",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_c_file_wins_over_the_tls_config_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("tls.properties");
        std::fs::write(
            &file,
            "tls.server.mode=enforcing\ntls.server.certPath=/from/file\ntls.test.mode.enable=false\n",
        )
        .expect("write");
        let s = TlsSettings::load(&raw(&[
            (CONFIG_FILE, file.to_str().expect("utf8")),
            (CERT_PATH, "/from/c"),
        ]))
        .expect("load");
        assert_eq!(s.mode, TlsMode::Enforcing);
        assert_eq!(s.cert_path, Some(PathBuf::from("/from/c")));
        assert!(!s.test_mode);
    }

    #[test]
    fn bad_values_are_refused_and_the_password_is_not_shown() {
        let e = TlsSettings::load(&raw(&[
            (CONFIG_FILE, "/nonexistent/tls.properties"),
            (MODE, "strict"),
        ]))
        .expect_err("bad mode");
        assert_eq!(
            e.to_string(),
            "tls.server.mode=strict: expected one of disabled, permissive, enforcing"
        );
        let s = TlsSettings::load(&raw(&[
            (CONFIG_FILE, "/nonexistent/tls.properties"),
            (KEY_PASSWORD, "hunter2"),
        ]))
        .expect("load");
        assert!(!format!("{s:?}").contains("hunter2"));
        assert_eq!(s.mode, TlsMode::Permissive);
    }
}
