//! What a connection needs of its byte stream, so that [`super::connection`] serves
//! a plaintext socket and a TLS session over one alike. `Connection` is generic
//! over it: each kind of stream gets its own monomorphized frame loop, and the
//! plaintext one calls glommio's `TcpStream` directly (no boxing, no dynamic
//! dispatch on the read path).

use std::future::Future;
use std::io;
use std::net::Shutdown;
use std::time::Duration;

use futures_lite::{AsyncRead, AsyncWrite};
use glommio::net::TcpStream;

/// A connection's byte stream. The socket options act on the TCP socket under it.
pub trait Transport: AsyncRead + AsyncWrite + Unpin {
    /// How long one read may wait for bytes (`None`: forever); it then fails with
    /// `TimedOut`.
    fn set_read_timeout(&self, dur: Option<Duration>) -> io::Result<()>;
    /// How long one write may wait for room; it then fails with `TimedOut`.
    fn set_write_timeout(&self, dur: Option<Duration>) -> io::Result<()>;
    fn set_nodelay(&self, on: bool) -> io::Result<()>;
    /// Ends the connection in both directions (a TLS session says so first).
    fn shutdown(&mut self) -> impl Future<Output = io::Result<()>>;
}

impl Transport for TcpStream {
    fn set_read_timeout(&self, dur: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, dur).map_err(io::Error::from)
    }

    fn set_write_timeout(&self, dur: Option<Duration>) -> io::Result<()> {
        TcpStream::set_write_timeout(self, dur).map_err(io::Error::from)
    }

    fn set_nodelay(&self, on: bool) -> io::Result<()> {
        TcpStream::set_nodelay(self, on).map_err(io::Error::from)
    }

    async fn shutdown(&mut self) -> io::Result<()> {
        TcpStream::shutdown(self, Shutdown::Both)
            .await
            .map_err(io::Error::from)
    }
}
