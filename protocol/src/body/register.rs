//! REGISTER_BROKER bodies: plain JSON (`RegisterBrokerBody`, or a bare
//! `TopicConfigSerializeWrapper` before V3_0_11) and the zlib-compressed binary form.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Read, Write};

use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use flate2::Compression;

use super::error::BodyError;
use super::lenient::value_to_string;
use super::register_plain::{with_topic_cap, RegisterBodyWire, WrapperWire};
use super::registration::{RegisterBrokerBody, TopicConfig};
use super::route::TopicQueueMappingInfo;
use super::tables::DataVersion;
use crate::java_table::{java_hash_order_in, java_string_hash, order_str_keys, JavaTable};
use crate::java_utf8;
use crate::json::{parse_dialect, Dialect, JsonOut};

/// V3_0_11: from this version on the body is a `RegisterBrokerBody`.
pub(super) const V3_0_11: i32 = 37;
/// V5_0_0: compressed bodies carry the mapping section from here on.
const V5_0_0: i32 = 413;
/// Ceiling on the inflated size of a compressed body used by [`RegisterBrokerBody::decode`]
/// (zip-bomb guard). Servers pass their own, tighter one through [`DecodeLimits`].
pub const MAX_INFLATED_REGISTER_BODY: usize = 256 << 20;

/// What one register body may cost to decode: both ceilings are checked while
/// decoding, so a body over one stops there, with its memory never allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Most bytes a compressed body may inflate to.
    pub max_inflated: usize,
    /// Most topics one body may list.
    pub max_topics: usize,
}

impl Default for DecodeLimits {
    /// What [`RegisterBrokerBody::decode`] applies: the inflate guard only.
    fn default() -> Self {
        DecodeLimits {
            max_inflated: MAX_INFLATED_REGISTER_BODY,
            max_topics: usize::MAX,
        }
    }
}
/// Growth step while reading one length-prefixed part, so a lying prefix only
/// costs what the stream really holds.
const READ_CHUNK: usize = 64 << 10;

impl RegisterBrokerBody {
    /// Decodes a body as the Java NameServer would for a request of `version`
    /// with the header's `compressed` flag. `None` or empty → empty table and a
    /// zero DataVersion.
    pub fn decode(body: Option<&[u8]>, compressed: bool, version: i32) -> Result<Self, BodyError> {
        Self::decode_limited(body, compressed, version, DecodeLimits::default())
    }

    /// [`Self::decode`] under `limits`: a body inflating past `max_inflated`
    /// fails with [`BodyError::InflatedTooLarge`], one listing more than
    /// `max_topics` topics with [`BodyError::TooManyTopics`].
    ///
    /// The topics come in the iteration order of upstream's `topicConfigTable`, a
    /// `new ConcurrentHashMap<>()` that fastjson2 and `RegisterBrokerBody#decode`
    /// fill in body order: upstream registers them in that order, which fixes
    /// their places in the topicQueueTable's chains.
    pub fn decode_limited(
        body: Option<&[u8]>,
        compressed: bool,
        version: i32,
        limits: DecodeLimits,
    ) -> Result<Self, BodyError> {
        let mut decoded = Self::decode_in_body_order(body, compressed, version, limits)?;
        java_hash_order_in(
            &mut decoded.topic_configs,
            JavaTable::ConcurrentHashMap,
            |tc| java_string_hash(&tc.topic_name),
        );
        Ok(decoded)
    }

    fn decode_in_body_order(
        body: Option<&[u8]>,
        compressed: bool,
        version: i32,
        limits: DecodeLimits,
    ) -> Result<Self, BodyError> {
        // `MQVersion.value2Version` indexes an array: a negative version throws
        // before the body is looked at.
        if version < 0 {
            return Err(BodyError::Other(format!(
                "invalid request version {version}"
            )));
        }
        let modern = version >= V3_0_11;
        let body = match body {
            Some(b) if !b.is_empty() => b,
            // Java sees an empty body as null: a fresh RegisterBrokerBody (empty
            // filter list) or a bare wrapper (no filter list at all).
            _ => {
                return Ok(RegisterBrokerBody {
                    filter_server_list: if modern { Some(Vec::new()) } else { None },
                    ..Default::default()
                })
            }
        };
        if !modern {
            // Old brokers send a bare TopicConfigSerializeWrapper, compressed or not.
            let wrapper: WrapperWire = with_topic_cap(limits.max_topics, || parse_dialect(body))?;
            let mut out = wrapper.into_body();
            out.filter_server_list = None;
            return Ok(out);
        }
        if compressed {
            return decode_compressed(body, version, limits);
        }
        let wire: RegisterBodyWire = with_topic_cap(limits.max_topics, || parse_dialect(body))?;
        let mut out = wire
            .topic_config_serialize_wrapper
            .unwrap_or_default()
            .into_body();
        out.filter_server_list = wire.filter_server_list;
        Ok(out)
    }

