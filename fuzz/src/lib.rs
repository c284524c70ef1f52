//! Helpers shared by the fuzz targets: how two decoded values are compared when
//! a codec is allowed to normalize them.

use protocol::{LanguageCode, RemotingCommand, SerializeType};

/// Ext fields as a set: encoders write them in Java HashMap order, decoders may
/// keep that order or sort.
pub fn sorted_ext(cmd: &RemotingCommand) -> Option<Vec<(String, String)>> {
    cmd.ext_fields.clone().map(|mut v| {
        v.sort();
        v
    })
}

/// What `cmd` must look like after being written in `ty` and read back.
///
/// Both encoders write an unknown (`None`) language as JAVA's field default.
/// The binary codec has no way to say "empty" apart from null for the remark and
/// the ext map, and cannot hold keys longer than an `i16` length (skipped).
/// Codes and versions are 16 bits wide in the binary layout.
pub fn normalized(cmd: &RemotingCommand, ty: SerializeType) -> RemotingCommand {
    let mut c = cmd.clone();
    if c.language.is_none() {
        c.language = Some(LanguageCode::Java);
    }
    if ty == SerializeType::Rocketmq {
        c.code = i32::from(c.code as i16);
        c.version = i32::from(c.version as i16);
        c.remark = c.remark.filter(|r| !r.is_empty());
        c.ext_fields = c.ext_fields.map(|ext| dedup_last_wins(&ext));
        if let Some(ext) = c.ext_fields.as_mut() {
            ext.retain(|(k, _)| !k.is_empty() && i16::try_from(k.len()).is_ok());
            // A zero value length reads back as null, which drops the key.
            ext.retain(|(_, v)| !v.is_empty());
        }
        c.ext_fields = c.ext_fields.filter(|e| !e.is_empty());
    }
    c.ext_fields = c.ext_fields.map(|ext| {
        let mut ext = dedup_last_wins(&ext);
        ext.sort();
        ext
    });
    c
}

/// A Java `HashMap.put` sequence: a repeated key keeps its last value.
fn dedup_last_wins(ext: &[(String, String)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::with_capacity(ext.len());
    for (k, v) in ext {
        match out.iter_mut().find(|(ek, _)| ek == k) {
            Some(slot) => slot.1.clone_from(v),
            None => out.push((k.clone(), v.clone())),
        }
    }
    out
}

/// Asserts two commands are equal once both are [`normalized`] for `ty`.
pub fn assert_same_after(ty: SerializeType, before: &RemotingCommand, after: &RemotingCommand) {
    let a = normalized(before, ty);
    let b = normalized(after, ty);
    assert_eq!(a, b, "command changed on a trip through {}", ty.name());
}

/// Asserts that `value`, written in each JSON dialect, reads back equal.
pub fn assert_dialect_round_trip<T, E: std::fmt::Debug>(
    what: &str,
    value: &T,
    encode: impl Fn(&T, protocol::json::Dialect, &mut Vec<u8>),
    decode: impl Fn(&[u8]) -> Result<T, E>,
) where
    T: PartialEq + std::fmt::Debug,
{
    for dialect in [
        protocol::json::Dialect::Legacy,
        protocol::json::Dialect::Standard,
    ] {
        let mut out = Vec::new();
        encode(value, dialect, &mut out);
        let back = decode(&out).unwrap_or_else(|e| panic!("our own {what} must decode: {e:?}"));
        assert_eq!(*value, back, "{what} changed on a trip through {dialect:?}");
    }
}

/// A register body's topic configs by name (the order of the set is not kept).
pub fn by_name(
    body: &protocol::body::RegisterBrokerBody,
) -> std::collections::BTreeMap<&str, &protocol::body::TopicConfig> {
    body.topic_configs
        .iter()
        .map(|tc| (tc.topic_name.as_str(), tc))
        .collect()
}
