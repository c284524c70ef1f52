#!/usr/bin/env python3
"""TLS phase of the differential test: diff.py's main request sequence, with every
connection to both servers inside TLS (Python `ssl`, no certificate verification: both
servers run with their default configuration, permissive with a self-signed certificate).

    tls_phase.py --java ADDR --ours ADDR --fixture F.jsonl [diff.py's other options]

The replies are compared exactly as in diff.py's main phase (same masking, same known
differences). It also checks that every connection really was TLS, and prints the
protocol versions and ciphers each server negotiated (informational: a JDK and rustls may
pick different suites; only the replies inside must be identical).
"""

import os
import socket
import ssl
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rmq  # noqa: E402


def client_context():
    """Like a Java client in test mode (TlsHelper#buildSslContext(true) with
    tls.test.mode.enable=true): any server certificate is accepted."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class TlsSocket:
    """The part of a socket that rmq.Conn uses, over an SSLSocket. A peer that closes, with
    or without close_notify, reads as b"" (as a plain socket's orderly close does), so the
    framing cases that expect a close see the same thing they see without TLS."""

    def __init__(self, sock):
        self.sock = sock

    def sendall(self, data):
        self.sock.sendall(data)

    def settimeout(self, t):
        self.sock.settimeout(t)

    def setsockopt(self, *a):
        self.sock.setsockopt(*a)

    def recv(self, n):
        try:
            return self.sock.recv(n)
        except socket.timeout:
            raise
        except (ssl.SSLEOFError, ssl.SSLZeroReturnError):
            return b""
        except ssl.SSLError as e:
            # a server that tears the connection down mid-record: a close, but say so
            print(f"# TLS read ended by {e.__class__.__name__}: {e}", flush=True)
            return b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class HandshakeFailed(Exception):
    """A server did not complete a TLS handshake: the phase cannot go on."""


# (address -> {(version, cipher): count}) of every connection made
NEGOTIATED = {}


def use_tls(ctx):
    """Makes every rmq.Conn a TLS connection (diff.py and its cases only connect through it)."""
    plain_init = rmq.Conn.__init__

    def tls_init(self, addr, timeout=5.0):
        plain_init(self, addr, timeout)
        # the handshake runs under the connection's timeout; a failure ends the phase
        try:
            tls = ctx.wrap_socket(self.sock, server_hostname=None)
        except (ssl.SSLError, OSError) as e:
            self.sock.close()
            raise HandshakeFailed(f"TLS handshake with {addr} failed: {e}") from e
        key = (tls.version(), tls.cipher()[0] if tls.cipher() else None)
        seen = NEGOTIATED.setdefault(addr, {})
        seen[key] = seen.get(key, 0) + 1
        self.sock = TlsSocket(tls)

    rmq.Conn.__init__ = tls_init


def main():
    args = sys.argv[1:]
    if "--phase" in args:
        i = args.index("--phase")
        del args[i:i + 2]
    use_tls(client_context())
    import diff  # noqa: E402  (after the patch, which it does not depend on)
    sys.argv = [sys.argv[0], *args, "--phase", "main"]
    print("# TLS phase: diff.py's main sequence, every connection in TLS", flush=True)
    try:
        rc = diff.main()
    except HandshakeFailed as e:
        print(f"DIFF {e}")
        print("0 passed, 1 failed")
        return 1
    addrs = {"java": diff_arg(args, "--java"), "ours": diff_arg(args, "--ours")}
    for who, addr in addrs.items():
        seen = NEGOTIATED.get(addr, {})
        total = sum(seen.values())
        suites = ", ".join(f"{v} {c} x{n}" for (v, c), n in sorted(seen.items(), key=str))
        print(f"# TLS {who}: {total} connections: {suites or 'none'}")
    if not all(NEGOTIATED.get(a) for a in addrs.values()):
        print("DIFF TLS phase: a server had no TLS connection")
        print("0 passed, 1 failed")
        return 1
    return rc


def diff_arg(args, name):
    return args[args.index(name) + 1] if name in args else None


if __name__ == "__main__":
    sys.exit(main())
