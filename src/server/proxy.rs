//! PROXY protocol (v1/v2) header in front of a connection's first bytes.

use std::net::SocketAddr;

use bytes::BytesMut;
use glommio::net::TcpStream;

use super::context::ShardContext;

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("bad PROXY protocol header")]
    Malformed,
}

/// Takes a PROXY protocol header off the front of `buf` (reading more from
/// `stream` if it is incomplete); `Some` is the client's real address.
pub async fn take_header(
    _stream: &mut TcpStream,
    _buf: &mut BytesMut,
    _ctx: &ShardContext,
) -> Result<Option<SocketAddr>, ProxyError> {
    Ok(None)
}
