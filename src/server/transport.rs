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

use super::signal::Signal;

/// A connection's byte stream. The socket options act on the TCP socket under it.
pub trait Transport: AsyncRead + AsyncWrite + Unpin {
    /// How long one read may wait for bytes (`None`: forever); it then fails with
    /// `TimedOut`.
    fn set_read_timeout(&self, dur: Option<Duration>) -> io::Result<()>;
    /// How long one write may wait for room; it then fails with `TimedOut`.
    fn set_write_timeout(&self, dur: Option<Duration>) -> io::Result<()>;
    fn set_nodelay(&self, on: bool) -> io::Result<()>;
    /// Whether a write can leave bytes inside the stream (a TLS session's records)
    /// that only [`Transport::flush_output`] sends; false for a plain socket, so the
    /// plaintext frame loop compiles the flush away.
    const BUFFERS_OUTPUT: bool;
    /// Sends what the stream holds of what was written (see `BUFFERS_OUTPUT`).
    fn flush_output(&mut self) -> impl Future<Output = io::Result<()>>;
    /// Ends the connection in both directions. A TLS session says so first unless
    /// `at_once` (the peer stopped taking bytes, or the drain ended); that goodbye
    /// is given up when `forced` fires or after [`GOODBYE_LIMIT`].
    fn shutdown(&mut self, at_once: bool, forced: &Signal) -> impl Future<Output = io::Result<()>>;
}

impl Transport for TcpStream {
    const BUFFERS_OUTPUT: bool = false;

    async fn flush_output(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn set_read_timeout(&self, dur: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, dur).map_err(io::Error::from)
    }

    fn set_write_timeout(&self, dur: Option<Duration>) -> io::Result<()> {
        TcpStream::set_write_timeout(self, dur).map_err(io::Error::from)
    }

    fn set_nodelay(&self, on: bool) -> io::Result<()> {
        TcpStream::set_nodelay(self, on).map_err(io::Error::from)
    }

    async fn shutdown(&mut self, _at_once: bool, _forced: &Signal) -> io::Result<()> {
        TcpStream::shutdown(self, Shutdown::Both)
            .await
            .map_err(io::Error::from)
    }
}

/// How long a closing TLS session may take to send its queued records and
/// close_notify: a peer that stops reading must not hold the close (nor a
/// shutdown's drain) for its whole write timeout.
pub const GOODBYE_LIMIT: Duration = Duration::from_secs(1);

/// [`Transport::flush_output`] within the write timeout, unless `forced` (the end of
/// a shutdown's drain) fires first: then `None`.
pub async fn flush_unless<S: Transport>(stream: &mut S, forced: &Signal) -> Option<io::Result<()>> {
    futures_lite::future::or(async { Some(stream.flush_output().await) }, async {
        forced.wait().await;
        None
    })
    .await
}
