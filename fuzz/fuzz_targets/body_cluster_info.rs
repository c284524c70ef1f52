//! ClusterInfo bodies (GET_BROKER_CLUSTER_INFO replies), in either dialect.
//!
//! Properties: no panic; decode → encode (both dialects) → decode is exact.
#![no_main]

use libfuzzer_sys::fuzz_target;
use protocol::body::ClusterInfo;
use protocol::json::Dialect;

fuzz_target!(|data: &[u8]| {
    let Ok(info) = ClusterInfo::decode(data) else {
        return;
    };
    for dialect in [Dialect::Legacy, Dialect::Standard] {
        let mut out = Vec::new();
        info.encode(dialect, &mut out);
        let back = ClusterInfo::decode(&out).expect("our own cluster info must decode");
        assert_eq!(
            info, back,
            "cluster info changed on a trip through {dialect:?}"
        );
    }
});
