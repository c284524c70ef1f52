//! A server with authentication on (`authenticationEnabled=true`), for every test
//! file that needs one.

use std::path::PathBuf;

use super::{write_props, TestServer};

/// A server with `authenticationEnabled=true` over the accounts file `yaml` (and
/// `extra` keys); also returns the accounts file's path.
pub fn auth_server(yaml: &str, extra: &[(&str, &str)]) -> (TestServer, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let acl = dir.path().join("plain_acl.yml");
    std::fs::write(&acl, yaml).expect("write accounts");
    let conf = dir.path().join("namesrv.properties");
    let kv = dir.path().join("kvConfig.json");
    let acl_str = acl.display().to_string();
    let mut keys = vec![
        ("authenticationEnabled", "true"),
        ("authConfigPath", acl_str.as_str()),
    ];
    keys.extend_from_slice(extra);
    write_props(&conf, &kv, &keys);
    (TestServer::start_in(dir, conf, kv), acl)
}