    /// The plain JSON form a 5.x broker sends (legacy dialect).
    ///
    /// `topicConfigTable` is keyed by `topicName` (later duplicates win) in the
    /// order of the broker's `new ConcurrentHashMap<>()`; `mappingDataVersion`
    /// repeats `dataVersion` (this type keeps no separate one) and
    /// `topicQueueMappingDetailMap` is empty. A `None` filter list is written `[]`.
    pub fn encode_plain(&self) -> Vec<u8> {
        let mut buf = Vec::with_capacity(256 + self.topic_configs.len() * 200);
        let mut w = JsonOut::new(&mut buf, Dialect::Legacy);
        w.begin_object();
        w.key("filterServerList");
        w.str_array(self.filter_server_list.iter().flatten());
        w.key("topicConfigSerializeWrapper");
        w.begin_object();
        w.key("dataVersion");
        self.data_version.write_json(&mut w);
        w.key("mappingDataVersion");
        self.data_version.write_json(&mut w);

        w.key("topicConfigTable");
        let mut table: Vec<(&str, &TopicConfig)> = Vec::with_capacity(self.topic_configs.len());
        let mut index: HashMap<&str, usize> = HashMap::with_capacity(self.topic_configs.len());
        for tc in &self.topic_configs {
            match index.get(tc.topic_name.as_str()) {
                Some(&i) => table[i].1 = tc,
                None => {
                    index.insert(&tc.topic_name, table.len());
                    table.push((&tc.topic_name, tc));
                }
            }
        }
        order_str_keys(&mut table, Dialect::Legacy, JavaTable::ConcurrentHashMap);
        w.begin_object();
        for (name, tc) in table {
            w.key(name);
            tc.write_json(&mut w);
        }
        w.end_object();

        w.key("topicQueueMappingDetailMap");
        w.begin_object();
        w.end_object();

        w.key("topicQueueMappingInfoMap");
        let mut infos: Vec<(&String, &TopicQueueMappingInfo)> = self.mapping_infos.iter().collect();
        order_str_keys(&mut infos, Dialect::Legacy, JavaTable::HashMap);
        w.begin_object();
        for (topic, info) in infos {
            w.key(topic);
            info.write_json(&mut w);
        }
        w.end_object();

        w.end_object();
        w.end_object();
        buf
    }

    /// The zlib-compressed form for a request of `version` (level 9, as Java's
    /// `DeflaterOutputStream(new Deflater(BEST_COMPRESSION))`). Topics and
    /// mappings are written in the order held; the mapping section only from
    /// V5_0_0 on (older NameServers stop reading before it). Meaningless below
    /// V3_0_11, where the NameServer expects a plain wrapper.
    pub fn encode_compressed(&self, version: i32) -> Vec<u8> {
        let mut raw = Vec::with_capacity(128 + self.topic_configs.len() * 64);

        let mut part = Vec::with_capacity(64);
        self.data_version.encode(&mut part);
        push_part(&mut raw, &part);

        push_i32(&mut raw, len_i32(self.topic_configs.len()));
        for tc in &self.topic_configs {
            part.clear();
            tc.encode_line(&mut part);
            push_part(&mut raw, &part);
        }

        part.clear();
        JsonOut::new(&mut part, Dialect::Legacy)
            .str_array(self.filter_server_list.iter().flatten());
        push_part(&mut raw, &part);

        if version >= V5_0_0 {
            push_i32(&mut raw, len_i32(self.mapping_infos.len()));
            for info in self.mapping_infos.values() {
                part.clear();
                info.encode(Dialect::Legacy, &mut part);
                push_part(&mut raw, &part);
            }
        }

        let mut enc = ZlibEncoder::new(Vec::with_capacity(raw.len() / 4 + 64), Compression::best());
        // Writing into a Vec cannot fail.
        let _ = enc.write_all(&raw);
        enc.finish().unwrap_or_default()
    }
}

impl TopicConfig {
    /// Writes the config as fastjson does (5.x `TopicConfig`, properties sorted;
    /// `attributes` is a `new HashMap<>()`).
    pub fn write_json(&self, w: &mut JsonOut<'_>) {
        w.begin_object();
        w.key("attributes");
        write_attributes(w, &self.attributes);
        w.field_bool("order", self.order);
        w.field_i32("perm", self.perm);
        w.field_i32("readQueueNums", self.read_queue_nums);
        w.field_str("topicFilterType", &self.topic_filter_type);
        w.field_str("topicName", &self.topic_name);
        w.field_i32("topicSysFlag", self.topic_sys_flag);
        w.field_i32("writeQueueNums", self.write_queue_nums);
        w.end_object();
    }

