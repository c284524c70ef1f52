//! The echo limit: a trivial glommio server that answers every RocketMQ frame with
//! one fixed, pre-encoded reply (only the opaque is patched in). It does what any
//! name server must do per request — frame, find the opaque, write — and nothing
//! else, so its throughput is the ceiling for this machine and transport.
//!
//! ```sh
//! cargo run --release --example echo_limit -- --port 0 --cores 1 [--body FILE]
//! ```
//! Prints `echo-limit listening on 127.0.0.1:PORT`, stops on SIGTERM/SIGINT.
//! Replies use a ROCKETMQ binary header (code 0, flag 1) so clients decode them
//! without any JSON work of ours; `--body FILE` sets the body (e.g. a real route).

use std::io::Write;
use std::net::SocketAddr;
use std::os::fd::{FromRawFd, IntoRawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpListener;
use glommio::{LocalExecutorBuilder, Placement};
use protocol::{RemotingCommand, SerializeType};
use socket2::{Domain, Socket, Type};

struct Args {
    bind: String,
    port: u16,
    cores: usize,
    body: Vec<u8>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        bind: "127.0.0.1".into(),
        port: 0,
        cores: 1,
        // About the size of a one-broker route body.
        body: vec![b'x'; 250],
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut val = || it.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--bind" => args.bind = val()?,
            "--port" => args.port = val()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--cores" => args.cores = val()?.parse().map_err(|e| format!("--cores: {e}"))?,
            "--body" => {
                let path = val()?;
                args.body = std::fs::read(&path).map_err(|e| format!("{path}: {e}"))?;
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

/// The reply frame, and where its opaque sits.
fn reply_template(body: &[u8]) -> (Vec<u8>, usize) {
    let cmd = RemotingCommand::response(0, 0, None);
    let frame = protocol::frame::encode_to_vec(&cmd, SerializeType::Rocketmq, Some(body));
    // total_len(4) hdr_info(4) code(2) language(1) version(2) → opaque
    (frame, 13)
}

/// The request's opaque, found without decoding the whole header.
fn request_opaque(ty: u8, header: &[u8]) -> i32 {
    if ty == 1 {
        return header
            .get(5..9)
            .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            .unwrap_or(0);
    }
    let key = b"\"opaque\":";
    let Some(at) = header.windows(key.len()).position(|w| w == key) else {
        return 0;
    };
    let digits = &header[at + key.len()..];
    let end = digits
        .iter()
        .position(|c| !(c.is_ascii_digit() || *c == b'-'))
        .unwrap_or(digits.len());
    std::str::from_utf8(&digits[..end])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

async fn serve(mut stream: glommio::net::TcpStream, template: Arc<(Vec<u8>, usize)>) {
    let _ = stream.set_nodelay(true);
    let (reply, at) = (&template.0, template.1);
    let mut rbuf = BytesMut::with_capacity(16 * 1024);
    let mut wbuf: Vec<u8> = Vec::with_capacity(16 * 1024);
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        let n = match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        rbuf.extend_from_slice(&chunk[..n]);
        // Deliberately not `protocol::frame::next_request`: the echo limit measures
        // the I/O floor, so it reads only the length prefix and the opaque.
        while rbuf.len() >= 8 {
            let total = u32::from_be_bytes([rbuf[0], rbuf[1], rbuf[2], rbuf[3]]) as usize;
            if !(4..=16 << 20).contains(&total) {
                return;
            }
            if rbuf.len() < total + 4 {
                break;
            }
            let info = u32::from_be_bytes([rbuf[4], rbuf[5], rbuf[6], rbuf[7]]);
            let hdr_len = ((info & 0xFF_FFFF) as usize).min(total - 4);
            let opaque = request_opaque((info >> 24) as u8, &rbuf[8..8 + hdr_len]);
            rbuf.advance(total + 4);
            let start = wbuf.len();
            wbuf.extend_from_slice(reply);
            wbuf[start + at..start + at + 4].copy_from_slice(&opaque.to_be_bytes());
        }
        if !wbuf.is_empty() {
            if stream.write_all(&wbuf).await.is_err() {
                return;
            }
            wbuf.clear();
        }
    }
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("echo_limit: {e}");
            std::process::exit(2);
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        let _ = signal_hook::flag::register(sig, stop.clone());
    }
    let mut addr: SocketAddr = match format!("{}:{}", args.bind, args.port).parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("echo_limit: bad address: {e}");
            std::process::exit(2);
        }
    };
    let template = Arc::new(reply_template(&args.body));
    // Same placement as the server: executor i on the i-th CPU we may use.
    let allowed = host::allowed_cpus();
    let mut handles = Vec::new();
    for i in 0..args.cores {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None).expect("socket");
        socket.set_reuse_address(true).expect("reuseaddr");
        socket.set_reuse_port(true).expect("reuseport");
        socket.bind(&addr.into()).expect("bind");
        socket.listen(4096).expect("listen");
        if let Some(a) = socket.local_addr().ok().and_then(|a| a.as_socket()) {
            addr = a;
        }
        let fd = socket.into_raw_fd();
        let template = template.clone();
        let stop = stop.clone();
        let placement = match allowed.get(i) {
            Some(&cpu) if args.cores <= allowed.len() => Placement::Fixed(cpu),
            _ => Placement::Unbound,
        };
        let h = LocalExecutorBuilder::new(placement)
            .io_memory(1 << 20)
            .spawn(move || async move {
                // Safety: a listening socket made above for this executor alone.
                let listener = unsafe { TcpListener::from_raw_fd(fd) };
                let accept = async {
                    while let Ok(s) = listener.accept().await {
                        glommio::spawn_local(serve(s, template.clone())).detach();
                    }
                };
                let watch = async {
                    while !stop.load(Ordering::Relaxed) {
                        glommio::timer::sleep(Duration::from_millis(50)).await;
                    }
                };
                futures_lite::future::or(accept, watch).await;
            })
            .expect("executor");
        handles.push(h);
    }
    println!("echo-limit listening on {addr}");
    let _ = std::io::stdout().flush();
    for h in handles {
        let _ = h.join();
    }
}
