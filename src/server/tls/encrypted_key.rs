//! Decrypting a password-protected private key (`tls.server.keyPassword`), as
//! upstream's `TlsHelper#buildSslContext` has netty's
//! `SslContextBuilder.forServer(cert, key, password)` do. We decrypt PKCS#8
//! PBES2 (PBKDF2 or scrypt with AES-CBC or DES-EDE3-CBC) and PKCS#12 PBE
//! `PBE-SHA1-RC4-128` (RocketMQ's TLS guide) and `PBE-SHA1-3DES`
//! ([`super::pkcs12_pbe`]); the older schemes the JDK also reads (the other
//! PKCS#12 PBE ciphers, PBES1, OpenSSL's traditional `Proc-Type: 4,ENCRYPTED`)
//! are refused with the openssl command that converts them. The password is
//! never logged.

use pkcs8::der::asn1::{ObjectIdentifier, OctetStringRef};
use pkcs8::der::{Encode, Reader, SliceReader};
use pkcs8::spki::AlgorithmIdentifierRef;
use pkcs8::{EncryptedPrivateKeyInfo, PrivateKeyInfo, SecretDocument};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

use super::pkcs12_pbe;

/// What a reader of the key file is told is wrong with it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EncryptedKeyError {
    #[error("the private key is encrypted; set tls.server.keyPassword")]
    NoPassword,
    #[error("cannot decrypt the private key: wrong tls.server.keyPassword")]
    WrongPassword,
    #[error("the private key is encrypted with {scheme}, which is not supported; convert it with `{CONVERT}`")]
    Unsupported { scheme: String },
    #[error("not a PEM encrypted PKCS#8 private key: {0}")]
    Malformed(String),
}

/// The command that rewrites any key openssl reads as PBES2 AES-256-CBC.
pub const CONVERT: &str =
    "openssl pkcs8 -topk8 -v2 aes-256-cbc -in key.pem -out key-pbes2.pem (openssl asks for the old and the new password)";

const PEM_LABEL: &str = "ENCRYPTED PRIVATE KEY";

/// PKCS#5 v2's PBES2.
const PBES2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.5.13");

/// Whether `pem` holds a key this module is for (PKCS#8 encrypted, or
/// OpenSSL's traditional encrypted form, which it names in its refusal).
pub fn is_encrypted(pem: &[u8]) -> bool {
    let text = String::from_utf8_lossy(pem);
    text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")
        || text.contains("Proc-Type: 4,ENCRYPTED")
}

