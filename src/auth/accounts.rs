//! The accounts file: YAML in the shape of RocketMQ 4.x `plain_acl.yml`, read as
//! `PlainPermissionManager#load` reads it: `globalWhiteRemoteAddresses` (peers that
//! pass everything) and `accounts` (accessKey, secretKey, whiteRemoteAddress,
//! admin). Topic and group permissions are accepted and ignored: a name server has
//! none to check.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use protocol::acl::SigningKey;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use super::address::{AddressError, AddressPattern};

/// `PlainPermissionManager#checkPlainAccessConfig`: both keys longer than this.
const MIN_KEY_CHARS: usize = 7;
/// How much of an access key an error message repeats.
const SHOWN_KEY_CHARS: usize = 64;
/// Keys of an account upstream uses for topic and group permissions.
const PERMISSION_KEYS: [&str; 4] = [
    "topicPerms",
    "groupPerms",
    "defaultTopicPerm",
    "defaultGroupPerm",
];
/// Top-level keys upstream writes itself and we have no use for.
const QUIET_TOP_KEYS: [&str; 1] = ["dataVersion"];
/// Named in errors of [`Accounts::parse`], which has no file.
const NO_FILE: &str = "(accounts text)";

#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    #[error("cannot read the accounts file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("accounts file {}: malformed YAML at line {line}: {message}", path.display())]
    Yaml {
        path: PathBuf,
        /// One-based; 0 when the parser gave no position.
        line: usize,
        message: String,
    },
    #[error("accounts file {}: {reason}", path.display())]
    Invalid { path: PathBuf, reason: String },
}

/// One account. `Debug` shows no secret.
#[derive(Clone)]
pub struct Account {
    pub access_key: String,
    pub admin: bool,
    secret_key: String,
    /// The secret as a prepared HMAC key (`protocol::acl::SigningKey`).
    key: SigningKey,
    white: AddressPattern,
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("access_key", &self.access_key)
            .field("admin", &self.admin)
            .field("white_remote_address", &self.white)
            .finish_non_exhaustive()
    }
}

impl Account {
    /// The HMAC key: the secret's UTF-8 bytes, as `AclSigner` takes `key.getBytes(UTF_8)`.
    pub fn secret(&self) -> &[u8] {
        self.secret_key.as_bytes()
    }

    /// [`Self::secret`] as a prepared HMAC key, made once when the file is read.
    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// Whether `peer` is in the account's `whiteRemoteAddress` (then it needs no signature).
    pub fn whitelisted(&self, peer: IpAddr) -> bool {
        self.white.matches(peer)
    }
}

/// Every account of the file, by access key, and the global whitelist.
#[derive(Clone, Default)]
pub struct Accounts {
    by_key: HashMap<String, Account>,
    global_white: Vec<AddressPattern>,
}

impl fmt::Debug for Accounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut keys: Vec<&String> = self.by_key.keys().collect();
        keys.sort();
        f.debug_struct("Accounts")
            .field("access_keys", &keys)
            .field("global_white_remote_addresses", &self.global_white)
            .finish()
    }
}

impl Accounts {
    /// Reads the YAML text of an accounts file (errors name no file; the server's loader, `reload::first_load`, names it).
    pub fn parse(yaml: &str) -> Result<Accounts, AccountsError> {
        Accounts::parse_from(yaml, Path::new(NO_FILE))
    }

    /// [`Accounts::parse`] of the text of `file`, which errors and warnings name.
    pub(super) fn parse_from(yaml: &str, file: &Path) -> Result<Accounts, AccountsError> {
        let raw: Option<RawFile> =
            serde_norway::from_str(yaml).map_err(|e| AccountsError::Yaml {
                path: file.to_path_buf(),
                line: e.location().map(|l| l.line()).unwrap_or(0),
                message: scrubbed(&e.to_string()),
            })?;
        let raw = raw.unwrap_or_default();
        let invalid = |reason: String| AccountsError::Invalid {
            path: file.to_path_buf(),
            reason,
        };
        let mut ignored = BTreeSet::new();
        for key in raw.rest.keys() {
            if !QUIET_TOP_KEYS.contains(&key.as_str()) {
                ignored.insert(key.clone());
            }
        }
        let mut global_white = Vec::new();
        for entry in raw.global_white_remote_addresses.unwrap_or_default() {
            let text = entry.into_text();
            global_white.push(
                AddressPattern::parse(&text)
                    .map_err(|e| invalid(format!("globalWhiteRemoteAddresses: {e}")))?,
            );
        }
        let mut by_key = HashMap::new();
        for (n, raw) in raw.accounts.unwrap_or_default().into_iter().enumerate() {
            ignored.extend(raw.rest.keys().cloned());
            let account = raw
                .build()
                .map_err(|reason| invalid(format!("account #{} {reason}", n + 1)))?;
            if by_key.contains_key(&account.access_key) {
                return Err(invalid(format!(
                    "account #{} (accessKey {}): the accessKey is already used by an earlier account",
                    n + 1,
                    shown(&account.access_key)
                )));
            }
            by_key.insert(account.access_key.clone(), account);
        }
        if !ignored.is_empty() {
            let keys: Vec<&str> = ignored.iter().map(String::as_str).collect();
            let permissions = keys.iter().any(|k| PERMISSION_KEYS.contains(k));
            tracing::warn!(
                file = %file.display(),
                keys = %keys.join(", "),
                "accounts file: keys ignored{}",
                if permissions {
                    " (a name server has no topic or group permissions to check)"
                } else {
                    ""
                }
            );
        }
        Ok(Accounts {
            by_key,
            global_white,
        })
    }

