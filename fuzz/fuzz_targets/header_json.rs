//! The JSON header codec (serialize type 0).
//!
//! Properties: no panic; the fast path never disagrees with the general decoder
//! (when it answers, the general decoder accepts the same bytes with the same
//! result); `decode` accepts more than the general decoder only for malformed
//! UTF-8; decode → encode → decode gives the same command, and a second encode
//! gives the same bytes; the command also survives the binary codec.
#![no_main]

use libfuzzer_sys::fuzz_target;
use namesrv_fuzz::assert_same_after;
use protocol::header::{binary as header_binary, json as header_json};
use protocol::SerializeType;

fuzz_target!(|data: &[u8]| {
    let (fast, general) = header_json::decode_both_paths(data);
    if let Some(fast) = &fast {
        match &general {
            Ok(g) => assert_eq!(fast, g, "fast path and general decoder disagree"),
            Err(e) => panic!("fast path accepted what the general decoder rejects: {e}"),
        }
    }
    let decoded = header_json::decode(data);
    match (&decoded, &general) {
        (Ok(d), Ok(g)) => assert_eq!(d, g),
        (Err(_), Err(_)) => {}
        // Malformed UTF-8 is read as fastjson2 reads it, once the general
        // decoder has refused the bytes as they are.
        (Ok(_), Err(_)) if std::str::from_utf8(data).is_err() => {}
        _ => panic!("decode and the general decoder differ on acceptance"),
    }
    let Ok(cmd) = decoded else { return };

    let mut json = Vec::new();
    header_json::encode(&cmd, &mut json);
    let back = header_json::decode(&json).expect("our own JSON header must decode");
    assert_same_after(SerializeType::Json, &cmd, &back);
    // A command read back from our own bytes encodes to the same bytes again.
    // (Not `json` itself: an unknown language is left out, as fastjson leaves out
    // a null field, and reads back as JAVA, the Java field default.)
    let mut json2 = Vec::new();
    header_json::encode(&back, &mut json2);
    let again = header_json::decode(&json2).expect("our own JSON header must decode");
    let mut json3 = Vec::new();
    header_json::encode(&again, &mut json3);
    assert_eq!(json2, json3, "JSON encoding is not stable");

    let mut bin = Vec::new();
    header_binary::encode(&cmd, &mut bin);
    let from_bin = header_binary::decode(&bin).expect("our own binary header must decode");
    assert_same_after(SerializeType::Rocketmq, &cmd, &from_bin);
});
