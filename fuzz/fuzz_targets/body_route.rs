//! TopicRouteData bodies (GET_ROUTEINFO_BY_TOPIC replies, as clients and the
//! differential tests read them), in either JSON dialect.
//!
//! Properties: no panic; a decoded route written in either dialect reads back
//! to the same route.
#![no_main]

use libfuzzer_sys::fuzz_target;
use protocol::body::TopicRouteData;
use protocol::json::Dialect;

fuzz_target!(|data: &[u8]| {
    let Ok(route) = TopicRouteData::decode(data) else {
        return;
    };
    for dialect in [Dialect::Legacy, Dialect::Standard] {
        let mut out = Vec::new();
        route.encode(dialect, &mut out);
        let back = TopicRouteData::decode(&out).expect("our own route body must decode");
        assert_eq!(route, back, "route changed on a trip through {dialect:?}");
    }
});
