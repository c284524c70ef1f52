//! The KV store file loader, which reads `kvConfigPath` at start: its parsing
//! half `KvStore::from_file_bytes` (`KvStore::load` reads the file, or its
//! `.bak` when the file is empty, and hands the bytes to it).
//!
//! Properties: no panic; a loaded store written with `encode_file` (what
//! `persist` writes) loads back to the same table, and encodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use namesrv::kv::KvStore;

fuzz_target!(|data: &[u8]| {
    let Ok(store) = KvStore::from_file_bytes("/fuzz/kvConfig.json", data) else {
        return;
    };

    let bytes = store.encode_file();
    let again =
        KvStore::from_file_bytes("/fuzz/kvConfig.json", &bytes).expect("our own KV file must load");
    assert_eq!(
        again.table(),
        store.table(),
        "KV table changed on persist → load"
    );
    assert_eq!(again.encode_file(), bytes, "KV file encoding is not stable");
});
