//! The ceilings of `RegisterBrokerBody::decode_limited`: inflated size and topic
//! count, each checked while decoding so a body over one stops there.

use std::time::{Duration, Instant};

mod common;
use common::{part, zlib};

use namesrv_protocol::body::{BodyError, DecodeLimits, RegisterBrokerBody, TopicConfig};

/// A compressed 479 body of these topic lines.
fn compressed(lines: &[String]) -> Vec<u8> {
    let mut raw = Vec::new();
    part(&mut raw, br#"{"counter":1,"stateVersion":0,"timestamp":1}"#);
    raw.extend_from_slice(&(lines.len() as i32).to_be_bytes());
    for l in lines {
        part(&mut raw, l.as_bytes());
    }
    part(&mut raw, b"[]");
    raw.extend_from_slice(&0i32.to_be_bytes());
    zlib(&raw)
}

fn body_of(n: usize) -> RegisterBrokerBody {
    RegisterBrokerBody {
        topic_configs: (0..n)
            .map(|i| TopicConfig {
                topic_name: format!("T{i}"),
                ..TopicConfig::default()
            })
            .collect(),
        filter_server_list: Some(Vec::new()),
        ..RegisterBrokerBody::default()
    }
}

/// The `TopicConfigSerializeWrapper` old brokers send, with `n` topics.
fn bare_wrapper(n: usize) -> Vec<u8> {
    let table: Vec<String> = (0..n)
        .map(|i| format!(r#""T{i}":{{"topicName":"T{i}"}}"#))
        .collect();
    format!(r#"{{"topicConfigTable":{{{}}}}}"#, table.join(",")).into_bytes()
}

fn limits(max_inflated: usize, max_topics: usize) -> DecodeLimits {
    DecodeLimits {
        max_inflated,
        max_topics,
    }
}

#[test]
fn topic_cap_in_every_form() {
    let at = body_of(100);
    let over = body_of(101);
    let l = limits(64 << 20, 100);
    for (name, bytes, compressed, version) in [
        ("plain", over.encode_plain(), false, 479),
        ("compressed", over.encode_compressed(479), true, 479),
        ("bare wrapper", bare_wrapper(101), false, 36),
    ] {
        let r = RegisterBrokerBody::decode_limited(Some(&bytes), compressed, version, l);
        assert!(
            matches!(r, Err(BodyError::TooManyTopics { limit: 100 })),
            "{name}: {r:?}"
        );
    }
    let d = RegisterBrokerBody::decode_limited(Some(&at.encode_plain()), false, 479, l).unwrap();
    assert_eq!(d.topic_configs.len(), 100);
    let d = RegisterBrokerBody::decode_limited(Some(&bare_wrapper(100)), false, 36, l).unwrap();
    assert_eq!(d.topic_configs.len(), 100);
    let d =
        RegisterBrokerBody::decode_limited(Some(&at.encode_compressed(479)), true, 479, l).unwrap();
    assert_eq!(d.topic_configs.len(), 100);
    // The cap is per decode: the next one on this thread is unlimited again.
    let d = RegisterBrokerBody::decode(Some(&over.encode_plain()), false, 479).unwrap();
    assert_eq!(d.topic_configs.len(), 101);
    // A bad body that is not over the cap keeps its own error.
    let r = RegisterBrokerBody::decode_limited(Some(b"{\"x\":"), false, 479, l);
    assert!(matches!(r, Err(BodyError::Json(_))), "{r:?}");
    assert_eq!(
        BodyError::TooManyTopics { limit: 100 }.to_string(),
        "register body holds more than 100 topics"
    );
}

#[test]
fn a_declared_topic_count_over_the_cap_is_refused_before_reading() {
    let mut raw = Vec::new();
    part(&mut raw, br#"{"counter":1,"stateVersion":0,"timestamp":1}"#);
    raw.extend_from_slice(&i32::MAX.to_be_bytes());
    let r = RegisterBrokerBody::decode_limited(Some(&zlib(&raw)), true, 479, limits(1 << 20, 10));
    assert!(
        matches!(r, Err(BodyError::TooManyTopics { limit: 10 })),
        "{r:?}"
    );
}

#[test]
fn inflate_ceiling() {
    let pad = " ".repeat(64 << 10);
    let lines: Vec<String> = (0..20)
        .map(|i| format!("T{i} 1 1 6 SINGLE_TAG {{}}{pad}"))
        .collect();
    let body = compressed(&lines);
    // 20 x 64 KiB = 1.25 MiB inflated.
    let ok =
        RegisterBrokerBody::decode_limited(Some(&body), true, 479, limits(2 << 20, 100)).unwrap();
    assert_eq!(ok.topic_configs.len(), 20);
    // In topicConfigTable's order: a ConcurrentHashMap filled T0..T19, resized
    // at 12 (as the JDK iterates it).
    let names: Vec<&str> = ok
        .topic_configs
        .iter()
        .map(|t| t.topic_name.as_str())
        .collect();
    assert_eq!(
        names.join(","),
        "T4,T5,T6,T7,T8,T9,T10,T12,T11,T14,T13,T16,T15,T18,T17,T0,T1,T19,T2,T3"
    );
    let r = RegisterBrokerBody::decode_limited(Some(&body), true, 479, limits(1 << 20, 100));
    assert!(
        matches!(r, Err(BodyError::InflatedTooLarge { limit }) if limit == 1 << 20),
        "{r:?}"
    );
    // A ceiling reached exactly at a count field is still the ceiling, not an
    // early end: here the data version part fills it.
    let dv = br#"{"counter":1,"stateVersion":0,"timestamp":1}"#;
    let r = RegisterBrokerBody::decode_limited(Some(&body), true, 479, limits(4 + dv.len(), 100));
    assert!(
        matches!(r, Err(BodyError::InflatedTooLarge { limit }) if limit == 4 + dv.len()),
        "{r:?}"
    );
    assert_eq!(
        BodyError::InflatedTooLarge { limit: 5 }.to_string(),
        "register body inflates beyond 5 bytes"
    );
}

#[test]
fn a_line_of_millions_of_spaces_is_read_in_linear_time() {
    // Java's `split(" ")` drops trailing empties: this is a valid topic.
    let line = format!("Wide 2 3 6 SINGLE_TAG {{}}{}", " ".repeat(8 << 20));
    let started = Instant::now();
    let tc = TopicConfig::decode_line(&line).unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(
        (
            tc.topic_name.as_str(),
            tc.read_queue_nums,
            tc.write_queue_nums
        ),
        ("Wide", 2, 3)
    );
    // Trailing empties only count when something follows them.
    let plain_a = TopicConfig {
        topic_name: "A".to_string(),
        read_queue_nums: 1,
        write_queue_nums: 1,
        perm: 6,
        topic_filter_type: "SINGLE_TAG".into(),
        topic_sys_flag: 0,
        order: false,
        attributes: Default::default(),
    };
    assert_eq!(
        TopicConfig::decode_line("A 1 1 6 SINGLE_TAG    ").unwrap(),
        plain_a
    );
    // The sixth part (the attributes) is the empty string here: ignored.
    assert_eq!(
        TopicConfig::decode_line("A 1 1 6 SINGLE_TAG  {} x").unwrap(),
        plain_a
    );
    for bad in ["A 1 1 6  SINGLE_TAG", "A 1 1 6      "] {
        let err = TopicConfig::decode_line(bad).unwrap_err();
        assert_eq!(err.to_string(), format!("bad topic config line: {bad}"));
        assert!(
            matches!(&err, BodyError::BadTopicConfig(quoted) if quoted == bad),
            "{err:?}"
        );
    }
    // A bad line's error quotes its start only.
    let bad = format!("A 1 1 6 NOPE {}", "x".repeat(1 << 20));
    match TopicConfig::decode_line(&bad) {
        Err(BodyError::BadTopicConfig(quoted)) => {
            assert_eq!(quoted, format!("A 1 1 6 NOPE {}...", "x".repeat(256 - 13)))
        }
        other => panic!("{other:?}"),
    }
}
