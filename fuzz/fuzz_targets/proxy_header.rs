//! The PROXY protocol header a connection may start with (`proxy_header::parse`).
//!
//! Properties: no panic; a header spans at most the input and at most its
//! version's bound; every strict prefix of a header's bytes needs more (so the
//! verdict never depends on how the bytes were split); a prefix of an input is
//! never read as a different header or as "not a header" when the whole was one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use protocol::proxy_header::{self, Parse, Version, V1_MAX_HEADER, V2_MAX_HEADER};

fuzz_target!(|data: &[u8]| {
    let whole = proxy_header::parse(data);
    if let Ok(Parse::Header(h)) = &whole {
        assert!(h.len <= data.len());
        let bound = match h.version {
            Version::V1 => V1_MAX_HEADER,
            Version::V2 => V2_MAX_HEADER,
        };
        assert!(h.len <= bound);
        assert_eq!(proxy_header::parse(&data[..h.len]), whole);
        for cut in [0, h.len / 2, h.len.saturating_sub(1)] {
            if cut < h.len {
                assert_eq!(proxy_header::parse(&data[..cut]), Ok(Parse::NeedMore));
            }
        }
    }
    if whole != Ok(Parse::NotProxy) {
        for cut in [1, data.len() / 2] {
            if cut < data.len() {
                let early = proxy_header::parse(&data[..cut]);
                assert_ne!(early, Ok(Parse::NotProxy), "a prefix read as not a header");
                if early != Ok(Parse::NeedMore) {
                    assert_eq!(early, whole, "a prefix disagrees with the whole");
                }
            }
        }
    }
});
