//! Request signatures as RocketMQ's ACL 1.0 clients make them
//! (`AclClientRPCHook#doBeforeRequest`): the client adds `AccessKey` (and
//! `SecurityToken`), then signs the values of every ext field, taken in the key
//! order of a Java `TreeMap<String, String>` and leaving `Signature` out, followed
//! by the body bytes, with HMAC-SHA1 keyed by the secret key; the Base64 of that
//! MAC travels as the `Signature` ext field.
//!
//! A server checks the same content (5.x `DefaultAuthenticationContextBuilder#build`,
//! which also leaves out `_UNIQUE_KEY_QUERY` for clients up to 4.9.3: a field of
//! broker queries that never reaches a name server). [`verify`] compares MACs, not
//! Base64 text, but the decoder takes canonical Base64 only, so it accepts exactly
//! the strings Java's `equals` would.

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

/// Most ext fields a signed request may carry; [`verify`] refuses more before
/// hashing. Real clients send about twenty, and each field costs a sort step
/// and a hash update on the core that checks it.
pub const MAX_SIGNED_FIELDS: usize = 256;

/// Length of a Base64 HMAC-SHA1 (20 bytes, padded).
const SIGNATURE_CHARS: usize = 28;

/// HMAC-SHA1 over the signed content (`AclUtils#combineRequestContent`).
pub fn signature(ext: &[(String, String)], body: &[u8], secret: &[u8]) -> [u8; 20] {
    mac_over(ext, body, secret).finalize().into_bytes().into()
}

/// Base64 of [`signature`] (`AclSigner#calSignature`).
pub fn signature_base64(ext: &[(String, String)], body: &[u8], secret: &[u8]) -> String {
    STANDARD.encode(signature(ext, body, secret))
}

/// Constant-time check of a presented Base64 signature. False without hashing
/// when the value cannot be a MAC (not 28 Base64 characters of 20 bytes) or when
/// there are more than [`MAX_SIGNED_FIELDS`] ext fields.
pub fn verify(ext: &[(String, String)], body: &[u8], secret: &[u8], presented: &str) -> bool {
    verify_with(&SigningKey::new(secret), ext, body, presented)
}

/// An account's HMAC key with its inner and outer pads already hashed: they depend
/// on the secret alone, so a server keeps one per account and each check clones
/// it, doing two SHA-1 compressions fewer than [`verify`] (half a route lookup's).
#[derive(Clone)]
pub struct SigningKey(HmacSha1);

impl SigningKey {
    pub fn new(secret: &[u8]) -> SigningKey {
        // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
        match HmacSha1::new_from_slice(secret) {
            Ok(mac) => SigningKey(mac),
            Err(_) => unreachable!("HMAC accepts keys of every length"),
        }
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(..)")
    }
}

/// [`verify`] with a prepared key.
pub fn verify_with(
    key: &SigningKey,
    ext: &[(String, String)],
    body: &[u8],
    presented: &str,
) -> bool {
    if ext.len() > MAX_SIGNED_FIELDS || presented.len() != SIGNATURE_CHARS {
        return false;
    }
    // Decode into a fixed buffer: nothing allocated for a bogus value.
    let mut decoded = [0u8; 32];
    match STANDARD.decode_slice(presented.as_bytes(), &mut decoded) {
        Ok(20) => {}
        _ => return false,
    }
    feed(key.0.clone(), ext, body)
        .verify_slice(&decoded[..20])
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
    feed(SigningKey::new(secret).0, ext, body)
}