    /// `TopicConfig.encode()`: `name readQ writeQ perm topicFilterType attrsJSON`.
    pub fn encode_line(&self, out: &mut Vec<u8>) {
        // `write!` into a Vec cannot fail.
        let _ = write!(
            out,
            "{} {} {} {} {} ",
            self.topic_name,
            self.read_queue_nums,
            self.write_queue_nums,
            self.perm,
            self.topic_filter_type
        );
        write_attributes(&mut JsonOut::new(out, Dialect::Legacy), &self.attributes);
    }

    /// `TopicConfig.decode(String)` as the compressed register body uses it:
    /// split on single spaces (Java `split(" ")`, trailing empties dropped),
    /// at least 5 parts, a strict filter type; bad attributes JSON is ignored.
    /// `topicSysFlag`/`order` are not in the line and stay 0/false.
    pub fn decode_line(line: &str) -> Result<Self, BodyError> {
        // Only the first six parts are read, so only they are collected: a line
        // of millions of spaces must not become millions of slices. Whether the
        // rest holds anything decides if trailing empties among the six count.
        let mut pieces = line.split(' ');
        let mut parts: Vec<&str> = pieces.by_ref().take(6).collect();
        if !pieces.any(|p| !p.is_empty()) {
            while parts.last() == Some(&"") {
                parts.pop();
            }
        }
        let bad = || BodyError::BadTopicConfig(truncated_for_message(line));
        if parts.len() < 5 {
            // Java leaves topicName null and the table put throws.
            return Err(bad());
        }
        let int = |s: &str| s.parse::<i32>().map_err(|_| bad());
        let topic_filter_type = match parts[4] {
            t @ ("SINGLE_TAG" | "MULTI_TAG") => super::registration::filter_type(t),
            _ => return Err(bad()),
        };
        let mut tc = TopicConfig {
            topic_name: parts[0].to_string(),
            read_queue_nums: int(parts[1])?,
            write_queue_nums: int(parts[2])?,
            perm: int(parts[3])?,
            topic_filter_type,
            topic_sys_flag: 0,
            order: false,
            attributes: BTreeMap::new(),
        };
        if let Some(attrs) = parts.get(5) {
            if let Ok(Some(map)) =
                parse_dialect::<Option<BTreeMap<String, serde_json::Value>>>(attrs.as_bytes())
            {
                tc.attributes = map
                    .into_iter()
                    .filter_map(|(k, v)| Some((k, value_to_string(v)?)))
                    .collect();
            }
        }
        Ok(tc)
    }
}

/// A bad line as quoted in an error (and so in a reply remark): its start only.
fn truncated_for_message(line: &str) -> String {
    const QUOTED: usize = 256;
    match line.char_indices().nth(QUOTED) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line.to_string(),
    }
}

fn write_attributes(w: &mut JsonOut<'_>, attrs: &BTreeMap<String, String>) {
    let mut entries: Vec<(&String, &String)> = attrs.iter().collect();
    order_str_keys(&mut entries, w.dialect(), JavaTable::HashMap);
    w.begin_object();
    for (k, v) in entries {
        w.key(k);
        w.str(v);
    }
    w.end_object();
}

fn len_i32(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn push_i32(out: &mut Vec<u8>, v: i32) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn push_part(out: &mut Vec<u8>, part: &[u8]) {
    push_i32(out, len_i32(part.len()));
    out.extend_from_slice(part);
}

// ---------------------------------------------------------------------------
// Compressed form
// ---------------------------------------------------------------------------

/// Reads length-prefixed parts from the inflating stream, lazily like Java's
/// `InflaterInputStream` (data past what is needed is never inflated), with
/// memory bounded by what the stream really holds.
struct Parts<R> {
    r: R,
    inflated: usize,
    /// Most bytes the stream may yield.
    cap: usize,
}

impl<R: Read> Parts<R> {
    fn io_err(e: io::Error) -> BodyError {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            BodyError::Truncated
        } else {
            BodyError::Inflate(e)
        }
    }

    fn read_i32(&mut self) -> Result<i32, BodyError> {
        if self.inflated + 4 > self.cap {
            return Err(BodyError::InflatedTooLarge { limit: self.cap });
        }
        let mut b = [0u8; 4];
        self.r.read_exact(&mut b).map_err(Self::io_err)?;
        self.inflated += 4;
        Ok(i32::from_be_bytes(b))
    }

    fn read_part(&mut self) -> Result<Vec<u8>, BodyError> {
        let len = self.read_i32()?;
        // Java: `new byte[negative]` throws.
        let len = usize::try_from(len)
            .map_err(|_| BodyError::Other(format!("negative length {len} in register body")))?;
        // Refused before a byte of it is inflated: a part claiming more than the
        // budget left either lies (truncated) or blows the ceiling.
        if len > self.cap.saturating_sub(self.inflated) {
            return Err(BodyError::InflatedTooLarge { limit: self.cap });
        }
        // Never trust `len` for the allocation: grow as bytes actually arrive.
        let mut buf = Vec::with_capacity(len.min(READ_CHUNK));
        let got = (&mut self.r)
            .take(len as u64)
            .read_to_end(&mut buf)
            .map_err(Self::io_err)?;
        if got < len {
            return Err(BodyError::Truncated);
        }
        self.inflated += len;
        Ok(buf)
    }
}

