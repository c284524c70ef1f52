#!/usr/bin/env python3
"""conn-storm: N clients connect to a name server at the same instant.

This is what a fleet does when it reconnects after a name-server restart or a
network blip. Every connection sends one route lookup (GET_ROUTEINFO_BY_TOPIC,
code 105, JSON header) as soon as it is writable, and the script measures, per
connection, the time from connect() to the complete reply. A connection whose SYN
or handshake ACK was dropped because an accept queue was full waits for a TCP
retransmit (1 s, then 3 s, ...), so those show up as replies taking >= 1 s.

It also prints the kernel's counters (system-wide, from /proc/net/netstat) before
and after: ListenOverflows / ListenDrops count accept-queue overflows.

    tuning/conn-storm.py 127.0.0.1:9876 --connections 5000 [--timeout 15]

Talks only to the address given; closes everything it opened; stdlib only.
"""
import argparse
import errno
import json
import os
import selectors
import socket
import struct
import sys
import time

COUNTERS = ("ListenOverflows", "ListenDrops", "TCPReqQFullDoCookies",
            "TCPReqQFullDrop", "SyncookiesSent")


def netstat():
    out = {}
    try:
        with open("/proc/net/netstat") as f:
            lines = f.read().splitlines()
    except OSError:
        return out
    for names, values in zip(lines[0::2], lines[1::2]):
        if names.startswith("TcpExt:"):
            for k, v in zip(names.split()[1:], values.split()[1:]):
                if k in COUNTERS:
                    out[k] = int(v)
    return out


def request(opaque):
    header = json.dumps({
        "code": 105, "flag": 0, "language": "JAVA", "opaque": opaque,
        "serializeTypeCurrentRPC": "JSON", "version": 479,
        "extFields": {"topic": "conn-storm-probe"},
    }, separators=(",", ":")).encode()
    # total length, then serialize type (0 = JSON) << 24 | header length
    return struct.pack(">II", 4 + len(header), len(header)) + header


def pct(sorted_vals, p):
    if not sorted_vals:
        return float("nan")
    i = min(len(sorted_vals) - 1, max(0, int(round(p / 100.0 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[i]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("target", help="host:port")
    ap.add_argument("--connections", "-n", type=int, default=2000)
    ap.add_argument("--timeout", type=float, default=15.0, help="seconds for the whole storm")
    a = ap.parse_args()
    host, port = a.target.rsplit(":", 1)
    addr = (host, int(port))

    sel = selectors.DefaultSelector()
    state = {}        # sock -> [t_connect, phase, buffer]
    lat = []
    errors = {}
    before = netstat()
    t_begin = time.monotonic()
    for i in range(a.connections):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        t0 = time.monotonic()
        rc = s.connect_ex(addr)
        if rc not in (0, errno.EINPROGRESS):
            errors[errno.errorcode.get(rc, str(rc))] = errors.get(errno.errorcode.get(rc, str(rc)), 0) + 1
            s.close()
            continue
        state[s] = [t0, "connecting", b"", i + 1]
        sel.register(s, selectors.EVENT_WRITE)
    t_issued = time.monotonic() - t_begin

    deadline = t_begin + a.timeout
    pending = len(state)
    while pending and time.monotonic() < deadline:
        for key, ev in sel.select(timeout=0.2):
            s = key.fileobj
            st = state[s]
            if st[1] == "connecting":
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    name = errno.errorcode.get(err, str(err))
                    errors[name] = errors.get(name, 0) + 1
                    sel.unregister(s)
                    st[1] = "failed"
                    pending -= 1
                    continue
                s.send(request(st[3]))          # tiny: fits any socket buffer
                st[1] = "waiting"
                sel.modify(s, selectors.EVENT_READ)
            elif st[1] == "waiting":
                try:
                    chunk = s.recv(65536)
                except OSError as e:
                    chunk = b""
                    errors[errno.errorcode.get(e.errno, str(e.errno))] = errors.get(errno.errorcode.get(e.errno, str(e.errno)), 0) + 1
                if not chunk:
                    errors.setdefault("closed", 0)
                    errors["closed"] += 1
                    sel.unregister(s)
                    st[1] = "failed"
                    pending -= 1
                    continue
                st[2] += chunk
                if len(st[2]) >= 4 and len(st[2]) >= 4 + struct.unpack(">I", st[2][:4])[0]:
                    lat.append(time.monotonic() - st[0])
                    sel.unregister(s)
                    st[1] = "done"
                    pending -= 1
    t_all = time.monotonic() - t_begin
    after = netstat()
    unfinished = sum(1 for st in state.values() if st[1] in ("connecting", "waiting"))
    for s in state:
        s.close()

    lat.sort()
    ms = lambda v: "%.1f ms" % (v * 1000.0)
    print("storm: %d connections to %s:%d issued in %s; all done after %s"
          % (a.connections, addr[0], addr[1], ms(t_issued), ms(t_all)))
    print("replies: %d ok, %d unfinished after %.0f s, errors %s"
          % (len(lat), unfinished, a.timeout, errors or "none"))
    if lat:
        slow = sum(1 for v in lat if v >= 0.9)
        print("connect-to-reply: p50 %s  p90 %s  p99 %s  max %s  | >= 0.9 s (a TCP retransmit): %d"
              % (ms(pct(lat, 50)), ms(pct(lat, 90)), ms(pct(lat, 99)), ms(lat[-1]), slow))
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in COUNTERS if k in after}
    print("kernel (system-wide) during the storm: " +
          "  ".join("%s +%d" % (k, v) for k, v in delta.items()))
    return 0 if not unfinished and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
