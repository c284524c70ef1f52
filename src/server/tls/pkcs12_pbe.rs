//! PKCS#12 password-based encryption of a PKCS#8 key (RFC 7292 appendix C),
//! the `openssl pkcs8 -topk8 -v1 PBE-SHA1-RC4-128` form RocketMQ's TLS guide
//! uses and `-v1 PBE-SHA1-3DES`: both load in Java 5.5.0 (the JDK's
//! `PKCS12PBECipherCore` behind netty's `SslContext#generateKeySpec`). The key
//! and IV come from the RFC 7292 appendix B KDF with SHA-1 over the password as
//! a BMPString with its two zero terminator bytes, as the JDK derives them.

use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockDecryptMut, KeyIvInit};
use pkcs12::kdf::{derive_key_utf8, Pkcs12KeyType};
use pkcs8::der::asn1::{ObjectIdentifier, OctetStringRef};
use pkcs8::der::{Reader, SliceReader};
use rc4::{KeyInit, StreamCipher};

/// `pbeWithSHAAnd128BitRC4`.
pub const SHA1_RC4_128: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.1");
/// `pbeWithSHAAnd3-KeyTripleDES-CBC`.
pub const SHA1_3DES: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.3");

/// Why a PKCS#12 PBE key did not decrypt.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Pkcs12PbeError {
    #[error("bad PBEParameter: {0}")]
    Parameters(String),
    #[error("the password is not representable as a BMPString: {0}")]
    Password(String),
    /// Bad CBC padding: the key, hence the password, is wrong.
    #[error("bad padding")]
    Padding,
}

/// RFC 7292 appendix C's `pkcs-12PbeParams`: SEQUENCE { salt, iterations }.
fn pbe_parameter(der: &[u8]) -> Result<(&[u8], i32), pkcs8::der::Error> {
    let mut reader = SliceReader::new(der)?;
    let params = reader.sequence(|r| {
        let salt: OctetStringRef<'_> = r.decode()?;
        let iterations: i32 = r.decode()?;
        Ok((salt.as_bytes(), iterations))
    })?;
    reader.finish(params)
}

/// Whether `oid` is one of the schemes [`decrypt`] handles.
pub fn handles(oid: &ObjectIdentifier) -> bool {
    *oid == SHA1_RC4_128 || *oid == SHA1_3DES
}

/// `data` decrypted with `password` by scheme `oid` (one [`handles`]) and
/// its DER `PBEParameter` `params`. RC4 has no padding: a wrong password
/// shows only in what the bytes fail to parse as.
pub fn decrypt(
    oid: &ObjectIdentifier,
    params: &[u8],
    data: &[u8],
    password: &str,
) -> Result<Vec<u8>, Pkcs12PbeError> {
    let (salt, iterations) =
        pbe_parameter(params).map_err(|e| Pkcs12PbeError::Parameters(e.to_string()))?;
    if iterations < 1 {
        return Err(Pkcs12PbeError::Parameters(format!(
            "iteration count {iterations}"
        )));
    }
    let derive = |id: Pkcs12KeyType, len: usize| {
        derive_key_utf8::<sha1::Sha1>(password, salt, id, iterations, len)
            .map_err(|e| Pkcs12PbeError::Password(e.to_string()))
    };
    let mut buf = data.to_vec();
    if *oid == SHA1_RC4_128 {
        let key = derive(Pkcs12KeyType::EncryptionKey, 16)?;
        let mut rc4 = rc4::Rc4::<rc4::consts::U16>::new(key.as_slice().into());
        rc4.apply_keystream(&mut buf);
        Ok(buf)
    } else {
        let key = derive(Pkcs12KeyType::EncryptionKey, 24)?;
        let iv = derive(Pkcs12KeyType::Iv, 8)?;
        let cipher = cbc::Decryptor::<des::TdesEde3>::new_from_slices(&key, &iv)
            .map_err(|e| Pkcs12PbeError::Parameters(e.to_string()))?;
        let len = cipher
            .decrypt_padded_mut::<Pkcs7>(&mut buf)
            .map_err(|_| Pkcs12PbeError::Padding)?
            .len();
        buf.truncate(len);
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7292's KDF with SHA-1: the key OpenSSL's PKCS12_key_gen_utf8
    /// derives for password "smeg", salt 0A58CF64530D823F, ID 1, 1 iteration
    /// (OpenSSL's test/pkcs12_format_test vectors, also in BouncyCastle's
    /// PKCS12Test).
    #[test]
    fn kdf_matches_the_published_vector() {
        let salt = [0x0A, 0x58, 0xCF, 0x64, 0x53, 0x0D, 0x82, 0x3F];
        let key = derive_key_utf8::<sha1::Sha1>("smeg", &salt, Pkcs12KeyType::EncryptionKey, 1, 24)
            .expect("derive");
        assert_eq!(
            key,
            [
                0x8A, 0xAA, 0xE6, 0x29, 0x7B, 0x6C, 0xB0, 0x46, 0x42, 0xAB, 0x5B, 0x07, 0x78, 0x51,
                0x28, 0x4E, 0xB7, 0x12, 0x8F, 0x1A, 0x2A, 0x7F, 0xBC, 0xA3
            ]
        );
    }

    #[test]
    fn refuses_a_zero_iteration_count() {
        // SEQUENCE { OCTET STRING 01, INTEGER 0 }
        let params = [0x30, 0x06, 0x04, 0x01, 0x01, 0x02, 0x01, 0x00];
        assert_eq!(
            decrypt(&SHA1_RC4_128, &params, &[0; 8], "x"),
            Err(Pkcs12PbeError::Parameters("iteration count 0".to_string()))
        );
    }
}