/// The DataVersion of a compressed body: it is the stream's first part, so only
/// that much is inflated.
pub(super) fn peek_compressed_version(body: &[u8]) -> Option<DataVersion> {
    // A version is a few dozen bytes; anything longer is not the usual shape.
    const CAP: usize = 4 << 10;
    let mut p = Parts {
        r: ZlibDecoder::new(body).take(CAP as u64 + 1),
        inflated: 0,
        cap: CAP,
    };
    DataVersion::decode(&p.read_part().ok()?).ok()
}

fn decode_compressed(
    body: &[u8],
    version: i32,
    limits: DecodeLimits,
) -> Result<RegisterBrokerBody, BodyError> {
    let cap = limits.max_inflated;
    // The stream itself stops one byte past the ceiling, whatever `Parts` counts.
    let mut p = Parts {
        r: ZlibDecoder::new(body).take((cap as u64).saturating_add(1)),
        inflated: 0,
        cap,
    };

    let data_version = DataVersion::decode(&p.read_part()?)?;

    // A negative count just means no topics (Java's `for (i = 0; i < n; ...)`).
    let topic_count = p.read_i32()?;
    // Every listed topic is a line to read: refuse before inflating them.
    if usize::try_from(topic_count).is_ok_and(|n| n > limits.max_topics) {
        return Err(BodyError::TooManyTopics {
            limit: limits.max_topics,
        });
    }
    // No pre-allocation from the claimed count: it is untrusted.
    let mut topic_configs: Vec<TopicConfig> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for _ in 0..topic_count.max(0) {
        let part = p.read_part()?;
        // `RegisterBrokerBody#decode`: `new String(buffer, "UTF-8")`.
        let tc = TopicConfig::decode_line(&java_utf8::decode(&part))?;
        // Java keys the table by topicName: a repeated name replaces the entry.
        match index.get(&tc.topic_name) {
            Some(&i) => topic_configs[i] = tc,
            None => {
                index.insert(tc.topic_name.clone(), topic_configs.len());
                topic_configs.push(tc);
            }
        }
    }

    // Read as text first, as `new String(filterServerListBuffer, "UTF-8")` does.
    let filter_json = p.read_part()?;
    let filter_json = java_utf8::decode(&filter_json);
    // Java logs and keeps an empty list when this JSON is bad; `null` → null.
    let filter_server_list =
        match parse_dialect::<Option<Vec<serde_json::Value>>>(filter_json.as_bytes()) {
            Ok(Some(items)) => Some(items.into_iter().filter_map(value_to_string).collect()),
            Ok(None) => None,
            Err(_) => Some(Vec::new()),
        };

    let mut mapping_infos = BTreeMap::new();
    if version >= V5_0_0 {
        let count = p.read_i32()?;
        for _ in 0..count.max(0) {
            let info = TopicQueueMappingInfo::decode(&p.read_part()?)?;
            // Keyed by `info.topic`; a null key makes Java's ConcurrentHashMap throw.
            let topic = info.topic.clone().ok_or_else(|| {
                BodyError::Other("topic queue mapping info without topic".to_string())
            })?;
            mapping_infos.insert(topic, info);
        }
    }

    Ok(RegisterBrokerBody {
        data_version,
        topic_configs,
        mapping_infos,
        filter_server_list,
    })
}

/// `bodyCrc32` as brokers compute it: CRC32 of the body bytes `& 0x7FFFFFFF`.
pub fn body_crc32(body: &[u8]) -> i32 {
    (crc32fast::hash(body) & 0x7FFF_FFFF) as i32
}
