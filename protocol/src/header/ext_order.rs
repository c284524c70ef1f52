//! The order both header codecs write ext fields in.

use crate::java_table::{java_hash_order, java_string_hash};

/// The ext fields as Java holds them in `RemotingCommand#extFields`, a
/// `HashMap<String, String>`: a repeated key keeps its last value (a `put`
/// replaces), and iteration follows the HashMap's bucket order, which both
/// fastjson (`JSON#toJSONString`) and `RocketMQSerializable#mapSerialize` write in.
pub(crate) fn java_ext_order(ext: &[(String, String)]) -> Vec<(&str, &str)> {
    let mut items: Vec<(&str, &str)> = Vec::with_capacity(ext.len());
    for (k, v) in ext {
        // Headers hold a handful of fields, so a linear probe is cheapest.
        match items.iter_mut().find(|(ek, _)| *ek == k.as_str()) {
            Some(slot) => slot.1 = v.as_str(),
            None => items.push((k.as_str(), v.as_str())),
        }
    }
    java_hash_order(&mut items, |(k, _)| java_string_hash(k));
    items
}
