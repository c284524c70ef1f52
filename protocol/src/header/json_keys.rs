//! The properties of Java's `RemotingCommand` a JSON header may set, by key, as
//! fastjson's bean deserializer (`JavaBeanDeserializer#smartMatch`) finds them.
//! Shared by the general JSON decoder and its fast path, which leaves keys that
//! only fold to a property to the general one.

#[derive(Clone, Copy)]
pub(super) enum Prop {
    Code,
    Flag,
    Opaque,
    Version,
    Language,
    Remark,
    ExtFields,
}

fn exact_property(key: &str) -> Option<Prop> {
    Some(match key {
        "code" => Prop::Code,
        "flag" => Prop::Flag,
        "opaque" => Prop::Opaque,
        "version" => Prop::Version,
        "language" => Prop::Language,
        "remark" => Prop::Remark,
        "extFields" => Prop::ExtFields,
        _ => return None,
    })
}

/// The property a key sets. Exact names are the fast path; otherwise fastjson's
/// "smart match" retries ignoring case, `_` and `-` (none of our names collide
/// under that folding).
pub(super) fn property(key: &str) -> Option<Prop> {
    exact_property(key).or_else(|| {
        let folded: String = key
            .chars()
            .filter(|c| *c != '_' && *c != '-')
            .map(|c| c.to_ascii_lowercase())
            .collect();
        match folded.as_str() {
            "extfields" => Some(Prop::ExtFields),
            other => exact_property(other),
        }
    })
}
