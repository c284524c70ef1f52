#!/usr/bin/env python3
"""GO_AWAY probe: connect to a name server, SIGTERM it, send requests on the open
connection during its graceful-shutdown window, print what comes back.

  go_away_probe.py HOST:PORT PID

Prints one line per request: `<label> code=<code> remark=<remark> hex=<reply frame>`.
Requests: a lookup of version 479 (V5_3_3) before the signal, then after it lookups of
version 479 until one is answered GO_AWAY, a oneway of version 479 followed by a lookup of version 400 (V4_9_4 range),
which must be answered normally (the oneway gets nothing)."""
import json, os, signal, socket, struct, sys, time


def frame(code, opaque, version, ext, oneway=False):
    header = {"code": code, "extFields": ext, "flag": 2 if oneway else 0, "language": "JAVA",
              "opaque": opaque, "serializeTypeCurrentRPC": "JSON", "version": version}
    h = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack(">ii", 4 + len(h), len(h)) + h


def read_frame(sock):
    def exact(n):
        buf = b""
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            if not chunk:
                raise EOFError("connection closed")
            buf += chunk
        return buf
    head = exact(4)
    (total,) = struct.unpack(">i", head)
    rest = exact(total)
    (hl,) = struct.unpack(">i", rest[:4])
    hl &= 0xFFFFFF
    header = json.loads(rest[4:4 + hl])
    return header, head + rest


def ask(sock, label, code, opaque, version, ext):
    sock.sendall(frame(code, opaque, version, ext))
    header, raw = read_frame(sock)
    print(f"{label} code={header.get('code')} opaque={header.get('opaque')} "
          f"remark={header.get('remark')} hex={raw.hex()}", flush=True)


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    pid = int(sys.argv[2])
    sock = socket.create_connection((host, int(port)), timeout=10)
    ask(sock, "before", 106, 1, 479, {})
    os.kill(pid, signal.SIGTERM)
    # The window opens once the shutdown hook reaches the remoting server: ask until
    # the answer is GO_AWAY (bounded).
    opaque = 100
    for _ in range(50):
        opaque += 1
        sock.sendall(frame(106, opaque, 479, {}))
        header, raw = read_frame(sock)
        if header.get("code") == 1500:
            print(f"window-v479 code=1500 opaque={opaque} remark={header.get('remark')} "
                  f"hex={raw.hex()}", flush=True)
            break
        time.sleep(0.1)
    else:
        print("window-v479 no GO_AWAY within 5 s", flush=True)
        sys.exit(1)
    sock.sendall(frame(106, 3, 479, {}, oneway=True))
    ask(sock, "window-v400", 106, 4, 400, {})


if __name__ == "__main__":
    main()