/// The PKCS#8 key `pem` decrypts to with `password`.
pub fn decrypt(
    pem: &[u8],
    password: Option<&str>,
) -> Result<PrivateKeyDer<'static>, EncryptedKeyError> {
    let text = std::str::from_utf8(pem)
        .map_err(|_| EncryptedKeyError::Malformed("not UTF-8 text".to_string()))?;
    if text.contains("Proc-Type: 4,ENCRYPTED") {
        return Err(EncryptedKeyError::Unsupported {
            scheme: "OpenSSL's traditional PEM encryption (Proc-Type: 4,ENCRYPTED)".to_string(),
        });
    }
    let block = pem_block(text)?;
    let (label, document) =
        SecretDocument::from_pem(block).map_err(|e| EncryptedKeyError::Malformed(e.to_string()))?;
    if label != PEM_LABEL {
        return Err(EncryptedKeyError::Malformed(format!(
            "PEM label {label}, expected {PEM_LABEL}"
        )));
    }
    let der = document.as_bytes();
    // The scheme's OID first: pkcs5 rejects the ones it does not know with a
    // bare "unknown OID", and the reader deserves the scheme's name.
    let oid = scheme_oid(der)?;
    if pkcs12_pbe::handles(&oid) {
        let password = password.ok_or(EncryptedKeyError::NoPassword)?;
        return decrypt_pkcs12(der, &oid, password);
    }
    if let Some(name) = unsupported_scheme(&oid) {
        return Err(EncryptedKeyError::Unsupported {
            scheme: name.to_string(),
        });
    }
    let info = EncryptedPrivateKeyInfo::try_from(der).map_err(|e| {
        let scheme = if oid == PBES2 {
            // A cipher such as single DES (netty refuses it too) or an
            // unknown PRF; the parser's error names its OID.
            format!("PBES2 with a cipher or key derivation we do not decrypt ({e})")
        } else {
            format!("the scheme of OID {oid} ({e})")
        };
        EncryptedKeyError::Unsupported { scheme }
    })?;
    let password = password.ok_or(EncryptedKeyError::NoPassword)?;
    let plain = info.decrypt(password).map_err(|e| match e {
        // pkcs5 0.7 reports bad CBC padding (a wrong key) as `EncryptFailed`.
        pkcs8::Error::EncryptedPrivateKey(
            pkcs5::Error::DecryptFailed | pkcs5::Error::EncryptFailed,
        ) => EncryptedKeyError::WrongPassword,
        pkcs8::Error::EncryptedPrivateKey(pkcs5::Error::NoPbes1CryptSupport) => {
            EncryptedKeyError::Unsupported {
                scheme: format!("PBES1 ({oid})"),
            }
        }
        other => EncryptedKeyError::Unsupported {
            scheme: format!("OID {oid} ({other})"),
        },
    })?;
    // A wrong password can still leave valid padding (about one try in 256);
    // what it decrypts to is then no PrivateKeyInfo.
    PrivateKeyInfo::try_from(plain.as_bytes()).map_err(|_| EncryptedKeyError::WrongPassword)?;
    Ok(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        plain.as_bytes().to_vec(),
    )))
}

/// `der`'s key decrypted by PKCS#12 PBE scheme `oid`.
fn decrypt_pkcs12(
    der: &[u8],
    oid: &ObjectIdentifier,
    password: &str,
) -> Result<PrivateKeyDer<'static>, EncryptedKeyError> {
    let malformed = |e: pkcs8::der::Error| EncryptedKeyError::Malformed(e.to_string());
    let mut reader = SliceReader::new(der).map_err(malformed)?;
    let (params, data) = reader
        .sequence(|r| {
            let algorithm: AlgorithmIdentifierRef<'_> = r.decode()?;
            let data: OctetStringRef<'_> = r.decode()?;
            let params = match algorithm.parameters {
                Some(any) => any.to_der()?,
                None => Vec::new(),
            };
            Ok((params, data.as_bytes().to_vec()))
        })
        .map_err(malformed)?;
    let plain = pkcs12_pbe::decrypt(oid, &params, &data, password).map_err(|e| match e {
        pkcs12_pbe::Pkcs12PbeError::Padding => EncryptedKeyError::WrongPassword,
        other => EncryptedKeyError::Malformed(other.to_string()),
    })?;
    // RC4 has no padding to check: a wrong password shows here only.
    PrivateKeyInfo::try_from(plain.as_slice()).map_err(|_| EncryptedKeyError::WrongPassword)?;
    Ok(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(plain)))
}

/// The first `ENCRYPTED PRIVATE KEY` block of `text` (a file may also hold
/// comments or the certificate).
fn pem_block(text: &str) -> Result<&str, EncryptedKeyError> {
    let begin = format!("-----BEGIN {PEM_LABEL}-----");
    let end = format!("-----END {PEM_LABEL}-----");
    let start = text
        .find(&begin)
        .ok_or_else(|| EncryptedKeyError::Malformed(format!("no {begin} line")))?;
    let stop = text[start..]
        .find(&end)
        .ok_or_else(|| EncryptedKeyError::Malformed(format!("no {end} line")))?;
    Ok(&text[start..start + stop + end.len()])
}

/// The OID of `EncryptedPrivateKeyInfo.encryptionAlgorithm`.
fn scheme_oid(der: &[u8]) -> Result<ObjectIdentifier, EncryptedKeyError> {
    let malformed = |e: pkcs8::der::Error| EncryptedKeyError::Malformed(e.to_string());
    let mut reader = SliceReader::new(der).map_err(malformed)?;
    reader
        .sequence(|r| {
            let algorithm: AlgorithmIdentifierRef<'_> = r.decode()?;
            let _data: OctetStringRef<'_> = r.decode()?;
            Ok(algorithm.oid)
        })
        .map_err(malformed)
}

