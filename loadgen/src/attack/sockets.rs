//! Attacks on the connection layer, over raw sockets because they break the
//! protocol on purpose: clients that never read, frames that never end,
//! connections that do nothing.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::bodies::{frame_start, topic_list_burst};
use super::tally::Tally;

/// Header length announced by the never-finished frames.
const HDR_LEN: u32 = 64;

/// Connects from `source` (any local address when `None`), with a small
/// receive buffer when asked (set before connect, so the window is small
/// from the handshake on).
pub async fn open(
    addr: SocketAddr,
    source: Option<IpAddr>,
    rcvbuf: Option<u32>,
) -> std::io::Result<TcpStream> {
    let sock = TcpSocket::new_v4()?;
    if let Some(n) = rcvbuf {
        sock.set_recv_buffer_size(n)?;
    }
    if let Some(ip) = source {
        sock.bind(SocketAddr::new(ip, 0))?;
    }
    match tokio::time::timeout(Duration::from_secs(2), sock.connect(addr)).await {
        Ok(r) => r,
        Err(_) => Err(std::io::ErrorKind::TimedOut.into()),
    }
}

/// Resolves when the server closes (EOF or error); what it sends is dropped.
async fn until_eof(mut rd: OwnedReadHalf) {
    let mut b = vec![0u8; 16 * 1024];
    loop {
        match rd.read(&mut b).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// Runs `write` while watching for the server to close the connection, until
/// `until`; counts a close (EOF, or a failed write) in the tally.
async fn hold<F>(rd: OwnedReadHalf, write: F, until: Instant, tally: &Tally)
where
    F: Future<Output = std::io::Result<()>>,
{
    let eof = until_eof(rd);
    tokio::pin!(eof);
    tokio::pin!(write);
    let mut writing = true;
    let closed = loop {
        tokio::select! {
            _ = &mut eof => break true,
            r = &mut write, if writing => {
                if r.is_err() {
                    break true;
                }
                writing = false;
            }
            _ = tokio::time::sleep_until(until.into()) => break false,
        }
    };
    if closed {
        Tally::one(&tally.closed_by_server);
    }
}

/// `trickle`: a 16 MiB frame started, then one byte per second.
pub async fn trickle(
    addr: SocketAddr,
    conns: usize,
    frame_mib: usize,
    until: Instant,
    tally: Arc<Tally>,
) {
    let mut tasks = JoinSet::new();
    for _ in 0..conns {
        let tally = tally.clone();
        tasks.spawn(async move {
            let Some(s) = tally.opened(open(addr, None, None).await.ok()) else {
                return;
            };
            let (rd, mut wr) = s.into_split();
            let total = (frame_mib << 20).saturating_sub(4) as u32;
            let t = tally.clone();
            let write = async move {
                wr.write_all(&frame_start(total, HDR_LEN)).await?;
                Tally::add(&t.bytes_sent, 8);
                loop {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    wr.write_all(b" ").await?;
                    Tally::add(&t.bytes_sent, 1);
                }
            };
            hold(rd, write, until, &tally).await;
        });
    }
    while tasks.join_next().await.is_some() {}
}

/// `partial-frames`: each connection sends all of a `frame_mib` frame but
/// its last 4 KiB, then waits.
pub async fn partial(
    addr: SocketAddr,
    conns: usize,
    frame_mib: usize,
    until: Instant,
    tally: Arc<Tally>,
) {
    let chunk = Bytes::from(vec![b' '; 64 * 1024]);
    let mut tasks = JoinSet::new();
    for _ in 0..conns {
        let (tally, chunk) = (tally.clone(), chunk.clone());
        tasks.spawn(async move {
            let Some(s) = tally.opened(open(addr, None, None).await.ok()) else {
                return;
            };
            let (rd, mut wr) = s.into_split();
            let total = (frame_mib << 20).saturating_sub(4);
            let t = tally.clone();
            let write = async move {
                wr.write_all(&frame_start(total as u32, HDR_LEN)).await?;
                let mut left = total.saturating_sub(4 + 4096);
                while left > 0 {
                    let n = left.min(chunk.len());
                    wr.write_all(&chunk[..n]).await?;
                    Tally::add(&t.bytes_sent, n as u64);
                    left -= n;
                }
                // Keep the write half open: the frame stays unfinished.
                std::future::pending::<()>().await;
                Ok(())
            };
            hold(rd, write, until, &tally).await;
        });
    }
    while tasks.join_next().await.is_some() {}
}

/// `conn-flood`: `conns` idle connections from `source`, opened 256 at a time.
pub async fn flood(
    addr: SocketAddr,
    source: IpAddr,
    conns: usize,
    until: Instant,
    tally: Arc<Tally>,
) {
    let mut holders = JoinSet::new();
    let mut left = conns;
    while left > 0 && Instant::now() < until {
        let batch = left.min(256);
        left -= batch;
        let mut connects = JoinSet::new();
        for _ in 0..batch {
            connects.spawn(open(addr, Some(source), None));
        }
        while let Some(r) = connects.join_next().await {
            let r = r.unwrap_or_else(|e| Err(std::io::Error::other(e)));
            if let Some(s) = tally.opened(r.ok()) {
                let tally = tally.clone();
                holders.spawn(async move {
                    let (rd, _wr) = s.into_split();
                    hold(rd, std::future::pending(), until, &tally).await;
                });
            }
        }
    }
    while holders.join_next().await.is_some() {}
}

/// TCP state of a socket (`tcp_info.tcpi_state`), to see a peer's close
/// without reading what it sent.
fn tcp_state(s: &TcpStream) -> Option<u8> {
    // SAFETY: tcp_info is plain data; getsockopt writes at most `len` bytes
    // into it and the fd is open for the duration of the call (borrowed `s`).
    unsafe {
        let mut info: libc::tcp_info = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
        let rc = libc::getsockopt(
            s.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            &mut info as *mut libc::tcp_info as *mut libc::c_void,
            &mut len,
        );
        (rc == 0).then_some(info.tcpi_state)
    }
}

/// CLOSE_WAIT, CLOSE, LAST_ACK (linux/tcp_states.h): the peer is gone.
fn peer_closed(s: &TcpStream) -> bool {
    matches!(tcp_state(s), Some(7..=9) | None)
}

/// `noread`: connections with a 4 KiB receive buffer that pipeline
/// `requests` 206 requests each, in one write (so a server that encodes a
/// whole read batch before sending meets them all at once), and never read. They hold until
/// `until` or until `release` fires (its sender sends or is dropped).
pub async fn noread(
    addr: SocketAddr,
    conns: usize,
    requests: usize,
    until: Instant,
    release: watch::Receiver<()>,
    tally: Arc<Tally>,
) {
    let burst = topic_list_burst(requests);
    let mut tasks = JoinSet::new();
    for _ in 0..conns {
        let (tally, burst, mut release) = (tally.clone(), burst.clone(), release.clone());
        tasks.spawn(async move {
            let Some(mut s) = tally.opened(open(addr, None, Some(4096)).await.ok()) else {
                return;
            };
            let mut closed = false;
            let write = async {
                s.write_all(&burst).await?;
                Tally::add(&tally.requests_sent, requests as u64);
                Tally::add(&tally.bytes_sent, burst.len() as u64);
                Ok::<_, std::io::Error>(())
            };
            tokio::select! {
                r = write => closed = r.is_err(),
                _ = tokio::time::sleep_until(until.into()) => {}
                _ = release.changed() => {}
            }
            // Written (or blocked): now just sit there, never reading.
            while !closed && Instant::now() < until && !release.has_changed().unwrap_or(true) {
                closed = peer_closed(&s);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            if closed {
                Tally::one(&tally.closed_by_server);
            }
        });
    }
    while tasks.join_next().await.is_some() {}
}
