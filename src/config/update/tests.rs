//! Unit tests of 318's rules: the black list, the protected keys, merging only
//! existing keys, and refusing a whole update for one bad value.

use super::*;

#[test]
fn update_black_list_upstream_keys() {
    for key in [
        "configBlackList",
        "configStorePath",
        "kvConfigPath",
        "rocketmqHome",
    ] {
        let mut c = Config::default();
        let before = c.clone();
        let err = c
            .apply_update(format!("{key}=/x\n").as_bytes())
            .unwrap_err();
        assert_eq!(
            err,
            UpdateError::BlackListed {
                key: key.to_string()
            }
        );
        assert_eq!(err.response_code(), 16);
        assert_eq!(err.to_string(), "Can not update config in black list.");
        assert_eq!(c, before);
    }
}

#[test]
fn update_black_list_ours_and_configured() {
    for key in [
        "bindAddress",
        "listenPort",
        "cores",
        "httpPort",
        "statsLogIntervalSeconds",
        "someStorePathDir",
        "logHome",
    ] {
        let mut c = Config::default();
        let err = c.apply_update(format!("{key}=1\n").as_bytes()).unwrap_err();
        assert_eq!(
            err,
            UpdateError::BlackListed {
                key: key.to_string()
            }
        );
    }
    // Entries of configBlackList, `;` or `,` separated.
    let mut c = Config::default();
    c.set(
        "configBlackList",
        "orderMessageEnable; clusterTest,waitSecondsForService",
    )
    .expect("set");
    for key in ["orderMessageEnable", "clusterTest", "waitSecondsForService"] {
        let err = c
            .apply_update(format!("{key}=true\n").as_bytes())
            .unwrap_err();
        assert_eq!(
            err,
            UpdateError::BlackListed {
                key: key.to_string()
            }
        );
    }
    // One black-listed key refuses the whole update.
    let err = c
        .apply_update(b"enableTopicList=false\norderMessageEnable=true\n")
        .unwrap_err();
    assert_eq!(
        err,
        UpdateError::BlackListed {
            key: "orderMessageEnable".to_string()
        }
    );
    assert!(c.enable_topic_list);
}

#[test]
fn path_keys_protected_even_with_empty_black_list() {
    let mut c = Config::default();
    c.set("configBlackList", "").expect("set");
    for key in [
        "configBlackList",
        "configStorePath",
        "kvConfigPath",
        "rocketmqHome",
        "bindAddress",
        "listenPort",
        "cores",
        "jsonCompatRelease",
    ] {
        let err = c
            .apply_update(format!("{key}=/tmp/evil\n").as_bytes())
            .unwrap_err();
        assert_eq!(
            err,
            UpdateError::BlackListed {
                key: key.to_string()
            }
        );
    }
    // Emptying the list in the same update is itself refused.
    let before = c.clone();
    let err = c
        .apply_update(b"configBlackList=\nkvConfigPath=/tmp/evil\n")
        .unwrap_err();
    assert_eq!(
        err,
        UpdateError::BlackListed {
            key: "configBlackList".to_string()
        }
    );
    assert!(c.kv_config_path.ends_with("kvConfig.json"));
    assert_eq!(c, before);
}

#[test]
fn update_merges_only_existing_keys() {
    let mut c = Config::default();
    c.raw_properties
        .insert("clientWorkerThreads".to_string(), "4".to_string());
    let changed = c
        .apply_update(b"orderMessageEnable=true\nnoSuchKey=1\nclientWorkerThreads=6\n")
        .expect("update");
    assert!(changed);
    assert!(c.order_message_enable);
    assert!(!c.raw_properties.contains_key("noSuchKey"));
    assert_eq!(c.get("clientWorkerThreads").as_deref(), Some("6"));
    assert!(!c.to_properties_text().contains("noSuchKey"));
    // Same values again: nothing changes.
    let changed = c
        .apply_update(b"orderMessageEnable=true\n")
        .expect("update");
    assert!(!changed);
    // Empty body.
    assert_eq!(c.apply_update(b""), Ok(false));
}

#[test]
fn update_bad_value_applies_nothing() {
    let mut c = Config::default();
    let before = c.clone();
    let err = c
        .apply_update(b"orderMessageEnable=true\nserverWorkerThreads=lots\n")
        .unwrap_err();
    assert!(matches!(err, UpdateError::BadValue { ref key, .. } if key == "serverWorkerThreads"));
    assert_eq!(err.response_code(), 1);
    assert_eq!(c, before);
}

#[test]
fn update_parse_error() {
    let mut c = Config::default();
    let err = c.apply_update(b"k=\\u12").unwrap_err();
    assert_eq!(
        err,
        UpdateError::Parse(PropertiesError::MalformedUnicodeEscape { line: 1 })
    );
    assert_eq!(err.response_code(), 1);
}

#[test]
fn reply_remarks_are_upstreams() {
    let black = UpdateError::BlackListed {
        key: "kvConfigPath".to_string(),
    };
    assert_eq!(black.remark(), "Can not update config in black list.");
    assert_eq!(black.remark(), black.to_string());
    let mut c = Config::default();
    let bad = c.apply_update(b"serverWorkerThreads=lots\n").unwrap_err();
    assert_eq!(bad.remark(), "string2Properties error");
    let unparsable = c.apply_update(b"k=\\u12").unwrap_err();
    assert_eq!(unparsable.remark(), "string2Properties error");
    assert_eq!(unparsable.response_code(), 1);
}

#[test]
fn unsupported_features_are_refused_whole() {
    let mut c = Config::default();
    let before = c.clone();
    let err = c
        .apply_update(b"enableTopicList=false\nenableControllerInNamesrv=true\n")
        .unwrap_err();
    assert_eq!(err.response_code(), 1);
    assert_eq!(
        err.remark(),
        "Can not update config: enableControllerInNamesrv=true is not supported: \
         the embedded controller is not available"
    );
    assert_eq!(c, before);
    let err = c.apply_update(b"clusterTest=true\n").unwrap_err();
    assert!(err
        .remark()
        .starts_with("Can not update config: clusterTest=true is not supported: "));
    // Off (the default) is accepted.
    assert_eq!(
        c.apply_update(b"clusterTest=false\nenableControllerInNamesrv=false\n"),
        Ok(false)
    );
}
