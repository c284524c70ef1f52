//! The configuration and KV store through their public API: a `-c` file, 319's
//! text, a 318 update persisted and reloaded, and the KV file life cycle.

use std::fs;
use std::path::Path;

use namesrv::config::{Config, UpdateError, FIELDS};
use namesrv::durable::write_file_durably;
use namesrv::kv::{KvStore, ORDER_TOPIC_CONFIG};

fn bak(path: &Path) -> std::path::PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(".bak");
    s.into()
}

#[test]
fn config_file_update_persist_reload() {
    let dir = tempfile::tempdir().expect("tempdir");
    let conf = dir.path().join("namesrv.conf");
    let kv_path = dir.path().join("kv").join("kvConfig.json");
    fs::write(
        &conf,
        format!(
            "# namesrv\r\nlistenPort : 19876\r\nkvConfigPath={}\r\norderMessageEnable = TRUE\r\n\
             controllerStorePath=/data/controller\r\nclientWorkerThreads=4\r\n",
            kv_path.display()
        ),
    )
    .expect("write conf");

    let mut config = Config::load_file(&conf).expect("load");
    assert_eq!(config.listen_port, 19876);
    assert!(config.order_message_enable);
    assert_eq!(Path::new(&config.kv_config_path), kv_path);
    assert_eq!(Path::new(&config.config_store_path), conf);

    // 319: every field plus the raw properties, sorted.
    let text = config.to_properties_text();
    assert_eq!(text.lines().count(), FIELDS.len() + 2);
    assert!(text.contains("\nclientWorkerThreads=4\n"));
    assert!(text.contains("\ncontrollerStorePath=/data/controller\n"));
    assert!(text.contains("\norderMessageEnable=true\n"));

    // 318: path-like raw keys and ours are refused; known keys merge.
    for body in [
        "controllerStorePath=/tmp/x",
        "kvConfigPath=/tmp/x",
        "listenPort=1",
        "bindAddress=127.0.0.1",
    ] {
        assert!(matches!(
            config.apply_update(body.as_bytes()),
            Err(UpdateError::BlackListed { .. })
        ));
    }
    assert_eq!(
        config.apply_update(b"clientWorkerThreads=8\nenableTopicList=false\nbogus=1\n"),
        Ok(true)
    );
    config.persist().expect("persist");
    assert!(bak(&conf).exists());

    let reloaded = Config::load_file(&conf).expect("reload");
    assert!(!reloaded.enable_topic_list);
    assert_eq!(reloaded.get("clientWorkerThreads").as_deref(), Some("8"));
    assert_eq!(reloaded.get("bogus"), None);
    assert_eq!(reloaded, config);
}

#[test]
fn kv_file_life_cycle() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("namesrv").join("kvConfig.json");

    let mut kv = KvStore::load(&path).expect("missing file is empty");
    kv.put(ORDER_TOPIC_CONFIG, "TopicA", Some("broker-a:4".to_string()));
    kv.persist().expect("persist");
    assert_eq!(
        fs::read_to_string(&path).expect("read"),
        r#"{"configTable":{"ORDER_TOPIC_CONFIG":{"TopicA":"broker-a:4"}}}"#
    );

    kv.delete(ORDER_TOPIC_CONFIG, "TopicA");
    kv.persist().expect("persist");
    assert_eq!(
        fs::read_to_string(bak(&path)).expect("bak"),
        r#"{"configTable":{"ORDER_TOPIC_CONFIG":{"TopicA":"broker-a:4"}}}"#
    );
    let again = KvStore::load(&path).expect("reload");
    assert_eq!(
        again.namespace(ORDER_TOPIC_CONFIG).map(|m| m.len()),
        Some(0)
    );

    write_file_durably(&path, b"{not json").expect("write");
    let msg = KvStore::load(&path).expect_err("malformed").to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
}