/// The signed content into a keyed MAC: the sorted ext values, then the body.
fn feed(mut mac: HmacSha1, ext: &[(String, String)], body: &[u8]) -> HmacSha1 {
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
    sort_order(ext, order, java_order);
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

/// Sorts the indices `order` by key with `cmp`, equal keys by index, so the last
/// of a run of equal keys is the last one sent. O(n log n) whatever the order
/// the fields arrive in (a peer chooses it), and allocation-free.
fn sort_order(
    ext: &[(String, String)],
    order: &mut [usize],
    mut cmp: impl FnMut(&str, &str) -> std::cmp::Ordering,
) {
    order.sort_unstable_by(|&a, &b| cmp(&ext[a].0, &ext[b].0).then(a.cmp(&b)));
}

/// `String#compareTo`: by UTF-16 code units (differs from UTF-8 byte order once a
/// key has characters beyond U+FFFF).
fn java_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Signatures printed by RocketMQ 5.5.0's own `AclClientRPCHook`
    // (tools/acl-vectors.jsh runs it in jshell over the same inputs).

    fn ext(kv: &[(&str, &str)]) -> Vec<(String, String)> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Signs like the Java client and checks the Signature it adds.
    fn java_vector(
        fields: &[(&str, &str)],
        ak: &str,
        sk: &str,
        token: Option<&str>,
        body: &[u8],
        want: &str,
    ) {
        let mut cmd = RemotingCommand::request(105, 1, ext(fields));
        sign(&mut cmd, body, ak, sk, token);
        assert_eq!(cmd.ext(SIGNATURE), Some(want));
        assert_eq!(cmd.ext(ACCESS_KEY), Some(ak));
        assert_eq!(cmd.ext(SECURITY_TOKEN), token);
        let sent = cmd.ext_fields.as_deref().unwrap_or(&[]);
        assert!(verify(sent, body, sk.as_bytes(), want));
    }

    #[test]
    fn custom_header_without_body() {
        java_vector(
            &[("topic", "TopicTest")],
            "rocketmq2",
            "12345678",
            None,
            &[],
            "GeeGoP9mRvDhoVp4PD5omX0prgE=",
        );
    }

    #[test]
    fn ext_fields_and_body() {
        java_vector(
            &[
                ("brokerName", "broker-a"),
                ("clusterName", "DefaultCluster"),
            ],
            "RocketMQ",
            "12345678",
            None,
            b"hello body",
            "6p4gg+q0/PVdMrOdz0ybht/Sd0I=",
        );
    }

    #[test]
    fn empty_body_is_no_body() {
        java_vector(
            &[("topic", "T")],
            "RocketMQ",
            "12345678",
            None,
            b"",
            "qij/uwizWhQy5fp70E15Y7+y++Q=",
        );
    }

    #[test]
    fn keys_sort_by_utf16_units_not_utf8_bytes() {
        // U+1F600 is the surrogate pair D83D DE00, before U+FF61 in UTF-16 but
        // after it in UTF-8.
        java_vector(
            &[
                ("\u{FF61}", "halfwidth"),
                ("\u{1F600}", "emoji"),
                ("z", "zed"),
            ],
            "RocketMQ",
            "12345678",
            None,
            b"",
            "N97JINz6of3/EHAz2crSPYRke+U=",
        );
        let fields = ext(&[
            ("AccessKey", "RocketMQ"),
            ("\u{FF61}", "halfwidth"),
            ("\u{1F600}", "emoji"),
            ("z", "zed"),
        ]);
        let mut by_bytes = fields.clone();
        by_bytes.sort();
        let concat: String = by_bytes.iter().map(|(_, v)| v.as_str()).collect();
        assert_ne!(
            signature_base64(&fields, b"", b"12345678"),
            signature_base64(&[(String::new(), concat)], b"", b"12345678"),
            "UTF-8 byte order would give another signature"
        );
    }

    #[test]
    fn unicode_values_keys_and_binary_body() {
        java_vector(
            &[
                ("topic", "t\u{e9}st-\u{4e2d}\u{6587}-\u{1F600}"),
                ("key", "\u{fc}"),
            ],
            "admin\u{e4}key",
            "s\u{e9}cret-\u{4e2d}",
            None,
            &[0, 1, 2, 0xff],
            "jUUvGLgplIRu0NKoVcv2NBx4qho=",
        );
    }

    #[test]
    fn security_token_is_signed() {
        java_vector(
            &[("topic", "T")],
            "RocketMQ",
            "12345678",
            Some("token-xyz"),
            b"b",
            "VmGTYcM5uyI1/Akj3dpekP+IlAE=",
        );
    }

    #[test]
    fn order_of_fields_as_sent_does_not_matter() {
        let a = ext(&[("AccessKey", "RocketMQ"), ("topic", "T")]);
        let b = ext(&[("topic", "T"), ("AccessKey", "RocketMQ")]);
        assert_eq!(
            signature(&a, b"", b"12345678"),
            signature(&b, b"", b"12345678")
        );
        assert_eq!(
            signature_base64(&a, b"", b"12345678"),
            "qij/uwizWhQy5fp70E15Y7+y++Q="
        );
    }

    #[test]
    fn signature_field_is_not_signed() {
        let plain = ext(&[("AccessKey", "RocketMQ"), ("topic", "T")]);
        let mut with = plain.clone();
        with.push((SIGNATURE.to_string(), "whatever".to_string()));
        assert_eq!(signature(&plain, b"x", b"k"), signature(&with, b"x", b"k"));
    }

    #[test]
    fn a_repeated_key_counts_with_its_last_value() {
        let twice = ext(&[("topic", "old"), ("AccessKey", "RocketMQ"), ("topic", "T")]);
        assert_eq!(
            signature_base64(&twice, b"", b"12345678"),
            "qij/uwizWhQy5fp70E15Y7+y++Q="
        );
    }

    #[test]
    fn sign_replaces_fields_already_there() {
        let mut cmd = RemotingCommand::request(
            105,
            1,
            ext(&[
                ("topic", "T"),
                ("AccessKey", "stale"),
                ("Signature", "stale"),
            ]),
        );
        sign(&mut cmd, b"", "RocketMQ", "12345678", None);
        assert_eq!(cmd.ext_fields.as_ref().map(Vec::len), Some(3));
        assert_eq!(cmd.ext(SIGNATURE), Some("qij/uwizWhQy5fp70E15Y7+y++Q="));
    }

    #[test]
    fn more_fields_than_the_stack_holds() {
        let many: Vec<(String, String)> = (0..40)
            .rev()
            .map(|i| (format!("k{i:02}"), format!("v{i}")))
            .collect();
        let mut sorted = many.clone();
        sorted.sort();
        assert_eq!(signature(&many, b"b", b"s"), signature(&sorted, b"b", b"s"));
        let concat: String = sorted.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(
            signature(&many, b"b", b"s"),
            signature(&[(String::new(), concat)], b"b", b"s")
        );
    }

    #[test]
    fn verify_refuses_wrong_and_malformed_signatures() {
        let fields = ext(&[("AccessKey", "RocketMQ"), ("topic", "T")]);
        let good = "qij/uwizWhQy5fp70E15Y7+y++Q=";
        assert!(verify(&fields, b"", b"12345678", good));
        assert!(!verify(&fields, b"", b"wrong-secret", good));
        assert!(!verify(&fields, b"tampered", b"12345678", good));
        assert!(!verify(
            &fields,
            b"",
            b"12345678",
            "qij/uwizWhQy5fp70E15Y7+y++Q"
        ));
        assert!(!verify(&fields, b"", b"12345678", "not base64!"));
        assert!(!verify(&fields, b"", b"12345678", ""));
        assert!(!verify(&fields, b"", b"12345678", &"A".repeat(4000)));
        // Non-canonical Base64 of the same bytes (trailing bits set) is refused,
        // as Java's string comparison refuses it.
        assert!(!verify(
            &fields,
            b"",
            b"12345678",
            "qij/uwizWhQy5fp70E15Y7+y++R="
        ));
        // A valid Base64 prefix of the MAC is not enough.
        assert!(!verify(&fields, b"", b"12345678", "qij/uwizWhQy5fp7"));
    }

    #[test]
    fn a_prepared_key_checks_as_the_secret_does_and_is_reused() {
        let fields = ext(&[("AccessKey", "RocketMQ"), ("topic", "T")]);
        let good = "qij/uwizWhQy5fp70E15Y7+y++Q=";
        let key = SigningKey::new(b"12345678");
        // Twice: a check clones the key, it does not consume or change it.
        for _ in 0..2 {
            assert!(verify_with(&key, &fields, b"", good));
            assert!(!verify_with(&key, &fields, b"tampered", good));
        }
        assert!(!verify_with(
            &SigningKey::new(b"wrong-secret"),
            &fields,
            b"",
            good
        ));
        assert_eq!(format!("{key:?}"), "SigningKey(..)");
    }

    #[test]
    fn sorting_an_adversarial_order_takes_n_log_n_comparisons() {
        // UTF-8 byte order (what the JSON decoders hand over) puts the U+FF61
        // keys before the U+1F600 ones; UTF-16 order reverses the two groups.
        let n = 50_000;
        let mut fields: Vec<(String, String)> = (0..n / 2)
            .map(|i| (format!("\u{FF61}{i:06}"), String::new()))
            .collect();
        fields.extend((0..n / 2).map(|i| (format!("\u{1F600}{i:06}"), String::new())));
        let mut order: Vec<usize> = (0..n).collect();
        let mut comparisons = 0u64;
        sort_order(&fields, &mut order, |a, b| {
            comparisons += 1;
            java_order(a, b)
        });
        // n log2 n is about 780 k; an insertion sort would need (n/2)^2 = 625 M.
        assert!(comparisons < 4_000_000, "{comparisons} comparisons");
        assert!(fields[order[0]].0.starts_with('\u{1F600}'));
        assert!(order
            .windows(2)
            .all(|w| { java_order(&fields[w[0]].0, &fields[w[1]].0).is_lt() }));
    }

    #[test]
    fn too_many_fields_are_refused_before_hashing() {
        let many: Vec<(String, String)> = (0..=MAX_SIGNED_FIELDS)
            .map(|i| (format!("k{i:03}"), "v".to_string()))
            .collect();
        let good = signature_base64(&many, b"", b"s");
        assert!(!verify(&many, b"", b"s", &good));
        let fewer = &many[..MAX_SIGNED_FIELDS];
        let good = signature_base64(fewer, b"", b"s");
        assert!(verify(fewer, b"", b"s", &good));
    }

    #[test]
    fn duplicates_keep_the_last_value_whatever_their_position() {
        let fields = ext(&[("b", "1"), ("a", "x"), ("b", "2"), ("c", "y"), ("b", "3")]);
        let want = ext(&[("a", "x"), ("b", "3"), ("c", "y")]);
        assert_eq!(signature(&fields, b"", b"k"), signature(&want, b"", b"k"));
    }

    /// The signed content built the slow, obvious way: a map keyed by UTF-16
    /// units (a later duplicate replaces an earlier one), `Signature` dropped.
    fn reference(ext: &[(String, String)], body: &[u8]) -> Vec<u8> {
        let mut map = std::collections::BTreeMap::new();
        for (k, v) in ext {
            map.insert(
                k.encode_utf16().collect::<Vec<u16>>(),
                (k.clone(), v.clone()),
            );
        }
        let mut out = Vec::new();
        for (k, v) in map.values() {
            if k != SIGNATURE {
                out.extend_from_slice(v.as_bytes());
            }
        }
        out.extend_from_slice(body);
        out
    }

    proptest::proptest! {
        #[test]
        fn matches_the_obvious_construction(
            fields in proptest::collection::vec(
                ("[a-cA\u{FF61}\u{1F600}]{0,3}|Signature", "[x-z\u{e9}\u{1F600}]{0,4}"),
                0..24,
            ),
            body in proptest::collection::vec(proptest::num::u8::ANY, 0..16),
        ) {
            let mut mac = HmacSha1::new_from_slice(b"secret-key").map_err(|e| {
                proptest::test_runner::TestCaseError::fail(e.to_string())
            })?;
            mac.update(&reference(&fields, &body));
            let want: [u8; 20] = mac.finalize().into_bytes().into();
            proptest::prop_assert_eq!(signature(&fields, &body, b"secret-key"), want);
            let b64 = signature_base64(&fields, &body, b"secret-key");
            proptest::prop_assert!(verify(&fields, &body, b"secret-key", &b64));
        }
    }
}
