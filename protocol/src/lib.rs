//! The RocketMQ remoting protocol as the NameServer speaks it.
//!
//! # Layout
//! - [`frame`]: length-prefixed frames (`total_len | hdr_info | header | body`).
//! - [`command`]: the decoded request/response header ([`command::RemotingCommand`]),
//!   with [`header_json`] (serialize type 0) and [`header_binary`] (type 1) codecs.
//! - [`codes`]: request and response codes, language codes, versions.
//! - [`json`]: a writer that produces fastjson-identical bytes in both dialects, a
//!   reader for the legacy dialect (unquoted integer keys), and Java HashMap ordering.
//! - [`body`]: the bodies the NameServer reads and writes (routes, cluster info,
//!   topic lists, KV tables, register bodies plain and zlib-compressed).
//!
//! The crate is shared by the server and by `loadgen`, so both speak exactly the
//! same bytes.

pub mod body;
pub mod codes;
pub mod command;
pub mod frame;
pub mod header_binary;
pub mod header_json;
pub mod json;

pub use command::{LanguageCode, RemotingCommand, SerializeType};
pub use frame::{Frame, FrameError};
