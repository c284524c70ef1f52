//! The RocketMQ remoting protocol as the NameServer speaks it.
//!
//! # Layout
//! Modules read bottom-up; each imports only the ones above it:
//! - [`codes`]: request and response codes, flags, versions.
//! - [`error`]: [`HeaderError`] (a header codec's) and [`FrameError`] (framing's,
//!   which carries a header error).
//! - [`command`]: the decoded request/response header, [`RemotingCommand`], with
//!   [`SerializeType`] and [`LanguageCode`]; plain data, no codec.
//! - [`json`]: a writer that produces fastjson-identical bytes in both dialects and
//!   a reader for the legacy dialect (unquoted integer keys).
//! - [`json_escape`]: how each release's encoder escapes a string (bodies and
//!   JSON headers), and the process's [`json_escape::JsonRelease`].
//! - [`java_table`]: Java's hashing and the iteration order of its hash tables.
//! - `java_utf8`: bytes to text as Java's `new String(bytes, UTF_8)` reads them
//!   (headers and the compressed register body), and fastjson2's reading of
//!   malformed UTF-8 in a JSON header.
//! - [`header`]: the header codecs, [`header::json`] (serialize type 0, with its
//!   fast path) and [`header::binary`] (type 1); [`header::encode`] and
//!   [`header::decode`] pick one by type.
//! - [`frame`]: length-prefixed frames (`total_len | hdr_info | header | body`):
//!   [`Frame::parse`], [`frame::next_request`] (the server's decoder, which reads
//!   a body-less frame in place) and [`frame::encode`].
//! - [`proxy_header`]: the PROXY protocol v1/v2 header a load balancer may put
//!   before a connection's first frame (pure parser; the server does the I/O).
//! - [`body`]: the bodies the NameServer reads and writes (routes, cluster info,
//!   topic lists, KV tables, register bodies plain and zlib-compressed).
//!
//! - [`acl`]: request signatures (`AclClientRPCHook`): sign and verify.
//!
//! The crate is shared by the server and by `loadgen`, so both speak exactly the
//! same bytes.

pub mod acl;
pub mod body;
pub mod codes;
pub mod command;
pub mod error;
pub mod frame;
pub mod header;
pub mod java_table;
pub(crate) mod java_utf8;
pub mod json;
pub mod json_escape;
pub mod proxy_header;

pub use command::{LanguageCode, RemotingCommand, SerializeType};
pub use error::{FrameError, HeaderError};
pub use frame::Frame;
