//! The ROCKETMQ binary header codec (serialize type 1).
//!
//! Properties: no panic; decode → encode → decode gives the same command and a
//! second encode the same bytes; the command also survives the JSON codec.
#![no_main]

use libfuzzer_sys::fuzz_target;
use namesrv_fuzz::assert_same_after;
use protocol::header::{binary as header_binary, json as header_json};
use protocol::SerializeType;

fuzz_target!(|data: &[u8]| {
    let Ok(cmd) = header_binary::decode(data) else {
        return;
    };

    let mut bin = Vec::new();
    header_binary::encode(&cmd, &mut bin);
    let back = header_binary::decode(&bin).expect("our own binary header must decode");
    assert_same_after(SerializeType::Rocketmq, &cmd, &back);
    let mut bin2 = Vec::new();
    header_binary::encode(&back, &mut bin2);
    assert_eq!(bin, bin2, "binary encoding is not stable");

    let mut json = Vec::new();
    header_json::encode(&cmd, &mut json);
    let from_json = header_json::decode(&json).expect("our own JSON header must decode");
    assert_same_after(SerializeType::Json, &cmd, &from_json);
});
