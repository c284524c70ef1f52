//! KvTable bodies (`{"table":{..}}`: GET_KVLIST_BY_NAMESPACE replies and
//! register replies), in either dialect.
//!
//! Properties: no panic; decode → encode (both dialects) → decode is exact.
#![no_main]

use libfuzzer_sys::fuzz_target;
use namesrv_fuzz::assert_dialect_round_trip;
use protocol::body::KvTable;

fuzz_target!(|data: &[u8]| {
    let Ok(table) = KvTable::decode(data) else {
        return;
    };
    assert_dialect_round_trip("KV table", &table, KvTable::encode, KvTable::decode);
});
