//! One blocking RocketMQ connection to a name server, with pipelining.
//!
//! A diff of 100k topics is 100k route lookups per server: one at a time over one
//! connection that would be 100k round trips. [`Conn::pipeline`] keeps up to a
//! window of requests in flight instead (a writer thread sends while the caller's
//! thread reads), and matches replies by `opaque`, because the Java NameServer
//! answers from a thread pool and may reorder them (`NettyRemotingAbstract#processRequestCommand`).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use protocol::{frame, FrameError, RemotingCommand, SerializeType};

/// Replies as large as a 100k-topic list or cluster table fit (Netty's 16 MiB
/// default would be too tight for a big cluster's 206).
const MAX_REPLY: usize = 256 * 1024 * 1024;

/// Why a server could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    #[error("cannot resolve the address: {0}")]
    Resolve(io::Error),
    #[error("cannot connect: {0}")]
    Connect(io::Error),
    #[error("no reply within {0:?}")]
    Timeout(Duration),
    #[error("connection closed by the server")]
    Closed,
    #[error("i/o error: {0}")]
    Io(io::Error),
    #[error("bad reply frame: {0}")]
    Frame(#[from] FrameError),
    #[error("reply with an unexpected opaque {0}")]
    UnexpectedReply(i32),
}

/// A reply: its header and body.
pub type Reply = (RemotingCommand, Option<Bytes>);

pub struct Conn {
    stream: TcpStream,
    timeout: Duration,
    buf: BytesMut,
    next_opaque: i32,
}

impl Conn {
    /// Connects with `timeout` as the connect, write and per-reply timeout.
    pub fn connect(addr: &str, timeout: Duration) -> Result<Conn, ConnError> {
        let addrs: Vec<SocketAddr> = addr
            .to_socket_addrs()
            .map_err(ConnError::Resolve)?
            .collect();
        let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
        for a in addrs {
            match TcpStream::connect_timeout(&a, timeout) {
                Ok(stream) => {
                    stream
                        .set_read_timeout(Some(timeout))
                        .map_err(ConnError::Io)?;
                    stream
                        .set_write_timeout(Some(timeout))
                        .map_err(ConnError::Io)?;
                    let _ = stream.set_nodelay(true);
                    return Ok(Conn {
                        stream,
                        timeout,
                        buf: BytesMut::with_capacity(64 * 1024),
                        next_opaque: 1,
                    });
                }
                Err(e) => last = e,
            }
        }
        Err(ConnError::Connect(last))
    }

    /// Sends one request and waits for its reply.
    pub fn call(&mut self, cmd: RemotingCommand) -> Result<Reply, ConnError> {
        let mut replies = Vec::with_capacity(1);
        self.pipeline(vec![cmd], 1, |_, reply| -> Result<(), ConnError> {
            replies.push(reply);
            Ok(())
        })?;
        replies.pop().ok_or(ConnError::Closed)
    }

    /// Sends every request of `cmds` with at most `window` unanswered at a time and
    /// hands each reply to `on_reply` with the index of its request, in the order
    /// replies arrive. An error of `on_reply` stops the run and is returned.
    pub fn pipeline<E>(
        &mut self,
        cmds: Vec<RemotingCommand>,
        window: usize,
        mut on_reply: impl FnMut(usize, Reply) -> Result<(), E>,
    ) -> Result<(), E>
    where
        E: From<ConnError>,
    {
        let n = cmds.len();
        if n == 0 {
            return Ok(());
        }
        let base = self.next_opaque;
        // Opaques stay positive (i32) for any realistic number of requests.
        self.next_opaque = self.next_opaque.wrapping_add(n as i32);
        let writer_stream = self.stream.try_clone().map_err(ConnError::Io)?;
        let window = window.max(1);
        let (credit_tx, credit_rx) = mpsc::sync_channel::<()>(window);
        for _ in 0..window.min(n) {
            let _ = credit_tx.try_send(());
        }
        let mut answered = vec![false; n];
        thread::scope(|s| {
            let timeout = self.timeout;
            let writer = s.spawn(move || write_all(writer_stream, cmds, base, credit_rx, timeout));
            let result = (|| {
                for _ in 0..n {
                    let (cmd, body) = self.read_reply()?;
                    let idx = cmd.opaque.wrapping_sub(base);
                    let i = usize::try_from(idx)
                        .ok()
                        .filter(|&i| i < n && !answered[i])
                        .ok_or(ConnError::UnexpectedReply(cmd.opaque))?;
                    answered[i] = true;
                    on_reply(i, (cmd, body))?;
                    // The writer may have finished already: a failed send is fine.
                    let _ = credit_tx.try_send(());
                }
                Ok(())
            })();
            // On an error the writer may sit in `recv` or `write`: closing the
            // credits and the socket's write side gets it out of both.
            drop(credit_tx);
            if result.is_err() {
                let _ = self.stream.shutdown(std::net::Shutdown::Both);
            }
            let written = writer.join().unwrap_or(Ok(()));
            match (result, written) {
                (Err(e), _) => Err(e),
                (Ok(()), Err(e)) => Err(E::from(e)),
                (Ok(()), Ok(())) => Ok(()),
            }
        })
    }

