//! Plain (uncompressed) REGISTER_BROKER bodies: a `RegisterBrokerBody` from
//! V3_0_11 on, a bare `TopicConfigSerializeWrapper` before.
//!
//! Properties: no panic; a decoded body written with `encode_plain` (what our
//! loadgen and tests send) reads back to the same data version, topics (keyed by
//! topic name, later duplicates win, as the encoder documents), mapping infos and
//! filter list.
#![no_main]

use libfuzzer_sys::fuzz_target;
use namesrv_fuzz::by_name;
use protocol::body::RegisterBrokerBody;

/// Request versions on both sides of the format switches (V3_0_11 = 37,
/// V5_0_0 = 413), and a negative one, which is refused.
const VERSIONS: [i32; 6] = [0, 36, 37, 412, 413, -1];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let version = VERSIONS[usize::from(sel) % VERSIONS.len()];
    let Ok(decoded) = RegisterBrokerBody::decode(Some(body), false, version) else {
        return;
    };
    assert!(version >= 0, "a negative version must be refused");

    let plain = decoded.encode_plain();
    let back = RegisterBrokerBody::decode(Some(&plain), false, 413)
        .expect("our own plain register body must decode");
    assert_eq!(back.data_version, decoded.data_version);
    assert_eq!(by_name(&back), by_name(&decoded), "topics changed");
    assert_eq!(back.topic_configs.len(), by_name(&decoded).len());
    assert_eq!(
        back.mapping_infos, decoded.mapping_infos,
        "mapping infos changed"
    );
    assert_eq!(
        back.filter_server_list.unwrap_or_default(),
        decoded.filter_server_list.unwrap_or_default(),
        "filter server list changed"
    );
});
