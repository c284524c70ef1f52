#!/usr/bin/env python3
"""Waits until a topic's route on a NameServer is in a given state, polling GET_ROUTEINFO_BY_TOPIC
(105) every 0.1 s over one connection; prints how long that took.

    probe.py ADDR TOPIC gone|has:ADDR|lacks:ADDR TIMEOUT_S

gone: the reply is 17 (TOPIC_NOT_EXIST); has:A / lacks:A: a route whose body contains /
does not contain the broker address A. Exit 0 once reached, 1 on timeout.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rmq  # noqa: E402


def main():
    addr, topic, want, timeout = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    t0 = time.monotonic()
    conn, opaque, last = None, 0, "no reply"
    while time.monotonic() - t0 < timeout:
        try:
            if conn is None:
                conn = rmq.Conn(addr, timeout=2)
            opaque += 1
            conn.send(rmq.request(105, {"topic": topic}, opaque=opaque))
            reply = conn.recv_frame(2)
            if not reply:
                raise OSError("no reply")
            ty, header, body = rmq.parts(reply)
            code = rmq.decode_header(ty, header)["code"]
            body = body or b""
            last = f"code {code}, body {body[:300]!r}"
            ok = {"gone": code == 17}.get(want)
            if ok is None:
                kind, a = want.split(":", 1)
                ok = code == 0 and ((a.encode() in body) == (kind == "has"))
            if ok:
                print(f"{want} after {time.monotonic() - t0:.1f}s ({last})")
                return 0
        except OSError as e:
            last = f"error {e}"
            if conn:
                conn.close()
            conn = None
        time.sleep(0.1)
    print(f">> not {want} after {timeout}s; last: {last}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