    /// Reads the next response frame (requests from the server, if any, are
    /// skipped). The timeout bounds the whole reply, not each `read`: a server
    /// that trickles a byte now and then cannot hold a run (a cron job) forever.
    fn read_reply(&mut self) -> Result<Reply, ConnError> {
        let deadline = Instant::now() + self.timeout;
        loop {
            if let Some((cmd, _, body)) = frame::next_request(&mut self.buf, MAX_REPLY)? {
                if cmd.is_response() {
                    return Ok((cmd, body));
                }
                continue;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ConnError::Timeout(self.timeout));
            }
            self.stream
                .set_read_timeout(Some(left))
                .map_err(ConnError::Io)?;
            self.buf.reserve(64 * 1024);
            let mut chunk = [0u8; 64 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err(ConnError::Closed),
                Ok(got) => self.buf.extend_from_slice(&chunk[..got]),
                Err(e)
                    if e.kind() == io::ErrorKind::WouldBlock
                        || e.kind() == io::ErrorKind::TimedOut =>
                {
                    return Err(ConnError::Timeout(self.timeout))
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ConnError::Io(e)),
            }
        }
    }
}

/// The writer half of [`Conn::pipeline`]: one request per credit, batched into one
/// write while credits are already there.
fn write_all(
    mut stream: TcpStream,
    cmds: Vec<RemotingCommand>,
    base: i32,
    credits: mpsc::Receiver<()>,
    timeout: Duration,
) -> Result<(), ConnError> {
    let mut out = BytesMut::new();
    let mut cmds = cmds.into_iter().enumerate().peekable();
    while cmds.peek().is_some() {
        if credits.recv().is_err() {
            return Ok(()); // the reader stopped; it reports why
        }
        let mut batch = 1;
        while let Some((i, mut cmd)) = cmds.next() {
            cmd.opaque = base.wrapping_add(i as i32);
            cmd.flag = 0;
            frame::encode(&cmd, SerializeType::Json, None, &mut out);
            // More in this write only while credits are already there.
            if batch >= 64 || cmds.peek().is_none() || credits.try_recv().is_err() {
                break;
            }
            batch += 1;
        }
        write_within(&mut stream, &out, timeout)?;
        out.clear();
    }
    Ok(())
}

/// Writes all of `buf` within `timeout` in total (a peer that takes a byte now
/// and then cannot stretch one write forever).
fn write_within(
    stream: &mut TcpStream,
    mut buf: &[u8],
    timeout: Duration,
) -> Result<(), ConnError> {
    let deadline = Instant::now() + timeout;
    while !buf.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ConnError::Timeout(timeout));
        }
        stream
            .set_write_timeout(Some(left))
            .map_err(ConnError::Io)?;
        match stream.write(buf) {
            Ok(0) => return Err(ConnError::Closed),
            Ok(n) => buf = &buf[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::TimedOut =>
            {
                return Err(ConnError::Timeout(timeout))
            }
            Err(e) => return Err(ConnError::Io(e)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server that sends one byte of a never-ending frame every 50 ms: each
    /// `read` succeeds, yet the reply's deadline ends the call.
    #[test]
    fn a_trickling_server_times_out_the_reply() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = thread::spawn(move || {
            let Ok((mut s, _)) = listener.accept() else {
                return;
            };
            // A length prefix claiming 1 MiB, then its bytes one at a time.
            let _ = s.write_all(&(1u32 << 20).to_be_bytes());
            while s.write_all(&[0]).is_ok() {
                thread::sleep(Duration::from_millis(50));
            }
        });
        let mut conn =
            Conn::connect(&addr.to_string(), Duration::from_millis(300)).expect("connect");
        let cmd =
            RemotingCommand::request(protocol::codes::request::GET_BROKER_CLUSTER_INFO, 0, vec![]);
        let err = conn.call(cmd).expect_err("no reply can complete");
        assert!(
            matches!(err, ConnError::Timeout(d) if d == Duration::from_millis(300)),
            "{err:?}"
        );
        drop(conn);
        let _ = server.join();
    }
}
