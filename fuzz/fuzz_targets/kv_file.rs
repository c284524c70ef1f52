//! The KV store file loader (`KvStore::load`), which reads `kvConfigPath` at
//! start. The input is written to a file in a fresh temp dir and loaded.
//!
//! Properties: no panic; a loaded store written with `encode_file` (what
//! `persist` writes) loads back to the same table, and encodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use namesrv::kv::KvStore;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("kvConfig.json");
    std::fs::write(&path, data).expect("write the KV file");
    let Ok(store) = KvStore::load(&path) else { return };

    let bytes = store.encode_file();
    let again_path = dir.path().join("kvConfig.again.json");
    std::fs::write(&again_path, &bytes).expect("write the re-encoded KV file");
    let again = KvStore::load(&again_path).expect("our own KV file must load");
    assert_eq!(again.table(), store.table(), "KV table changed on persist → load");
    assert_eq!(again.encode_file(), bytes, "KV file encoding is not stable");
});
