#!/usr/bin/env python3
"""A recording TCP proxy between RocketMQ peers (a broker) and a NameServer.

    record.py LISTEN_PORT UPSTREAM_HOST:PORT OUT.jsonl

Listens on 127.0.0.1:LISTEN_PORT, forwards every connection to UPSTREAM, and appends each
whole frame that passes to OUT.jsonl, one JSON object per line, in the order they passed:
    {"seq": n, "conn": c, "dir": ">" (peer to NameServer) or "<", "t": seconds since start,
     "code": n, "flag": n, "frame": base64 of the whole frame}
Stops on SIGTERM/SIGINT. Stdlib only.
"""

import base64
import json
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, __import__("os").path.dirname(__file__))
import rmq  # noqa: E402

T0 = time.monotonic()
LOCK = threading.Lock()
SEQ = [0]


def record(out, conn_id, direction, data):
    try:
        ty, header, _ = rmq.parts(data)
        h = rmq.decode_header(ty, header)
        code, flag = h.get("code"), h.get("flag")
    except Exception:  # recorded anyway: it is what went over the wire
        code, flag = None, None
    with LOCK:
        SEQ[0] += 1
        out.write(json.dumps({"seq": SEQ[0], "conn": conn_id, "dir": direction,
                              "t": round(time.monotonic() - T0, 3), "code": code, "flag": flag,
                              "frame": base64.b64encode(data).decode()}) + "\n")
        out.flush()


def pump(src, dst, out, conn_id, direction):
    buf = b""
    try:
        while True:
            chunk = src.recv(1 << 20)
            if not chunk:
                break
            buf += chunk
            frames, buf = rmq.split_frames(buf)
            for f in frames:
                record(out, conn_id, direction, f)
            dst.sendall(chunk)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def main():
    port, upstream, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    uhost, uport = upstream.rsplit(":", 1)
    out = open(path, "a", encoding="utf-8")
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(64)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"recording proxy 127.0.0.1:{port} -> {upstream} into {path}", flush=True)
    n = 0
    while True:
        c, _ = srv.accept()
        n += 1
        u = socket.create_connection((uhost, int(uport)))
        for s in (c, u):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=pump, args=(c, u, out, n, ">"), daemon=True).start()
        threading.Thread(target=pump, args=(u, c, out, n, "<"), daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
