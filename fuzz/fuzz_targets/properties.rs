//! The Java properties parser (`namesrv::config::parse_properties`), which reads
//! both the `-c` file at start and every UPDATE_NAMESRV_CONFIG (318) body.
//!
//! Properties: no panic on any bytes; an error names a line that exists. With
//! the `store-text` feature: every pair it yields, kept as a raw property and
//! written with `Config::to_store_text`, parses back to exactly the same pairs
//! (the `-c` file is written by the same code when 318 persists).
#![no_main]

use libfuzzer_sys::fuzz_target;
use namesrv::config::{parse_properties, PropertiesError};

fuzz_target!(|data: &[u8]| {
    let pairs = match parse_properties(data) {
        Ok(p) => p,
        Err(PropertiesError::MalformedUnicodeEscape { line }) => {
            let lines = data.iter().filter(|&&b| b == b'\n' || b == b'\r').count() + 1;
            assert!(
                line >= 1 && line <= lines,
                "error names line {line} of {lines}"
            );
            return;
        }
        #[allow(unreachable_patterns)]
        Err(_) => return,
    };
    #[cfg(feature = "store-text")]
    store_round_trip(&pairs);
    #[cfg(not(feature = "store-text"))]
    let _ = pairs;
});

#[cfg(feature = "store-text")]
fn store_round_trip(pairs: &[(String, String)]) {
    use std::collections::BTreeMap;

    use namesrv::config::Config;

    let mut config = Config::default();
    for (k, v) in pairs {
        // Keys that are fields are typed; leave them to the 318 target.
        if Config::field(k).is_none() {
            config.raw_properties.insert(k.clone(), v.clone());
        }
    }
    let text = config.to_store_text();
    let back: BTreeMap<String, String> = parse_properties(text.as_bytes())
        .expect("the store text must parse")
        .into_iter()
        .collect();
    for (k, v) in &config.raw_properties {
        assert_eq!(
            back.get(k),
            Some(v),
            "raw property {k:?} changed on store → parse"
        );
    }
}
