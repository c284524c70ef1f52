//! Compressed REGISTER_BROKER bodies (zlib stream of length-prefixed parts).
//!
//! The first byte picks the request version and whether the rest is the zlib
//! stream itself (reaching the inflater's error paths) or the inflated parts,
//! which the harness compresses first (so mutations reach the part parser
//! instead of dying on the zlib checksum).
//!
//! Properties: no panic, memory bounded by what the stream really holds (libFuzzer's
//! -rss_limit_mb / -malloc_limit_mb catch a lying length prefix), and a decoded
//! body written with `encode_plain` reads back with the same topics.
//!
//! A body whose DataVersion lacks a timestamp reads it as the wall clock (Java's
//! `new DataVersion()`), so two decodes of it may differ there by the time between
//! them: such a timestamp is only checked to lie within that window.
#![no_main]

use std::io::Write;

use flate2::write::ZlibEncoder;
use flate2::Compression;
use libfuzzer_sys::fuzz_target;
use namesrv_fuzz::by_name;
use protocol::body::{DataVersion, DecodeLimits, RegisterBrokerBody};

/// The clock a missing timestamp is read from (`DataVersion::fresh`).
fn now_ms() -> i64 {
    DataVersion::fresh().timestamp
}

/// Versions on both sides of V3_0_11 (37, from which the compressed form is read)
/// and V5_0_0 (413, from which the mapping section is read).
const VERSIONS: [i32; 4] = [37, 412, 413, 36];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let version = VERSIONS[usize::from(sel >> 1) % VERSIONS.len()];
    let compressed: Vec<u8> = if sel & 1 == 0 {
        let mut enc = ZlibEncoder::new(Vec::new(), Compression::fast());
        enc.write_all(rest).expect("writing into a Vec");
        enc.finish().expect("finishing into a Vec")
    } else {
        rest.to_vec()
    };
    let before = now_ms();
    let unlimited = RegisterBrokerBody::decode(Some(&compressed), true, version);
    // Tight ceilings (as a server configures them): a body within them decodes
    // exactly as without them; one beyond them is refused, never truncated.
    let limits = DecodeLimits {
        max_inflated: 64 + usize::from(sel) * 16,
        max_topics: usize::from(sel % 5),
    };
    let limited = RegisterBrokerBody::decode_limited(Some(&compressed), true, version, limits);
    let after = now_ms();
    if let Ok(mut limited) = limited {
        assert!(
            limited.topic_configs.len() <= limits.max_topics,
            "topic cap not applied"
        );
        match &unlimited {
            Ok(u) => {
                let (lt, ut) = (limited.data_version.timestamp, u.data_version.timestamp);
                if lt != ut {
                    // Both fresh: read from the clock between `before` and `after`.
                    assert!(
                        (before..=after).contains(&lt) && (before..=after).contains(&ut),
                        "limits changed the timestamp: {lt} vs {ut}"
                    );
                    limited.data_version.timestamp = ut;
                }
                assert_eq!(&limited, u, "limits changed a body within them");
            }
            Err(e) => panic!("accepted under limits, refused without: {e}"),
        }
    }
    let Ok(decoded) = unlimited else {
        return;
    };
    let plain = decoded.encode_plain();
    let back = RegisterBrokerBody::decode(Some(&plain), false, 413)
        .expect("our own plain register body must decode");
    assert_eq!(back.data_version, decoded.data_version);
    assert_eq!(by_name(&back), by_name(&decoded), "topics changed");
});