    /// Whether `peer` is in `globalWhiteRemoteAddresses` (it passes every check).
    pub fn globally_whitelisted(&self, peer: IpAddr) -> bool {
        self.global_white.iter().any(|p| p.matches(peer))
    }

    pub fn get(&self, access_key: &str) -> Option<&Account> {
        self.by_key.get(access_key)
    }

    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

/// A YAML error without the values it quotes, which in a misindented file can
/// be a secret. serde names the value it could not take after `invalid type:` or
/// `invalid value:` (`invalid type: string "...", expected a sequence at line 1
/// column 11`): that part is dropped whole, keeping what was expected and where.
/// Anywhere else every double-quoted run is blanked.
fn scrubbed(message: &str) -> String {
    for marker in ["invalid type:", "invalid value:"] {
        if let Some(at) = message.find(marker) {
            let head = &message[..at + marker.len()];
            // The expected type is serde's text; the last ", expected" is it
            // even if the value itself holds those words.
            let tail = message[at..]
                .rfind(", expected")
                .map(|i| &message[at + i..])
                .or_else(|| message.rfind(" at line").map(|i| &message[i..]))
                .unwrap_or("");
            return format!("{head} (value not shown){tail}");
        }
    }
    without_quoted_values(message)
}

/// `message` with every double-quoted run blanked; a `\"` inside a run (how
/// `{:?}` prints a quote) does not end it.
pub(super) fn without_quoted_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut quoted = false;
    let mut escaped = false;
    for c in message.chars() {
        if quoted {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => quoted = false,
                _ => {}
            }
        } else if c == '"' {
            out.push_str("\"...\"");
            quoted = true;
        } else {
            out.push(c);
        }
    }
    out
}

/// At most [`SHOWN_KEY_CHARS`] of an access key, quoted.
fn shown(key: &str) -> String {
    let cut: String = key.chars().take(SHOWN_KEY_CHARS).collect();
    format!("{cut:?}")
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawFile {
    #[serde(default)]
    global_white_remote_addresses: Option<Vec<Scalar>>,
    #[serde(default)]
    accounts: Option<Vec<RawAccount>>,
    #[serde(flatten)]
    rest: HashMap<String, serde_norway::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAccount {
    #[serde(default)]
    access_key: Option<Scalar>,
    #[serde(default)]
    secret_key: Option<Scalar>,
    #[serde(default)]
    white_remote_address: Option<Scalar>,
    #[serde(default)]
    admin: Option<Scalar>,
    #[serde(flatten)]
    rest: HashMap<String, serde_norway::Value>,
}

impl RawAccount {
    /// The account, or why not (never quoting the secret).
    fn build(self) -> Result<Account, String> {
        let access_key = self.access_key.map(Scalar::into_text).unwrap_or_default();
        let secret_key = self.secret_key.map(Scalar::into_text).unwrap_or_default();
        let named = format!("(accessKey {})", shown(&access_key));
        // Java's `String#length`: UTF-16 code units.
        if access_key.encode_utf16().count() < MIN_KEY_CHARS
            || secret_key.encode_utf16().count() < MIN_KEY_CHARS
        {
            return Err(format!(
                "{named}: accessKey and secretKey are required and must be longer than 6 characters"
            ));
        }
        let white = match self.white_remote_address {
            Some(s) => AddressPattern::parse(&s.into_text())
                .map_err(|e: AddressError| format!("{named}: whiteRemoteAddress: {e}"))?,
            None => AddressPattern::nothing(),
        };
        let admin = match self.admin {
            None | Some(Scalar::Null) => false,
            Some(Scalar::Bool(b)) => b,
            Some(Scalar::Text(t)) if t.eq_ignore_ascii_case("true") => true,
            Some(Scalar::Text(t)) if t.eq_ignore_ascii_case("false") => false,
            Some(_) => return Err(format!("{named}: admin must be true or false")),
        };
        Ok(Account {
            access_key,
            admin,
            key: SigningKey::new(secret_key.as_bytes()),
            secret_key,
            white,
        })
    }
}

/// A YAML scalar of any type: `secretKey: 12345678` in upstream's own example is
/// a number, which Java reads as the string of its digits. Integers are read by
/// YAML 1.2 rules (`0x1F` is 31, `017` and `1_000` stay as written); Java's
/// SnakeYAML reads YAML 1.1 (`017` is octal 15): docs/compat.md says to quote
/// such keys.
enum Scalar {
    Text(String),
    Bool(bool),
    Null,
}

impl Scalar {
    fn into_text(self) -> String {
        match self {
            Scalar::Text(t) => t,
            Scalar::Bool(b) => b.to_string(),
            Scalar::Null => String::new(),
        }
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Scalar, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar::Text(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
                Ok(Scalar::Text(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar::Text(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar::Text(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Scalar, E> {
                // Java's SnakeYAML prints such a number as a Java double
                // (`1.23456785E7`); rather than guess, ask for a quoted value.
                Err(E::custom(
                    "a number with a fraction or an exponent; quote the value",
                ))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar::Bool(v))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
                Ok(Scalar::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
                Ok(Scalar::Null)
            }
        }
        d.deserialize_any(V)
    }
}
