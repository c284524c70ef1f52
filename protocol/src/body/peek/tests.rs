use std::collections::BTreeMap;

use proptest::prelude::*;

use super::super::{RegisterBrokerBody, TopicConfig};
use super::DataVersion;

fn version() -> impl Strategy<Value = DataVersion> {
    (any::<i64>(), any::<i64>(), any::<i64>()).prop_map(|(counter, state_version, timestamp)| {
        DataVersion {
            counter,
            state_version,
            timestamp,
        }
    })
}

/// Names with quotes, backslashes, braces and non-ASCII, which the scan must step over.
fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9%\"\\\\{}\\[\\],: é\u{1F600}]{0,12}"
}

fn body() -> impl Strategy<Value = RegisterBrokerBody> {
    (
        version(),
        proptest::collection::vec((text(), 1..32i32, 0..8i32), 0..6),
        proptest::collection::vec(text(), 0..3),
    )
        .prop_map(|(data_version, topics, filters)| RegisterBrokerBody {
            data_version,
            topic_configs: topics
                .into_iter()
                .map(|(topic_name, q, perm)| TopicConfig {
                    topic_name,
                    read_queue_nums: q,
                    write_queue_nums: q,
                    perm,
                    ..TopicConfig::default()
                })
                .collect(),
            mapping_infos: BTreeMap::new(),
            filter_server_list: Some(filters),
        })
}

/// A pre-V3_0_11 body: the bare wrapper, keys in a chosen order.
fn bare_wrapper(b: &RegisterBrokerBody, version_first: bool) -> Vec<u8> {
    let modern = String::from_utf8(b.encode_plain()).expect("utf8");
    let start = modern.find("\"topicConfigTable\"").expect("table");
    let end = modern
        .find(",\"topicQueueMappingDetailMap\"")
        .expect("detail");
    let table = &modern[start..end];
    let mut dv = Vec::new();
    b.data_version.encode(&mut dv);
    let dv = String::from_utf8(dv).expect("utf8");
    let s = if version_first {
        format!("{{\"dataVersion\":{dv},{table}}}")
    } else {
        format!("{{{table}, \"dataVersion\" : {dv} }}")
    };
    s.into_bytes()
}

proptest! {
    #[test]
    fn plain_agrees_with_the_full_decoder(b in body(), version in 37..500i32) {
        let bytes = b.encode_plain();
        let full = RegisterBrokerBody::decode(Some(&bytes), false, version).expect("decodes");
        prop_assert_eq!(RegisterBrokerBody::peek_data_version(Some(&bytes), false, version), Some(full.data_version));
        prop_assert_eq!(full.data_version, b.data_version);
    }

    #[test]
    fn compressed_agrees_with_the_full_decoder(b in body(), version in 37..500i32) {
        let bytes = b.encode_compressed(version);
        // The version comes first, so it reads the same even where the topic
        // lines do not decode (a space in a name breaks upstream's line format).
        let peeked = RegisterBrokerBody::peek_data_version(Some(&bytes), true, version);
        prop_assert_eq!(peeked, Some(b.data_version));
        if let Ok(full) = RegisterBrokerBody::decode(Some(&bytes), true, version) {
            prop_assert_eq!(peeked, Some(full.data_version));
        }
    }

    #[test]
    fn bare_wrapper_agrees_with_the_full_decoder(b in body(), first in any::<bool>(), compressed in any::<bool>(), version in 0..37i32) {
        let bytes = bare_wrapper(&b, first);
        let full = RegisterBrokerBody::decode(Some(&bytes), compressed, version).expect("decodes");
        prop_assert_eq!(RegisterBrokerBody::peek_data_version(Some(&bytes), compressed, version), Some(full.data_version));
    }

    /// Whatever the bytes, no panic; and what it reads is what the full decoder
    /// reads whenever both succeed.
    #[test]
    fn never_disagrees_on_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300), version in 0..500i32, compressed in any::<bool>()) {
        let peeked = RegisterBrokerBody::peek_data_version(Some(&bytes), compressed, version);
        if let (Some(p), Ok(full)) = (peeked, RegisterBrokerBody::decode(Some(&bytes), compressed, version)) {
            // A missing timestamp reads as "now" on both sides: compare the rest.
            prop_assert_eq!((p.counter, p.state_version), (full.data_version.counter, full.data_version.state_version));
        }
    }

    /// Cutting a body short never makes it read another version.
    #[test]
    fn truncated_bodies_read_the_version_or_nothing(b in body(), cut in 0usize..400) {
        let bytes = b.encode_plain();
        let cut = cut.min(bytes.len());
        if let Some(p) = RegisterBrokerBody::peek_data_version(Some(&bytes[..cut]), false, 479) {
            prop_assert_eq!(p, b.data_version);
        }
    }
}

#[test]
fn shapes_it_leaves_to_the_full_decoder() {
    let none = |s: &str| RegisterBrokerBody::peek_data_version(Some(s.as_bytes()), false, 479);
    assert_eq!(none(""), None);
    assert_eq!(none("{}"), None);
    assert_eq!(none("[]"), None);
    assert_eq!(
        none(r#"{"topicConfigSerializeWrapper":{"topicConfigTable":{}}}"#),
        None
    );
    assert_eq!(
        none(r#"{"topicConfigSer\u0069alizeWrapper":{"dataVersion":{"counter":1}}}"#),
        None
    );
    assert_eq!(
        none(r#"{"topicConfigSerializeWrapper":{"dataVersion":null}}"#),
        None
    );
    assert_eq!(
        RegisterBrokerBody::peek_data_version(None, false, 479),
        None
    );
    assert_eq!(
        RegisterBrokerBody::peek_data_version(Some(b"{}"), false, -1),
        None
    );
    // Leading keys of any kind are stepped over.
    let dv = none(
        r#" {"a":[1,{"b":"}"}], "n":-1.5e3,"t":true,"filterServerList":["x\"]"],"topicConfigSerializeWrapper":{"x":null,"dataVersion":{"counter":7,"stateVersion":8,"timestamp":9}}}"#,
    );
    assert_eq!(
        dv,
        Some(DataVersion {
            counter: 7,
            state_version: 8,
            timestamp: 9
        })
    );
}
