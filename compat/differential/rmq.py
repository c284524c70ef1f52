"""RocketMQ remoting frames for the compat tools (Python 3 stdlib only).

Frame: | total_len:u32 | hdr_info:u32 (type << 24 | hdr_len) | header | body |, big-endian,
total_len not counting itself. Header type 0 = JSON (fastjson's RemotingCommand bean),
1 = ROCKETMQ binary. See /work/shared/spec/namesrv-protocol.md section 1.
"""

import json
import socket
import struct

JSON, ROCKETMQ = 0, 1
FLAG_RESPONSE, FLAG_ONEWAY = 1, 2
LANGUAGES = ["JAVA", "CPP", "DOTNET", "PYTHON", "DELPHI", "ERLANG", "RUBY", "OTHER", "HTTP",
             "GO", "PHP", "OMS", "RUST", "NODE_JS"]


class FrameError(Exception):
    pass


def split_frames(buf):
    """Whole frames at the front of buf: ([frame bytes...], rest)."""
    out = []
    while len(buf) >= 4:
        (n,) = struct.unpack_from(">I", buf, 0)
        if len(buf) < 4 + n:
            break
        out.append(bytes(buf[:4 + n]))
        buf = buf[4 + n:]
    return out, buf


def parts(frame):
    """(serialize type, header bytes, body bytes or None) of one whole frame."""
    if len(frame) < 8:
        raise FrameError("short frame")
    total, info = struct.unpack_from(">II", frame, 0)
    ty, hlen = info >> 24, info & 0xFFFFFF
    if total + 4 != len(frame) or hlen > total - 4:
        raise FrameError("bad lengths")
    header = frame[8:8 + hlen]
    body = frame[8 + hlen:]
    return ty, header, (body if body else None)


# ---------------------------------------------------------------- headers

def encode_json_header(code, ext=None, opaque=0, flag=0, version=479, language="JAVA", remark=None):
    """The JSON header as a Java client writes it (fastjson: sorted keys, no nulls)."""
    d = {"code": code}
    if ext is not None:
        d["extFields"] = {k: v for k, v in ext.items() if v is not None}
    d["flag"] = flag
    if language is not None:
        d["language"] = language
    d["opaque"] = opaque
    if remark is not None:
        d["remark"] = remark
    d["serializeTypeCurrentRPC"] = "JSON"
    d["version"] = version
    return json.dumps(d, separators=(",", ":"), ensure_ascii=False).encode()


def _jstr(s, n):
    b = (s or "").encode()
    return struct.pack(">" + n, len(b)) + b


def encode_binary_header(code, ext=None, opaque=0, flag=0, version=479, language="JAVA", remark=None):
    """The ROCKETMQ binary header (RocketMQSerializable.rocketMQProtocolEncode)."""
    lang = LANGUAGES.index(language) if language is not None else 0
    out = struct.pack(">hBhii", code, lang, version, opaque, flag)
    out += _jstr(remark, "i")
    ext_b = b""
    for k, v in (ext or {}).items():
        if k is None or v is None:
            continue
        ext_b += _jstr(k, "h") + _jstr(v, "i")
    return out + struct.pack(">i", len(ext_b)) + ext_b


def decode_binary_header(h):
    """Fields of a binary header, in wire order; ext as a list of pairs (wire order)."""
    try:
        code, lang, version, opaque, flag = struct.unpack_from(">hBhii", h, 0)
        pos = 13
        (rl,) = struct.unpack_from(">i", h, pos)
        pos += 4
        remark = h[pos:pos + rl].decode() if rl > 0 else None
        pos += max(rl, 0)
        (el,) = struct.unpack_from(">i", h, pos)
        pos += 4
        end = pos + el
        ext = []
        while pos < end:
            (kl,) = struct.unpack_from(">h", h, pos)
            pos += 2
            k = h[pos:pos + kl].decode()
            pos += kl
            (vl,) = struct.unpack_from(">i", h, pos)
            pos += 4
            v = h[pos:pos + vl].decode()
            pos += vl
            ext.append((k, v))
        if pos != len(h):
            raise FrameError(f"{len(h) - pos} trailing header bytes")
    except (struct.error, UnicodeDecodeError) as e:
        raise FrameError(f"bad binary header: {e}")
    lang_name = LANGUAGES[lang] if lang < len(LANGUAGES) else None
    return {"code": code, "language": lang_name, "version": version, "opaque": opaque,
            "flag": flag, "remark": remark, "extFields": ext if el > 0 else None}


def encode_binary_fields(f):
    """Inverse of decode_binary_header (ext kept in the given order)."""
    lang = LANGUAGES.index(f["language"]) if f["language"] in LANGUAGES else 0
    out = struct.pack(">hBhii", f["code"], lang, f["version"], f["opaque"], f["flag"])
    out += _jstr(f["remark"], "i")
    ext_b = b"".join(_jstr(k, "h") + _jstr(v, "i") for k, v in (f["extFields"] or []))
    return out + struct.pack(">i", len(ext_b)) + ext_b


def decode_header(ty, h):
    """A dict view of either header kind (JSON: keys in wire order)."""
    if ty == JSON:
        return json.loads(h.decode(), object_pairs_hook=dict)
    if ty == ROCKETMQ:
        f = decode_binary_header(h)
        f["extFields"] = dict(f["extFields"]) if f["extFields"] is not None else None
        return f
    raise FrameError(f"serialize type {ty}")


def frame(header, body=None, ty=JSON):
    body = body or b""
    return struct.pack(">II", 4 + len(header) + len(body), (ty << 24) | len(header)) + header + body


def request(code, ext=None, body=None, ty=JSON, opaque=0, flag=0, version=479, language="JAVA"):
    enc = encode_json_header if ty == JSON else encode_binary_header
    return frame(enc(code, ext, opaque, flag, version, language), body, ty)


# ---------------------------------------------------------------- connections

class Conn:
    """A blocking client connection that reads whole frames."""

    def __init__(self, addr, timeout=5.0):
        host, port = addr.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.closed_by_peer = False

    def send(self, data):
        self.sock.sendall(data)

    def recv_frame(self, timeout):
        """The next whole frame, or None on timeout; b"" once the peer has closed."""
        self.sock.settimeout(timeout)
        while True:
            frames, rest = split_frames(self.buf)
            if frames:
                self.buf = self.buf[len(frames[0]):]
                return frames[0]
            try:
                chunk = self.sock.recv(1 << 20)
            except socket.timeout:
                return None
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                self.closed_by_peer = True
                return b""
            self.buf += chunk

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
