//! A DataVersion the peer did not send is Java's `new DataVersion()`, whose
//! timestamp is the wall clock (`DataVersion`'s field initializer).

use namesrv_protocol::body::{DataVersion, RegisterBrokerBody};

/// Java's `new DataVersion()` takes the wall clock: a body or a version object
/// without a timestamp reads as now (counter and stateVersion 0).
#[test]
fn missing_data_version_is_a_fresh_one() {
    fn now_ms() -> i64 {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        i64::try_from(d.as_millis()).unwrap()
    }
    let before = now_ms();
    let d = RegisterBrokerBody::decode(
        Some(br#"{"topicConfigSerializeWrapper":{"topicConfigTable":{}}}"#),
        false,
        479,
    )
    .unwrap();
    let only_counter = DataVersion::decode(br#"{"counter":4}"#).unwrap();
    let bare = RegisterBrokerBody::decode(Some(b"{}"), false, 479).unwrap();
    let after = now_ms();
    for (v, counter) in [
        (d.data_version, 0),
        (only_counter, 4),
        (bare.data_version, 0),
    ] {
        assert_eq!((v.counter, v.state_version), (counter, 0));
        assert!((before..=after).contains(&v.timestamp), "{v:?}");
    }
    // An explicit null is not a missing field.
    let null_ts = DataVersion::decode(br#"{"counter":1,"timestamp":null}"#).unwrap();
    assert_eq!(null_ts.timestamp, 0);
}
