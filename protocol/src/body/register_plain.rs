//! The plain JSON REGISTER_BROKER body (`RegisterBrokerBody`, or the bare
//! `TopicConfigSerializeWrapper` of brokers before V3_0_11), as read by
//! [`super::register::RegisterBrokerBody::decode_limited`].

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use super::error::BodyError;
use super::lenient::{null_default, string_map};
use super::registration::{filter_type, RegisterBrokerBody, TopicConfig, SINGLE_TAG};
use super::route::MappingInfoWire;
use super::tables::{DataVersion, DataVersionWire};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(super) struct RegisterBodyWire {
    pub(super) topic_config_serialize_wrapper: Option<WrapperWire>,
    /// Missing → the Java field default (empty list); explicit `null` → `None`.
    pub(super) filter_server_list: Option<Vec<String>>,
}

impl Default for RegisterBodyWire {
    fn default() -> Self {
        RegisterBodyWire {
            topic_config_serialize_wrapper: None,
            filter_server_list: Some(Vec::new()),
        }
    }
}

/// `TopicConfigSerializeWrapper` / `TopicConfigAndMappingSerializeWrapper`;
/// `topicQueueMappingDetailMap` and `mappingDataVersion` are parsed and dropped.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(super) struct WrapperWire {
    #[serde(deserialize_with = "null_default")]
    topic_config_table: TopicTableWire,
    data_version: Option<DataVersionWire>,
    topic_queue_mapping_info_map: Option<BTreeMap<String, Option<MappingInfoWire>>>,
}

impl WrapperWire {
    pub(super) fn into_body(self) -> RegisterBrokerBody {
        RegisterBrokerBody {
            // A wrapper without one keeps its field initializer, `new DataVersion()`.
            data_version: self
                .data_version
                .map_or_else(DataVersion::fresh, Into::into),
            topic_configs: self.topic_config_table.0,
            mapping_infos: self
                .topic_queue_mapping_info_map
                .unwrap_or_default()
                .into_iter()
                .filter_map(|(k, v)| Some((k, v?.into())))
                .collect(),
            filter_server_list: Some(Vec::new()),
        }
    }
}

thread_local! {
    /// The topic ceiling of the plain decode running on this thread (serde's
    /// derive gives the table's visitor no other way to learn it).
    static TOPIC_CAP: Cell<usize> = const { Cell::new(usize::MAX) };
    /// Set when that ceiling stopped the decode.
    static TOPIC_CAP_HIT: Cell<bool> = const { Cell::new(false) };
}

/// Runs a plain-JSON decode with `cap` as its topic ceiling; a decode the
/// ceiling stopped becomes [`BodyError::TooManyTopics`].
pub(super) fn with_topic_cap<T>(
    cap: usize,
    decode: impl FnOnce() -> Result<T, serde_json::Error>,
) -> Result<T, BodyError> {
    let previous = TOPIC_CAP.with(|c| c.replace(cap));
    TOPIC_CAP_HIT.with(|h| h.set(false));
    let result = decode();
    TOPIC_CAP.with(|c| c.set(previous));
    let hit = TOPIC_CAP_HIT.with(|h| h.replace(false));
    match result {
        Err(_) if hit => Err(BodyError::TooManyTopics { limit: cap }),
        other => Ok(other?),
    }
}

/// `topicConfigTable` in body order; a repeated key replaces the earlier value in
/// place (as a Java map put), null values are skipped.
#[derive(Default)]
struct TopicTableWire(Vec<TopicConfig>);

impl<'de> Deserialize<'de> for TopicTableWire {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TopicTableWire;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a topicConfigTable object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                // Keys borrowed from the body where it has no escapes: only
                // the duplicate check reads them.
                let mut index: HashMap<BodyStr<'de>, usize> = HashMap::new();
                let mut configs: Vec<TopicConfig> = Vec::new();
                let cap = TOPIC_CAP.with(|c| c.get());
                while let Some((key, value)) =
                    map.next_entry::<BodyStr<'de>, Option<TopicConfigWire>>()?
                {
                    // Java's map could not hold a null value; skip it.
                    let Some(tc) = value else { continue };
                    match index.get(&key) {
                        Some(&i) => configs[i] = tc.into(),
                        None if configs.len() >= cap => {
                            TOPIC_CAP_HIT.with(|h| h.set(true));
                            return Err(serde::de::Error::custom("too many topics"));
                        }
                        None => {
                            index.insert(key, configs.len());
                            configs.push(tc.into());
                        }
                    }
                }
                Ok(TopicTableWire(configs))
            }
        }
        d.deserialize_map(V)
    }
}

/// A string of the body, borrowed when it holds no escape.
#[derive(PartialEq, Eq, Hash)]
struct BodyStr<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for BodyStr<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = BodyStr<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                // As `String`'s visitor says it, so errors read as before.
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(BodyStr(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(BodyStr(Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(BodyStr(Cow::Owned(v)))
            }
        }
        d.deserialize_string(V)
    }
}

/// `topicFilterType`: the two Java names become static strings, anything else
/// is kept as sent (the wire accepts any string here).
struct FilterTypeWire(Cow<'static, str>);

impl<'de> Deserialize<'de> for FilterTypeWire {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = BodyStr::deserialize(d)?;
        Ok(FilterTypeWire(match s.0 {
            Cow::Borrowed(b) => filter_type(b),
            Cow::Owned(o) => match filter_type(&o) {
                Cow::Borrowed(b) => Cow::Borrowed(b),
                Cow::Owned(_) => Cow::Owned(o),
            },
        }))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct TopicConfigWire {
    #[serde(deserialize_with = "null_default")]
    topic_name: String,
    #[serde(deserialize_with = "null_default")]
    read_queue_nums: i32,
    #[serde(deserialize_with = "null_default")]
    write_queue_nums: i32,
    #[serde(deserialize_with = "null_default")]
    perm: i32,
    topic_filter_type: Option<FilterTypeWire>,
    #[serde(deserialize_with = "null_default")]
    topic_sys_flag: i32,
    #[serde(deserialize_with = "null_default")]
    order: bool,
    #[serde(deserialize_with = "string_map")]
    attributes: BTreeMap<String, String>,
}

impl Default for TopicConfigWire {
    /// The Java field initializers (16/16/6/SINGLE_TAG).
    fn default() -> Self {
        let d = TopicConfig::default();
        TopicConfigWire {
            topic_name: d.topic_name,
            read_queue_nums: d.read_queue_nums,
            write_queue_nums: d.write_queue_nums,
            perm: d.perm,
            topic_filter_type: Some(FilterTypeWire(d.topic_filter_type)),
            topic_sys_flag: d.topic_sys_flag,
            order: d.order,
            attributes: d.attributes,
        }
    }
}

impl From<TopicConfigWire> for TopicConfig {
    fn from(w: TopicConfigWire) -> Self {
        TopicConfig {
            topic_name: w.topic_name,
            read_queue_nums: w.read_queue_nums,
            write_queue_nums: w.write_queue_nums,
            perm: w.perm,
            topic_filter_type: w
                .topic_filter_type
                .map_or(Cow::Borrowed(SINGLE_TAG), |f| f.0),
            topic_sys_flag: w.topic_sys_flag,
            order: w.order,
            attributes: w.attributes,
        }
    }
}
