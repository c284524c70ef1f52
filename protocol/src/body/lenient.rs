//! Serde helpers shared by the body decoders: fastjson leaves a field at its
//! default when the JSON says `null`, so the decoders do the same.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

/// `null` (or a missing field, with `#[serde(default)]`) → `T::default()`.
pub fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A map whose `null` values are dropped (fastjson never writes them, and
/// the Rust types cannot hold them).
pub fn map_skip_nulls<'de, D, K, V>(d: D) -> Result<BTreeMap<K, V>, D::Error>
where
    D: Deserializer<'de>,
    K: Ord + Deserialize<'de>,
    V: Deserialize<'de>,
{
    let m: Option<BTreeMap<K, Option<V>>> = Option::deserialize(d)?;
    Ok(m.unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .collect())
}

/// A list whose `null` elements are dropped.
pub fn vec_skip_nulls<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let v: Option<Vec<Option<T>>> = Option::deserialize(d)?;
    Ok(v.unwrap_or_default().into_iter().flatten().collect())
}

/// A Java long that the standard dialect may have written as a string
/// (beyond +-(2^53-1)); `null` → 0.
pub fn long_or_string<'de, D>(d: D) -> Result<i64, D::Error>
where
    D: Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Long {
        Num(i64),
        Str(String),
    }
    match Option::<Long>::deserialize(d)? {
        None => Ok(0),
        Some(Long::Num(n)) => Ok(n),
        Some(Long::Str(s)) => s.trim().parse().map_err(serde::de::Error::custom),
    }
}

pub use crate::json::value_to_string;

/// A `Map<String, String>` that tolerates non-string values.
pub fn string_map<'de, D>(d: D) -> Result<BTreeMap<String, String>, D::Error>
where
    D: Deserializer<'de>,
{
    let m: Option<BTreeMap<String, serde_json::Value>> = Option::deserialize(d)?;
    Ok(m.unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| Some((k, value_to_string(v)?)))
        .collect())
}
