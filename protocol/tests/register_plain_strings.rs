//! The plain register body's strings: `topicConfigTable` keys are only compared
//! (borrowed from the body, escaped ones decoded), `topicFilterType` keeps any
//! string sent, and both fail on a non-string exactly as a `String` field did.

use namesrv_protocol::body::RegisterBrokerBody;

const V5: i32 = 413;

fn decode(table: &str) -> Result<RegisterBrokerBody, String> {
    let body = format!(
        r#"{{"topicConfigSerializeWrapper":{{"topicConfigTable":{{{table}}},"dataVersion":{{"counter":1,"stateVersion":0,"timestamp":1}}}},"filterServerList":[]}}"#
    );
    RegisterBrokerBody::decode(Some(body.as_bytes()), false, V5).map_err(|e| e.to_string())
}

fn names_and_filters(b: &RegisterBrokerBody) -> Vec<(String, String, i32)> {
    let mut v: Vec<(String, String, i32)> = b
        .topic_configs
        .iter()
        .map(|t| {
            (
                t.topic_name.clone(),
                t.topic_filter_type.to_string(),
                t.perm,
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn escaped_and_plain_keys_are_the_same_key() {
    // "A" and "\u0041" are one key: the later value replaces the earlier in place.
    let b = decode(
        r#""A":{"topicName":"A","perm":2},"B":{"topicName":"B"},"\u0041":{"topicName":"A","perm":4}"#,
    )
    .expect("decodes");
    assert_eq!(
        names_and_filters(&b),
        vec![
            ("A".to_string(), "SINGLE_TAG".to_string(), 4),
            ("B".to_string(), "SINGLE_TAG".to_string(), 6),
        ]
    );
}

#[test]
fn filter_types_known_unknown_null_and_escaped() {
    let b = decode(concat!(
        r#""m":{"topicName":"m","topicFilterType":"MULTI_TAG"},"#,
        r#""s":{"topicName":"s","topicFilterType":"SINGLE_TAG"},"#,
        r#""x":{"topicName":"x","topicFilterType":"X\"Y"},"#,
        r#""n":{"topicName":"n","topicFilterType":null},"#,
        r#""e":{"topicName":"e","topicFilterType":"MULTI\u005fTAG"},"#,
        r#""d":{"topicName":"d"}"#
    ))
    .expect("decodes");
    assert_eq!(
        names_and_filters(&b),
        vec![
            ("d".to_string(), "SINGLE_TAG".to_string(), 6),
            ("e".to_string(), "MULTI_TAG".to_string(), 6),
            ("m".to_string(), "MULTI_TAG".to_string(), 6),
            ("n".to_string(), "SINGLE_TAG".to_string(), 6),
            ("s".to_string(), "SINGLE_TAG".to_string(), 6),
            ("x".to_string(), "X\"Y".to_string(), 6),
        ]
    );
}

#[test]
fn a_non_string_filter_type_fails_as_a_string_field_did() {
    let err = decode(r#""t":{"topicName":"t","topicFilterType":1}"#).expect_err("refused");
    assert!(
        err.contains("invalid type: integer `1`, expected a string"),
        "{err}"
    );
}
