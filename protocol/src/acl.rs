//! Request signatures as RocketMQ's ACL 1.0 clients make them
//! (`AclClientRPCHook#doBeforeRequest`): the client adds `AccessKey` (and
//! `SecurityToken`), then signs the values of every ext field, taken in the key
//! order of a Java `TreeMap<String, String>` and leaving `Signature` out, followed
//! by the body bytes, with HMAC-SHA1 keyed by the secret key; the Base64 of that
//! MAC travels as the `Signature` ext field.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::command::RemotingCommand;

pub const ACCESS_KEY: &str = "AccessKey";
pub const SIGNATURE: &str = "Signature";
pub const SECURITY_TOKEN: &str = "SecurityToken";

type HmacSha1 = Hmac<Sha1>;

/// Ext fields sorted without allocating up to this many (NameServer requests carry
/// a handful); more fall back to a heap vector.
const STACK_FIELDS: usize = 16;

/// HMAC-SHA1 over the signed content (`AclUtils#combineRequestContent`).
pub fn signature(ext: &[(String, String)], body: &[u8], secret: &[u8]) -> [u8; 20] {
    mac_over(ext, body, secret).finalize().into_bytes().into()
}

/// Base64 of [`signature`] (`AclSigner#calSignature`).
pub fn signature_base64(ext: &[(String, String)], body: &[u8], secret: &[u8]) -> String {
    STANDARD.encode(signature(ext, body, secret))
}

/// Constant-time check of a presented Base64 signature (false if not valid Base64).
pub fn verify(ext: &[(String, String)], body: &[u8], secret: &[u8], presented: &str) -> bool {
    // A SHA-1 MAC is 20 bytes, 28 Base64 characters; decode into a fixed buffer
    // so a long bogus value costs nothing and allocates nothing.
    let mut decoded = [0u8; 32];
    let len = match STANDARD.decode_slice(presented.as_bytes(), &mut decoded) {
        Ok(len) => len,
        Err(_) => return false,
    };
    mac_over(ext, body, secret)
        .verify_slice(&decoded[..len])
        .is_ok()
}

/// What `AclClientRPCHook#doBeforeRequest` does: adds `AccessKey` (and
/// `SecurityToken` when given), then `Signature` over the fields and `body`.
pub fn sign(
    cmd: &mut RemotingCommand,
    body: &[u8],
    access_key: &str,
    secret_key: &str,
    security_token: Option<&str>,
) {
    set_ext(cmd, ACCESS_KEY, access_key);
    if let Some(token) = security_token {
        set_ext(cmd, SECURITY_TOKEN, token);
    }
    let signed = {
        let ext = cmd.ext_fields.as_deref().unwrap_or(&[]);
        signature_base64(ext, body, secret_key.as_bytes())
    };
    set_ext(cmd, SIGNATURE, &signed);
}

/// `addExtField` puts into a map: a field already there is replaced.
fn set_ext(cmd: &mut RemotingCommand, key: &str, value: &str) {
    let fields = cmd.ext_fields.get_or_insert_with(Vec::new);
    match fields.iter_mut().rev().find(|(k, _)| k == key) {
        Some((_, v)) => {
            v.clear();
            v.push_str(value);
        }
        None => fields.push((key.to_string(), value.to_string())),
    }
}

fn mac_over(ext: &[(String, String)], body: &[u8], secret: &[u8]) -> HmacSha1 {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match HmacSha1::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    };
    if ext.len() <= STACK_FIELDS {
        let mut order = [0usize; STACK_FIELDS];
        for (i, slot) in order.iter_mut().enumerate().take(ext.len()) {
            *slot = i;
        }
        feed_sorted(&mut mac, ext, &mut order[..ext.len()]);
    } else {
        let mut order: Vec<usize> = (0..ext.len()).collect();
        feed_sorted(&mut mac, ext, &mut order);
    }
    mac.update(body);
    mac
}

/// Feeds the values in Java `String#compareTo` key order (UTF-16 code units),
/// `Signature` left out; of a repeated key only the last value counts, as a
/// Java map keeps it.
fn feed_sorted(mac: &mut HmacSha1, ext: &[(String, String)], order: &mut [usize]) {
    // Insertion sort: stable (equal keys stay in their original order, so the
    // last of a run is the last one sent) and allocation-free for a handful.
    for i in 1..order.len() {
        let mut j = i;
        while j > 0 && java_order(&ext[order[j - 1]].0, &ext[order[j]].0).is_gt() {
            order.swap(j - 1, j);
            j -= 1;
        }
    }
    for (pos, &i) in order.iter().enumerate() {
        let (key, value) = &ext[i];
        if key == SIGNATURE {
            continue;
        }
        if let Some(&next) = order.get(pos + 1) {
            if ext[next].0 == *key {
                continue;
            }
        }
        mac.update(value.as_bytes());
    }
}

/// `String#compareTo`: by UTF-16 code units (differs from UTF-8 byte order once a
/// key has characters beyond U+FFFF).
fn java_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}
