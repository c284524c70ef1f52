//! ClusterInfo bodies (GET_BROKER_CLUSTER_INFO replies), in either dialect.
//!
//! Properties: no panic; decode → encode (both dialects) → decode is exact.
#![no_main]

use libfuzzer_sys::fuzz_target;
use namesrv_fuzz::assert_dialect_round_trip;
use protocol::body::ClusterInfo;

fuzz_target!(|data: &[u8]| {
    let Ok(info) = ClusterInfo::decode(data) else {
        return;
    };
    assert_dialect_round_trip(
        "cluster info",
        &info,
        ClusterInfo::encode,
        ClusterInfo::decode,
    );
});
