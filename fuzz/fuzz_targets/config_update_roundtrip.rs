//! UPDATE_NAMESRV_CONFIG (318) → persist → reload.
//!
//! `apply_update(body)` on a config holding two raw `-c` properties; if the
//! update is accepted, the text `Config::persist` writes (`to_store_text`, or the
//! old unescaped `to_properties_text` without the `store-text` feature) is parsed
//! back and also reloaded with `Config::load_file` as the next start would.
//!
//! Properties: what is persisted reloads to exactly the accepted values — every
//! key's parsed value equals `config.get(key)`, no key appears that the config
//! does not hold (an escaped line break must not smuggle in a protected key), and
//! the reload succeeds with every field and raw property unchanged.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use namesrv::config::{parse_properties, Config, FIELDS};

fn store_text(config: &Config) -> String {
    #[cfg(feature = "store-text")]
    return config.to_store_text();
    #[cfg(not(feature = "store-text"))]
    return config.to_properties_text();
}

fuzz_target!(|data: &[u8]| {
    let mut config = Config::default();
    config
        .raw_properties
        .insert("custom.note".to_string(), "hello".to_string());
    config
        .raw_properties
        .insert("rocketmq.client.flag".to_string(), "on".to_string());
    if config.apply_update(data).is_err() {
        return;
    }
    let text = store_text(&config);
    let persisted: BTreeMap<String, String> = parse_properties(text.as_bytes())
        .unwrap_or_else(|e| panic!("persisted text does not parse: {e}\n{text}"))
        .into_iter()
        .collect();
    for (key, value) in &persisted {
        assert_eq!(
            Some(value),
            config.get(key).as_ref(),
            "key {key:?} reloads to another value than accepted"
        );
    }
    for f in FIELDS {
        assert!(
            persisted.contains_key(f.key),
            "field {} not persisted",
            f.key
        );
    }
    for key in config.raw_properties.keys() {
        assert!(
            persisted.contains_key(key),
            "raw property {key} not persisted"
        );
    }
    assert_eq!(
        persisted.len(),
        FIELDS.len() + config.raw_properties.len(),
        "persisted text holds keys the config does not"
    );

    // The next start: the same file through the real loader.
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("namesrv.properties");
    std::fs::write(&path, text.as_bytes()).expect("write the store file");
    let reloaded = Config::load_file(&path)
        .unwrap_or_else(|e| panic!("the next start would fail: {e}\n{text}"));
    for f in FIELDS {
        if f.key == "configStorePath" {
            continue; // the loader sets it to the file it read
        }
        assert_eq!(
            reloaded.get(f.key),
            config.get(f.key),
            "field {} changed on persist → reload",
            f.key
        );
    }
    assert_eq!(reloaded.raw_properties, config.raw_properties);
});