/// openssl's name of a scheme the JDK decrypts and we do not.
fn unsupported_scheme(oid: &ObjectIdentifier) -> Option<&'static str> {
    const PKCS12_PBE: &str = "1.2.840.113549.1.12.1.";
    const PBES1: &str = "1.2.840.113549.1.5.";
    let oid = oid.to_string();
    let name = match oid.as_str() {
        "1.2.840.113549.1.12.1.2" => "PKCS#12 PBE-SHA1-RC4-40",
        "1.2.840.113549.1.12.1.4" => "PKCS#12 PBE-SHA1-2DES",
        "1.2.840.113549.1.12.1.5" => "PKCS#12 PBE-SHA1-RC2-128",
        "1.2.840.113549.1.12.1.6" => "PKCS#12 PBE-SHA1-RC2-40",
        "1.2.840.113549.1.5.1" => "PBES1 PBE-MD2-DES",
        "1.2.840.113549.1.5.3" => "PBES1 PBE-MD5-DES",
        "1.2.840.113549.1.5.4" => "PBES1 PBE-MD2-RC2-64",
        "1.2.840.113549.1.5.6" => "PBES1 PBE-MD5-RC2-64",
        "1.2.840.113549.1.5.10" => "PBES1 PBE-SHA1-DES",
        "1.2.840.113549.1.5.11" => "PBES1 PBE-SHA1-RC2-64",
        other if other.starts_with(PKCS12_PBE) => "a PKCS#12 PBE scheme",
        other if other.starts_with(PBES1) && other != PBES2.to_string() => "a PBES1 scheme",
        _ => return None,
    };
    Some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = include_bytes!("../../../tests/fixtures/tls/key-aes256.pem");
    const RC4: &[u8] = include_bytes!("../../../tests/fixtures/tls/key-rc4.pem");

    #[test]
    fn decrypts_pbes2_with_the_right_password_only() {
        assert!(matches!(
            decrypt(KEY, Some("rocketmq")),
            Ok(PrivateKeyDer::Pkcs8(_))
        ));
        assert_eq!(
            decrypt(KEY, Some("wrong")).err(),
            Some(EncryptedKeyError::WrongPassword)
        );
        assert_eq!(
            decrypt(KEY, None).err(),
            Some(EncryptedKeyError::NoPassword)
        );
    }

    #[test]
    fn decrypts_scrypt_and_refuses_single_des() {
        let scrypt = include_bytes!("../../../tests/fixtures/tls/key-scrypt.pem");
        assert!(matches!(
            decrypt(scrypt, Some("rocketmq")),
            Ok(PrivateKeyDer::Pkcs8(_))
        ));
        let des = include_bytes!("../../../tests/fixtures/tls/key-des.pem");
        assert_eq!(
            decrypt(des, Some("rocketmq")).err(),
            Some(EncryptedKeyError::Unsupported {
                scheme:
                    "PBES2 with a cipher or key derivation we do not decrypt \
                         (PKCS#8 ASN.1 error: unknown/unsupported OID: 1.3.14.3.2.7 at DER byte 77)"
                        .to_string()
            })
        );
    }

    #[test]
    fn decrypts_pkcs12_pbe_with_the_right_password_only() {
        let des3: &[u8] = include_bytes!("../../../tests/fixtures/tls/key-pbe-sha1-3des.pem");
        let plain = decrypt(KEY, Some("rocketmq")).expect("PBES2 key");
        for key in [RC4, des3] {
            assert_eq!(decrypt(key, Some("rocketmq")).ok(), Some(plain.clone_key()));
            assert_eq!(
                decrypt(key, Some("wrong")).err(),
                Some(EncryptedKeyError::WrongPassword)
            );
            assert_eq!(
                decrypt(key, None).err(),
                Some(EncryptedKeyError::NoPassword)
            );
        }
    }
}
