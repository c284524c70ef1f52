//! Building the server's `rustls::ServerConfig` from the certificate, key and
//! trust files (upstream's `TlsHelper#buildSslContext`, server side), or from a
//! self-signed certificate made at start in test mode (netty's
//! `SelfSignedCertificate`). Runs at start and on the reload thread, never on a
//! shard.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{
    DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig, SignatureScheme,
};

use super::encrypted_key::{self, EncryptedKeyError};
use super::settings::{self, ClientAuth, TlsSettings};

#[derive(Debug, thiserror::Error)]
pub enum MaterialError {
    #[error("{key} is not set")]
    Missing { key: &'static str },
    #[error("cannot read {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("{path}: {reason}")]
    Pem { path: PathBuf, reason: String },
    #[error("{path}: {source}")]
    EncryptedKey {
        path: PathBuf,
        source: EncryptedKeyError,
    },
    #[error("cannot build the TLS configuration: {0}")]
    Rustls(String),
    #[error("cannot make the self-signed certificate: {0}")]
    SelfSigned(String),
}

/// The bytes of the files a configuration was built from (compared on reload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Files {
    pub cert: Vec<u8>,
    pub key: Vec<u8>,
    pub trust: Option<Vec<u8>>,
}

fn read(path: &Path) -> Result<Vec<u8>, MaterialError> {
    std::fs::read(path).map_err(|e| MaterialError::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

impl Files {
    /// Reads the files `settings` names.
    pub fn read(settings: &TlsSettings) -> Result<Files, MaterialError> {
        let cert = settings
            .cert_path
            .as_deref()
            .ok_or(MaterialError::Missing {
                key: settings::CERT_PATH,
            })?;
        let key = settings.key_path.as_deref().ok_or(MaterialError::Missing {
            key: settings::KEY_PATH,
        })?;
        Ok(Files {
            cert: read(cert)?,
            key: read(key)?,
            trust: match settings.trust_cert_path.as_deref() {
                Some(p) => Some(read(p)?),
                None => None,
            },
        })
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn builder() -> Result<rustls::ConfigBuilder<ServerConfig, rustls::WantsVerifier>, MaterialError> {
    ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| MaterialError::Rustls(e.to_string()))
}

fn certs(path: &Path, pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, MaterialError> {
    let certs: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(pem).collect();
    let certs = certs.map_err(|e| MaterialError::Pem {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    if certs.is_empty() {
        return Err(MaterialError::Pem {
            path: path.to_path_buf(),
            reason: "no PEM certificate in it".to_string(),
        });
    }
    Ok(certs)
}

/// The configuration built from `files` as `settings` says.
pub fn from_files(
    settings: &TlsSettings,
    files: &Files,
) -> Result<Arc<ServerConfig>, MaterialError> {
    let path = |p: &Option<PathBuf>| p.clone().unwrap_or_default();
    let key_path = path(&settings.key_path);
    let chain = certs(&path(&settings.cert_path), &files.cert)?;
    let key = private_key(settings, &key_path, &files.key)?;
    let verifier = client_verifier(settings, files)?;
    let builder = builder()?;
    let builder = match verifier {
        Some(v) => builder.with_client_cert_verifier(v),
        None => builder.with_no_client_auth(),
    };
    let config = builder
        .with_single_cert(chain, key)
        .map_err(|e| MaterialError::Rustls(e.to_string()))?;
    Ok(Arc::new(config))
}

/// The server's key: decrypted with `tls.server.keyPassword` when encrypted
/// (netty's `SslContext#toPrivateKey`), else read as it is.
fn private_key(
    settings: &TlsSettings,
    path: &Path,
    pem: &[u8],
) -> Result<PrivateKeyDer<'static>, MaterialError> {
    if encrypted_key::is_encrypted(pem) {
        return encrypted_key::decrypt(pem, settings.key_password.as_deref()).map_err(|source| {
            MaterialError::EncryptedKey {
                path: path.to_path_buf(),
                source,
            }
        });
    }
    if settings.key_password.is_some() {
        // Netty refuses this pair ("File does not contain valid private key");
        // the key is usable as it is, so we only warn (docs/compat.md).
        tracing::warn!(
            key = settings::KEY_PASSWORD,
            "the private key is not encrypted; the key password is not used"
        );
    }
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| MaterialError::Pem {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// How client certificates are asked for and checked (`need.client.auth`,
/// `authClient`, `trustCertPath`).
fn client_verifier(
    settings: &TlsSettings,
    files: &Files,
) -> Result<Option<Arc<dyn ClientCertVerifier>>, MaterialError> {
    let mandatory = match settings.need_client_auth {
        ClientAuth::None => return Ok(None),
        ClientAuth::Optional => false,
        ClientAuth::Require => true,
    };
    if !settings.auth_client {
        // Upstream's `InsecureTrustManagerFactory`: any certificate will do.
        return Ok(Some(Arc::new(AnyClientCert {
            mandatory,
            algorithms: provider().signature_verification_algorithms,
        })));
    }
    let trust_path = settings.trust_cert_path.clone().unwrap_or_default();
    let Some(trust) = &files.trust else {
        return Err(MaterialError::Missing {
            key: settings::TRUST_CERT_PATH,
        });
    };
    let mut roots = RootCertStore::empty();
    for cert in certs(&trust_path, trust)? {
        roots.add(cert).map_err(|e| MaterialError::Pem {
            path: trust_path.clone(),
            reason: e.to_string(),
        })?;
    }
    let builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider());
    let builder = if mandatory {
        builder
    } else {
        builder.allow_unauthenticated()
    };
    builder
        .build()
        .map(Some)
        .map_err(|e| MaterialError::Rustls(e.to_string()))
}

/// Test mode: a certificate for "localhost" made now, no client certificate asked.
pub fn self_signed() -> Result<Arc<ServerConfig>, MaterialError> {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string()])
        .map_err(|e| MaterialError::SelfSigned(e.to_string()))?;
    let key = PrivateKeyDer::try_from(made.signing_key.serialize_der())
        .map_err(|e| MaterialError::SelfSigned(e.to_string()))?;
    let config = builder()?
        .with_no_client_auth()
        .with_single_cert(vec![made.cert.der().clone()], key)
        .map_err(|e| MaterialError::Rustls(e.to_string()))?;
    Ok(Arc::new(config))
}

/// Accepts any client certificate that proves its key (the handshake's
/// signature is still checked), as upstream does with `authClient=false`.
#[derive(Debug)]
struct AnyClientCert {
    mandatory: bool,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for AnyClientCert {
    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
