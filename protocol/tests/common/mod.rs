//! Helpers shared by the protocol crate's integration tests: building the raw,
//! length-prefixed and compressed parts of register bodies.

#![allow(dead_code)] // each test file uses a different part

use std::io::Write;

/// `raw` compressed as a broker does (`java.util.zip.Deflater`, zlib format).
pub fn zlib(raw: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(raw).unwrap();
    e.finish().unwrap()
}

/// Appends `s` with its big-endian i32 length in front.
pub fn part(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as i32).to_be_bytes());
    out.extend_from_slice(s);
}
