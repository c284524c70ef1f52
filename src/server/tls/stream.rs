//! The TLS stream a connection is served over: a rustls session over the TCP
//! socket, whose first bytes (read before the ClientHello was recognised) are
//! handed to rustls before any more is read from the socket.

use std::io;
use std::net::Shutdown;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf, BytesMut};
use futures_lite::{AsyncRead, AsyncWrite, AsyncWriteExt};
use glommio::net::TcpStream;

use crate::server::signal::Signal;
use crate::server::transport::{Transport, GOODBYE_LIMIT};

pub type TlsStream = futures_rustls::server::TlsStream<Prefixed>;

/// A TCP stream with bytes already read in front of it.
pub struct Prefixed {
    head: BytesMut,
    tcp: TcpStream,
}

impl Prefixed {
    pub fn new(head: BytesMut, tcp: TcpStream) -> Prefixed {
        Prefixed { head, tcp }
    }

    pub fn tcp(&self) -> &TcpStream {
        &self.tcp
    }
}

impl AsyncRead for Prefixed {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if !this.head.is_empty() {
            let n = this.head.len().min(buf.len());
            buf[..n].copy_from_slice(&this.head[..n]);
            this.head.advance(n);
            if this.head.is_empty() {
                // Gives the allocation back: the session outlives its first bytes.
                this.head = BytesMut::new();
            }
            return Poll::Ready(Ok(n));
        }
        Pin::new(&mut this.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for Prefixed {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_close(cx)
    }
}

impl Transport for TlsStream {
    // futures-rustls' `poll_write` takes plaintext while the socket is full and
    // keeps the records it made of it.
    const BUFFERS_OUTPUT: bool = true;

    async fn flush_output(&mut self) -> io::Result<()> {
        self.flush().await
    }

    fn set_read_timeout(&self, dur: Option<Duration>) -> io::Result<()> {
        Transport::set_read_timeout(self.get_ref().0.tcp(), dur)
    }

    fn set_write_timeout(&self, dur: Option<Duration>) -> io::Result<()> {
        Transport::set_write_timeout(self.get_ref().0.tcp(), dur)
    }

    fn set_nodelay(&self, on: bool) -> io::Result<()> {
        Transport::set_nodelay(self.get_ref().0.tcp(), on)
    }

    async fn shutdown(&mut self, at_once: bool, forced: &Signal) -> io::Result<()> {
        // close_notify first (futures-rustls' `poll_close` flushes every queued
        // record before it), raced against the drain's end and a short limit;
        // then the socket.
        let notified = if at_once {
            Ok(())
        } else {
            let goodbye = async { Some(self.close().await) };
            let given_up = async {
                futures_lite::future::or(forced.wait(), async {
                    glommio::timer::sleep(GOODBYE_LIMIT).await;
                })
                .await;
                None
            };
            futures_lite::future::or(goodbye, given_up)
                .await
                .unwrap_or(Ok(()))
        };
        let closed = TcpStream::shutdown(self.get_ref().0.tcp(), Shutdown::Both)
            .await
            .map_err(io::Error::from);
        notified.and(closed)
    }
}
