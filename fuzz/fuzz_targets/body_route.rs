//! TopicRouteData bodies (GET_ROUTEINFO_BY_TOPIC replies, as clients and the
//! differential tests read them), in either JSON dialect.
//!
//! Properties: no panic; a decoded route written in either dialect reads back
//! to the same route.
#![no_main]

use libfuzzer_sys::fuzz_target;
use namesrv_fuzz::assert_dialect_round_trip;
use protocol::body::TopicRouteData;

fuzz_target!(|data: &[u8]| {
    let Ok(route) = TopicRouteData::decode(data) else {
        return;
    };
    assert_dialect_round_trip(
        "route body",
        &route,
        TopicRouteData::encode,
        TopicRouteData::decode,
    );
});
