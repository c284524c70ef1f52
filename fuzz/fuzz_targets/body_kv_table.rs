//! KvTable bodies (`{"table":{..}}`: GET_KVLIST_BY_NAMESPACE replies and
//! register replies), in either dialect.
//!
//! Properties: no panic; decode → encode (both dialects) → decode is exact.
#![no_main]

use libfuzzer_sys::fuzz_target;
use protocol::body::KvTable;
use protocol::json::Dialect;

fuzz_target!(|data: &[u8]| {
    let Ok(table) = KvTable::decode(data) else {
        return;
    };
    for dialect in [Dialect::Legacy, Dialect::Standard] {
        let mut out = Vec::new();
        table.encode(dialect, &mut out);
        let back = KvTable::decode(&out).expect("our own KV table must decode");
        assert_eq!(
            table, back,
            "KV table changed on a trip through {dialect:?}"
        );
    }
});
