//! TLS on the listening port, as upstream's `TlsModeHandler` does it: a
//! connection whose first byte starts a TLS record (a ClientHello) gets a TLS
//! session, others stay plaintext unless `tls.server.mode=enforcing`.
//!
//! - [`settings`]: the `tls.*` keys.
//! - [`encrypted_key`]: decrypting a key protected by `tls.server.keyPassword`.
//! - [`material`]: certificate, key and trust files to a `rustls::ServerConfig`.
//! - [`reload`]: watching those files and publishing a rebuilt configuration.
//! - [`stream`]: the TLS stream a connection is served over.

pub mod encrypted_key;
pub mod material;
pub mod pkcs12_pbe;
pub mod reload;
pub mod settings;
pub mod stream;

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use arc_swap::ArcSwap;
use rustls::ServerConfig;

pub use settings::{TlsMode, TlsSettings, SECRET_KEYS, TLS_KEYS};

/// The first byte of a TLS handshake record (upstream's `HANDSHAKE_MAGIC_CODE`).
pub const HANDSHAKE_RECORD: u8 = 0x16;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error(transparent)]
    Settings(#[from] settings::SettingsError),
    #[error(transparent)]
    Material(#[from] material::MaterialError),
}

/// What the shards share of TLS: the mode and the configuration new sessions
/// start with (replaced by the reload thread).
pub struct TlsService {
    pub mode: TlsMode,
    config: ArcSwap<ServerConfig>,
}

impl TlsService {
    /// Reads the settings and builds the first configuration; `None` when TLS is
    /// disabled. Outside test mode, starts the thread that watches the files
    /// (it ends once `stop` is set).
    pub fn start(
        raw: &BTreeMap<String, String>,
        stop: Arc<AtomicBool>,
    ) -> Result<Option<Arc<TlsService>>, TlsError> {
        let settings = TlsSettings::load(raw)?;
        tracing::info!(settings = ?settings, "TLS settings");
        if settings.mode == TlsMode::Disabled {
            return Ok(None);
        }
        if settings.test_mode {
            if settings.cert_path.is_some() || settings.key_path.is_some() {
                // Upstream does the same (`TlsHelper#buildSslContext`); say so.
                tracing::warn!(
                    "tls.test.mode.enable=true: serving a self-signed certificate, \
                     not tls.server.certPath/keyPath (set tls.test.mode.enable=false to use them)"
                );
            }
            let service = TlsService {
                mode: settings.mode,
                config: ArcSwap::new(material::self_signed()?),
            };
            return Ok(Some(Arc::new(service)));
        }
        let files = material::Files::read(&settings)?;
        let config = material::from_files(&settings, &files)?;
        if settings.need_client_auth != settings::ClientAuth::None && !settings.auth_client {
            tracing::warn!(
                "tls.server.authClient=false: client certificates are asked for but not verified"
            );
        }
        let service = Arc::new(TlsService {
            mode: settings.mode,
            config: ArcSwap::new(config),
        });
        reload::spawn(settings, files, service.clone(), stop);
        Ok(Some(service))
    }

    /// The configuration a new session starts with.
    pub fn current(&self) -> Arc<ServerConfig> {
        self.config.load_full()
    }

    fn publish(&self, config: Arc<ServerConfig>) {
        self.config.store(config);
    }
}
