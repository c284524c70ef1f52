//! JSON header codec (serialize type 0): the fastjson form of Java's `RemotingCommand`.
//!
//! Written with properties in alphabetical order, nulls left out and no whitespace;
//! read leniently (any order, unknown keys ignored, numbers/booleans in `extFields`
//! turned into strings, language by name or ordinal).

use serde_json::Value;

use super::ext_order::java_ext_order;
use super::json_fast as fast;
use super::json_keys::{property, Prop};
use crate::command::{LanguageCode, RemotingCommand};
use crate::error::HeaderError;
use crate::java_utf8;
use crate::json::{value_to_string, Dialect};
use crate::json_escape::{process_release, write_json_string, JsonRelease};

/// Writes `cmd` as `RemotingSerializable.encode(remotingCommand)` does in the
/// process's release ([`process_release`]).
pub fn encode(cmd: &RemotingCommand, out: &mut Vec<u8>) {
    encode_as(cmd, process_release(), out);
}

/// Writes `cmd` exactly as `RemotingSerializable.encode(remotingCommand)` does in
/// `release` (fastjson 1.2.83 or fastjson2): bean properties sorted by name, nulls
/// left out, no whitespace.
pub fn encode_as(cmd: &RemotingCommand, release: JsonRelease, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"code\":");
    write_i32(out, cmd.code);
    if let Some(ext) = &cmd.ext_fields {
        out.extend_from_slice(b",\"extFields\":{");
        for (i, (k, v)) in java_ext_order(ext).into_iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_str(out, k, release);
            out.push(b':');
            write_str(out, v, release);
        }
        out.push(b'}');
    }
    out.extend_from_slice(b",\"flag\":");
    write_i32(out, cmd.flag);
    if let Some(lang) = cmd.language {
        out.extend_from_slice(b",\"language\":\"");
        out.extend_from_slice(lang.name().as_bytes());
        out.push(b'"');
    }
    out.extend_from_slice(b",\"opaque\":");
    write_i32(out, cmd.opaque);
    if let Some(remark) = &cmd.remark {
        out.extend_from_slice(b",\"remark\":");
        write_str(out, remark, release);
    }
    // Only JSON headers are written by this codec, so the property is constant.
    out.extend_from_slice(b",\"serializeTypeCurrentRPC\":\"JSON\",\"version\":");
    write_i32(out, cmd.version);
    out.push(b'}');
}

/// Decimal digits of an int, as Java's `Integer.toString`.
fn write_i32(out: &mut Vec<u8>, v: i32) {
    let mut buf = [0u8; 11];
    let mut pos = buf.len();
    // Work on the unsigned magnitude so i32::MIN does not overflow.
    let mut n = v.unsigned_abs();
    loop {
        pos -= 1;
        buf[pos] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        pos -= 1;
        buf[pos] = b'-';
    }
    out.extend_from_slice(&buf[pos..]);
}

/// A header string: the legacy (default-feature) escaping of `release`, the same
/// rule bodies use (`RemotingSerializable#encode` serializes the header bean).
fn write_str(out: &mut Vec<u8>, s: &str, release: JsonRelease) {
    write_json_string(out, s, Dialect::Legacy, release);
}

fn bad(msg: impl Into<String>) -> HeaderError {
    HeaderError::malformed(msg)
}

/// Reads a JSON header leniently, as fastjson's bean deserializer does.
///
/// Missing ints are 0 and a missing `language` is JAVA (the Java field defaults,
/// except `opaque`, whose Java default is a fresh request id); an unknown language
/// name or ordinal, or an explicit null, gives `None`.
///
/// Malformed UTF-8 inside strings is read as fastjson2 reads it (see
/// [`java_utf8::repair_json_strings`]), only once the header failed as it is.
pub fn decode(bytes: &[u8]) -> Result<RemotingCommand, HeaderError> {
    if let Some(cmd) = fast::decode(bytes) {
        return Ok(cmd);
    }
    match decode_general(bytes) {
        Err(_) if std::str::from_utf8(bytes).is_err() => {
            decode_general(&java_utf8::repair_json_strings(bytes)?)
        }
        decoded => decoded,
    }
}

/// Both JSON decoders on the same bytes, for the coverage-guided fuzz target that
/// checks they agree (`fuzz/fuzz_targets/header_json.rs`): the fast path's answer
/// (`None` = it gave up) and the general decoder's.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub fn decode_both_paths(
    bytes: &[u8],
) -> (
    Option<RemotingCommand>,
    Result<RemotingCommand, HeaderError>,
) {
    (fast::decode(bytes), decode_general(bytes))
}

/// The general decoder: any JSON fastjson would accept for this bean.
fn decode_general(bytes: &[u8]) -> Result<RemotingCommand, HeaderError> {
    // serde_json bounds nesting depth, so hostile input cannot overflow the stack.
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| bad(format!("invalid JSON header: {e}")))?;
    let Value::Object(map) = value else {
        return Err(bad("JSON header is not an object"));
    };
    let mut cmd = RemotingCommand {
        language: Some(LanguageCode::Java),
        ..RemotingCommand::default()
    };
    for (key, v) in map {
        match property(&key) {
            Some(Prop::Code) => cmd.code = int_field("code", &v)?,
            Some(Prop::Flag) => cmd.flag = int_field("flag", &v)?,
            Some(Prop::Opaque) => cmd.opaque = int_field("opaque", &v)?,
            Some(Prop::Version) => cmd.version = int_field("version", &v)?,
            Some(Prop::Language) => cmd.language = language_field(&v)?,
            Some(Prop::Remark) => cmd.remark = value_to_string(v),
            Some(Prop::ExtFields) => cmd.ext_fields = ext_field(v)?,
            // serializeTypeCurrentRPC is ignored (the type byte wins), as are
            // unknown keys.
            None => {}
        }
    }
    Ok(cmd)
}

