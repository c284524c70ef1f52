//! The 318 round trip: an accepted UPDATE_NAMESRV_CONFIG, persisted with
//! [`Config::to_store_text`] and loaded again with [`Config::load_file`], gives
//! back exactly the accepted values (the bug was a value holding a line break or
//! a trailing `\u`, persisted unescaped).

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;

/// Chars that matter to the format, weighted up, and then any char at all.
fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => prop::sample::select(vec![
            '\\', '\n', '\r', '\t', '\u{c}', ' ', '=', ':', '#', '!', 'u', '0', 'a', 'D',
            '\u{0}', '\u{1f}', '\u{7f}', '\u{e9}', '\u{4e2d}', '\u{ffff}', '\u{1f600}',
        ]),
        1 => any::<char>(),
    ]
}

fn tricky_string() -> impl Strategy<Value = String> {
    prop::collection::vec(tricky_char(), 0..16).prop_map(|v| v.into_iter().collect())
}

/// A key a `-c` file may carry that 318 may then update: no field, not protected.
fn raw_key() -> impl Strategy<Value = String> {
    tricky_string()
        .prop_map(|s| format!("x{s}"))
        .prop_filter("a field or a protected key", |k| {
            Config::field(k).is_none() && !Config::is_update_protected(k)
        })
}

/// Writes `config` the way the writer does and loads it back.
fn persist_and_reload(config: &Config) -> Config {
    config.persist().expect("persist");
    Config::load_file(Path::new(&config.config_store_path)).expect("reload")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// A `-c` file with arbitrary raw keys and values, then a 318 setting a
    /// string field and those keys to arbitrary values: each step is exact, and so
    /// is the reload of what 318 persisted.
    #[test]
    fn update_persist_reload_is_exact(
        first in prop::collection::btree_map(raw_key(), tricky_string(), 0..4),
        second in prop::collection::vec(tricky_string(), 4),
        env in tricky_string(),
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("namesrv.properties");
        let mut file: Vec<(&str, &str)> = vec![("listenPort", "0")];
        file.extend(first.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        std::fs::write(&path, store_text(file)).expect("write");
        let mut config = Config::load_file(&path).expect("load");
        prop_assert_eq!(&config.raw_properties, &first);

        let updates: BTreeMap<&str, &str> = first
            .keys()
            .zip(&second)
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let mut body: Vec<(&str, &str)> = vec![("productEnvName", env.as_str())];
        body.extend(updates.iter().map(|(k, v)| (*k, *v)));
        config.apply_update(store_text(body).as_bytes()).expect("update accepted");
        prop_assert_eq!(config.product_env_name.as_str(), java_trim(&env));
        for (k, v) in &updates {
            prop_assert_eq!(config.raw_properties.get(*k).map(String::as_str), Some(*v));
        }

        let reloaded = persist_and_reload(&config);
        prop_assert_eq!(&reloaded, &config);
        prop_assert_eq!(reloaded.to_properties_text(), config.to_properties_text());
    }

    /// Whatever raw 318 body is accepted (escapes, line breaks, continuations,
    /// Latin-1 bytes), persisting and reloading reproduces the accepted config.
    #[test]
    fn any_accepted_body_round_trips(
        tail in prop::collection::vec(prop::sample::select(
            b"\\\\\\\\un0aDdF8=:#! \t\r\n\x0cxk\xe9\x85".to_vec()), 0..40)
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = Config {
            config_store_path: dir.path().join("namesrv.properties").to_string_lossy().into_owned(),
            ..Config::default()
        };
        config.raw_properties.insert("xk".to_string(), "1".to_string());
        let mut body = b"productEnvName=".to_vec();
        body.extend_from_slice(&tail);
        if config.apply_update(&body).is_ok() {
            prop_assert_eq!(&persist_and_reload(&config), &config);
        }
    }
}

#[test]
fn issue_bodies_round_trip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("namesrv.properties");
    let kv = dir.path().join("kv.json");
    std::fs::write(
        &path,
        format!(
            "listenPort=19876\nbindAddress=127.0.0.1\nkvConfigPath={}\n",
            kv.display()
        ),
    )
    .expect("write");
    let cases: [(&[u8], &str); 5] = [
        (
            br"productEnvName=x\nkvConfigPath=/tmp/evil.json\nlistenPort=53021",
            "x\nkvConfigPath=/tmp/evil.json\nlistenPort=53021",
        ),
        (
            br"productEnvName=x\rbindAddress=0.0.0.0\u000amaxFrameLength=2147483647",
            "x\rbindAddress=0.0.0.0\nmaxFrameLength=2147483647",
        ),
        (br"productEnvName=x\\u", "x\\u"),
        (br"productEnvName=a\\b\\\\c\\", "a\\b\\\\c\\"),
        (br"productEnvName=\ \ lead#!=:", "lead#!=:"),
    ];
    for (body, accepted) in cases {
        let mut config = Config::load_file(&path).expect("load");
        config.apply_update(body).expect("accepted");
        assert_eq!(config.product_env_name, accepted);
        // Twice: nothing drifts from one save and reload to the next.
        let once = persist_and_reload(&config);
        let twice = persist_and_reload(&once);
        for c in [&once, &twice] {
            assert_eq!(c, &config);
            assert_eq!(c.listen_port, 19876);
            assert_eq!(c.bind_address, "127.0.0.1");
            assert_eq!(c.max_frame_length, 16_777_216);
            assert_eq!(Path::new(&c.kv_config_path), kv);
        }
    }
}

#[test]
fn lone_surrogate_update_is_refused() {
    let mut config = Config::default();
    let before = config.clone();
    let err = config
        .apply_update(br"productEnvName=\uD800")
        .expect_err("refused");
    assert_eq!(
        err,
        UpdateError::Parse(PropertiesError::LoneSurrogate { line: 1 })
    );
    assert_eq!(err.response_code(), 1);
    assert_eq!(config, before);
}

#[test]
fn limits_are_protected_from_318() {
    for key in [
        "maxFrameLength",
        "kvMaxValueLength",
        "kvMaxEntries",
        "kvMaxTotalBytes",
    ] {
        let mut config = Config::default();
        let err = config
            .apply_update(format!("{key}=2147483647").as_bytes())
            .expect_err("refused");
        assert_eq!(
            err,
            UpdateError::BlackListed {
                key: key.to_string()
            }
        );
        assert_eq!(config, Config::default());
    }
}