/// An `int` property: a JSON integer in range, or a string holding one (fastjson
/// accepts quoted numbers); null (or an empty/"null" string) is 0.
fn int_field(name: &str, v: &Value) -> Result<i32, HeaderError> {
    let parsed = match v {
        Value::Null => Some(0),
        // serde_json reads the integer `-0` as the float -0.0 (to keep its sign);
        // it is 0, as fastjson and the fast path read it. (`-0.0` gives the same
        // value and is let through with it; fastjson reads it as 0 too.)
        Value::Number(n) if n.as_f64().is_some_and(|f| f == 0.0 && f.is_sign_negative()) => Some(0),
        Value::Number(n) => n.as_i64().and_then(|n| i32::try_from(n).ok()),
        Value::String(s) if s.is_empty() || s == "null" || s == "NULL" => Some(0),
        Value::String(s) => s.parse::<i32>().ok(),
        _ => None,
    };
    parsed.ok_or_else(|| bad(format!("`{name}` is not an int ({})", kind(v))))
}

/// `language`: a name (case-insensitive, as fastjson's enum lookup also tries the
/// lower-cased hash) or an ordinal; unknown values decode to `None`.
fn language_field(v: &Value) -> Result<Option<LanguageCode>, HeaderError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(LanguageCode::from_name_ignore_case(s)),
        // fastjson rejects an out-of-range ordinal; we are lenient and treat it like
        // an unknown name.
        Value::Number(n) => Ok(n.as_i64().and_then(LanguageCode::from_ordinal)),
        _ => Err(bad(format!(
            "`language` is not a name or ordinal ({})",
            kind(v)
        ))),
    }
}

fn ext_field(v: Value) -> Result<Option<Vec<(String, String)>>, HeaderError> {
    match v {
        Value::Null => Ok(None),
        Value::Object(map) => Ok(Some(
            map.into_iter()
                .filter_map(|(k, v)| value_to_string(v).map(|v| (k, v)))
                .collect(),
        )),
        other => Err(bad(format!(
            "`extFields` is not an object ({})",
            kind(&other)
        ))),
    }
}

/// The JSON type of a value, for error messages (values themselves may be huge).
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod fast_path_tests {
    use super::*;

    const SAMPLES: &[&str] = &[
        r#"{"code":105,"extFields":{"topic":"TopicTest"},"flag":0,"language":"JAVA","opaque":7,"serializeTypeCurrentRPC":"JSON","version":479}"#,
        r#"{"code":103,"extFields":{"brokerId":"0","b":"x","b":"y"},"flag":2,"language":"GO","opaque":-5,"version":400}"#,
        r#"{ "code" : 17 , "flag":1, "remark":"r", "language":"java", "extra":[1], "opaque":1}"#,
        r#"{"code":1,"extFields":{"n":1,"b":true},"opaque":2147483647}"#,
        r#"{"CODE":9,"opaque":1}"#,
        r#"{"code":"12","opaque":null,"extFields":null,"language":9}"#,
        r#"{"code":1.5}"#,
        r#"{"code":1,"remark":"a\"b","extFields":{"k\u0041":"v"}}"#,
        r#"{}"#,
        r#"{"code":1} x"#,
        r#"{"code":99999999999}"#,
        r#"{"code":1,"z":-0.5e3,"y":"s","x":false}"#,
        // Found by fuzz/fuzz_targets/header_json.rs: the fast path read `-0` as 0,
        // the general decoder refused it.
        r#"{ "code" : -0,"l":1}"#,
    ];

    #[test]
    fn fast_path_agrees_with_the_general_decoder() {
        let mut inputs: Vec<Vec<u8>> = SAMPLES.iter().map(|s| s.as_bytes().to_vec()).collect();
        // Mutations: truncations and single-byte changes of every sample.
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        for s in SAMPLES {
            for cut in 0..s.len() {
                inputs.push(s.as_bytes()[..cut].to_vec());
            }
            for _ in 0..300 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let mut m = s.as_bytes().to_vec();
                let at = (seed as usize) % m.len();
                let alphabet = b"{}[]\":,0-9aetn\\ \x00\xff";
                m[at] = alphabet[(seed >> 32) as usize % alphabet.len()];
                inputs.push(m);
            }
        }
        let mut fast_hits = 0;
        for input in &inputs {
            if let Some(fast) = fast::decode(input) {
                fast_hits += 1;
                let general = decode_general(input).unwrap_or_else(|e| {
                    panic!(
                        "fast accepted what general rejects ({e}): {:?}",
                        String::from_utf8_lossy(input)
                    )
                });
                assert_eq!(fast, general, "input {:?}", String::from_utf8_lossy(input));
            }
        }
        assert!(fast_hits > 100, "fast path too rarely taken: {fast_hits}");
    }
}
