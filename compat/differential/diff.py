#!/usr/bin/env python3
"""Differential test: the same request sequence to Apache's Java NameServer and to ours;
every reply is compared byte for byte (header and body) after the masking rules below.

    diff.py --java ADDR --ours ADDR --fixture F.jsonl [--phase main|alt] [--java-release 5.3.3]
            [--java-kv FILE --ours-kv FILE]

Prints one line per request: `SAME name`, `KNOWN name: reason` (a difference listed in
docs/compat.md, see KNOWN below) or `DIFF name` with both replies; ends with
`N passed, M failed` (failed = unexplained differences) and exits non-zero on any.

Masking rules (everything else must be identical, byte for byte):
  M1 reply header `version`: each server writes its own release's MQVersion ordinal
     (rocketmq.remoting.version); ours writes 479 (V5_3_3). Masked only when the Java
     server's release is not 5.3.3 (--java-release), i.e. against 5.5.0.
  M2 the remark of a SYSTEM_ERROR (1) that carries a Java exception's text ("<exception>,
     <stack frame>"): the spec allows any text, so both remarks are replaced by a
     placeholder; the code, the rest of the header and the body must still match.
  M3 GET_NAMESRV_CONFIG (319) body: the values of listenPort, kvConfigPath, configStorePath
     and rocketmqHome are the two servers' own ports and paths.
  M4 a DataVersion `timestamp` taken from the server's clock (a registration without
     `dataVersion` gets Java's `new DataVersion()`): only in the cases that ask for it
     (cases_broker.py, `mask=`), and only a value within a few seconds of now.
No other masking: the broker frames are replayed byte for byte, so the DataVersion
timestamps in replies (322) are the recorded ones on both sides.
"""

import argparse
import base64
import json
import os
import re
import struct
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rmq  # noqa: E402
from rmq import JSON, ROCKETMQ, FLAG_ONEWAY  # noqa: E402
import cases_kv  # noqa: E402
import cases_esc  # noqa: E402

REPLY_TIMEOUT = 5.0
SETTLE = 0.6  # after an asynchronous unregistration (Java queues it)

# Remarks that are part of the protocol; any other SYSTEM_ERROR remark is exception text (M2).
FIXED_REMARKS = {"crc32 not match", "register broker failed", "namespace or key is null",
                 "disable", "string2Properties error", "name server not ready"}

# Known, documented differences (docs/compat.md, "Differential findings"). Each entry:
# step-name regex -> (reason, check). `check(java, ours)` gets the two masked replies
# ((type, header, body) tuples; raw bytes for files) and must confirm that they differ in
# exactly that way, so that any other difference in the same step still fails.
OURS_ONLY_CONFIG_KEYS = (b"cores", b"maxFrameLength", b"replySerializeType",
                         b"kvMaxValueLength", b"kvMaxEntries", b"kvMaxTotalBytes",
                         b"maxInflatedBodyLength", b"maxTopicsPerRegistration",
                         b"connectionWriteTimeoutMillis", b"shutdownTimeoutMillis",
                         b"connectionMaxPendingOutput", b"maxConnections",
                         b"maxConnectionsPerAddress", b"frameReadTimeoutMillis",
                         b"maxIncompleteFrameBytes", b"jsonCompatRelease",
                         b"httpPort", b"statsLogIntervalSeconds",
                         # issue 14: authentication (docs/SECURITY.md)
                         b"authenticationEnabled", b"authConfigPath", b"anonymousRouteRead",
                         b"proxyProtocolTrustedAddresses",
                         # issue 15: returning freed memory after large publishes
                         b"memoryTrimIntervalSeconds")


def _drop_ours_only_keys(java, ours):
    jb, ob = java[2] or b"", ours[2] or b""
    for k in OURS_ONLY_CONFIG_KEYS:
        if not re.search(rb"(?m)^" + k + rb"=", jb):
            ob = re.sub(rb"(?m)^" + k + rb"=.*\n", b"", ob)
    return java[:2] == ours[:2] and jb == ob


KNOWN = {
    r"319 config.*": (
        "our GET_NAMESRV_CONFIG also lists our own settings (cores, maxFrameLength, "
        "replySerializeType) when the -c file does not set them", _drop_ours_only_keys),
}


def known_reason(name, java, ours, rules=KNOWN):
    for pat, (why, check) in rules.items():
        if re.fullmatch(pat, name) and java is not None and ours is not None and check(java, ours):
            return why
    return None


# ---------------------------------------------------------------- masking

def mask_frame(frame, code_sent, mask_version):
    """(type, masked header bytes, masked body bytes) of a reply frame; raises on garbage."""
    ty, header, body = rmq.parts(frame)
    if ty == JSON:
        h = json.loads(header.decode())
        text = header.decode()
        if mask_version:
            text = re.sub(r'"version":-?\d+', '"version":"<V>"', text)
        if h.get("code") == 1 and h.get("remark") is not None and h["remark"] not in FIXED_REMARKS:
            text = text.replace(json.dumps(h["remark"], ensure_ascii=False)[1:-1], "<exception>", 1)
        header_m = text.encode()
    else:
        f = rmq.decode_binary_header(header)
        if rmq.encode_binary_fields(f) != header:
            raise rmq.FrameError("binary header does not re-encode to the same bytes")
        if mask_version:
            f["version"] = 0
        if f["code"] == 1 and f["remark"] is not None and f["remark"] not in FIXED_REMARKS:
            f["remark"] = "<exception>"
        header_m = rmq.encode_binary_fields(f)
    if code_sent == 319 and body is not None:
        body = re.sub(rb"(?m)^(listenPort|kvConfigPath|configStorePath|rocketmqHome)=.*$",
                      rb"\1=<masked>", body)
    return ty, header_m, body


def show(frame):
    if frame is None:
        return "(no reply)"
    if frame == b"":
        return "(connection closed)"
    try:
        ty, header, body = rmq.parts(frame)
        h = header.decode() if ty == JSON else json.dumps(rmq.decode_binary_header(header))
        b = "" if body is None else body.decode("utf-8", "replace")
        if len(b) > 1500:
            b = b[:1500] + f"...({len(body)} bytes)"
        return f"[{'JSON' if ty == JSON else 'ROCKETMQ'}] {h}\n        body: {b if body is not None else '(null)'}"
    except Exception as e:  # noqa: BLE001
        return f"(undecodable {e}: {frame[:80]!r})"


# ---------------------------------------------------------------- the two servers

class Pair:
    """One named connection to each server."""

    def __init__(self, java, ours):
        self.java = rmq.Conn(java)
        self.ours = rmq.Conn(ours)

    def close(self):
        self.java.close()
        self.ours.close()


class Diff:
    def __init__(self, args):
        self.args = args
        self.mask_version = args.java_release != "5.3.3"
        self.conns = {}
        self.same = self.known = self.diff = 0
        self.opaque = 1000
        self.known_hits = []
        self.known_rules = dict(KNOWN)  # case modules add their own entries

    def conn(self, name):
        if name not in self.conns:
            self.conns[name] = Pair(self.args.java, self.args.ours)
        return self.conns[name]

    def close(self, name):
        p = self.conns.pop(name, None)
        if p:
            p.close()

    def result(self, name, ok, detail="", java=None, ours=None):
        if ok:
            self.same += 1
            if self.args.verbose:
                print(f"SAME {name}")
            return
        why = known_reason(name, java, ours, self.known_rules)
        if why:
            self.known += 1
            self.known_hits.append(name)
            print(f"KNOWN {name}: {why}")
            if self.args.verbose:
                print(detail)
        else:
            self.diff += 1
            print(f"DIFF {name}\n{detail}")

    def send_raw(self, name, conn, data, code, oneway=False, expect_close=False, mask=None):
        """Sends data on both servers' connection `conn`; compares what comes back."""
        p = self.conn(conn)
        for c in (p.java, p.ours):
            try:
                c.send(data)
            except OSError:
                pass
        if oneway:
            # Not waited for: a reply (there must be none) would be read in place of the
            # next request's on this connection, and its opaque would not match; the
            # connections are also drained at the end (drain()).
            self.same += 1
            return None, None
        if expect_close:
            rj = p.java.recv_frame(REPLY_TIMEOUT)
            ro = p.ours.recv_frame(REPLY_TIMEOUT)
            self.result(name, rj == b"" and ro == b"", f"    java: {show(rj)}\n    ours: {show(ro)}")
            self.close(conn)
            return None, None
        rj = p.java.recv_frame(REPLY_TIMEOUT)
        ro = p.ours.recv_frame(REPLY_TIMEOUT)
        ok = False
        why = ""
        mj = mo = None
        try:
            if rj and ro:
                mj = mask_frame(rj, code, self.mask_version)
                mo = mask_frame(ro, code, self.mask_version)
                if mask:  # a case's own rule (M4)
                    mj, mo = mask(mj), mask(mo)
                ok = mj == mo
                if not ok:
                    why = first_difference(mj, mo)
        except (rmq.FrameError, ValueError) as e:
            why = f"    undecodable reply: {e}"
        self.result(name, ok, f"    java: {show(rj)}\n    ours: {show(ro)}\n{why}", mj, mo)
        return rj, ro

    def req(self, name, code, ext=None, body=None, ty=JSON, conn="admin", oneway=False,
            version=479, language="JAVA", mask=None):
        self.opaque += 1
        flag = FLAG_ONEWAY if oneway else 0
        data = rmq.request(code, ext, body, ty, self.opaque, flag, version, language)
        return self.send_raw(name, conn, data, code, oneway=oneway, mask=mask)

    def drain(self):
        """No connection has anything left to read (no reply to a oneway request)."""
        for name, p in list(self.conns.items()):
            rj = p.java.recv_frame(0.3)
            ro = p.ours.recv_frame(0.3)
            self.result(f"nothing more on connection {name}", rj is None and ro is None,
                        f"    java: {show(rj)}\n    ours: {show(ro)}")

    def settle(self):
        time.sleep(SETTLE)


def first_difference(a, b):
    for part, x, y in zip(("type", "header", "body"), a, b):
        if x != y:
            if isinstance(x, bytes) and isinstance(y, bytes):
                i = next((i for i in range(min(len(x), len(y))) if x[i] != y[i]), min(len(x), len(y)))
                return (f"    first difference in the {part} at byte {i}: "
                        f"java {x[max(0, i - 40):i + 40]!r}\n{' ' * 44}ours {y[max(0, i - 40):i + 40]!r}")
            return f"    {part} differs: java {x!r} ours {y!r}"
    return ""


# ---------------------------------------------------------------- request material

def crc(body):
    return str(zlib.crc32(body) & 0x7FFFFFFF)


def dv(counter, ts=1700000000000, state=0):
    return {"counter": counter, "stateVersion": state, "timestamp": ts}


def topic_config(name, read=4, write=4, perm=6, sysflag=0, order=False):
    return {"attributes": {}, "order": order, "perm": perm, "readQueueNums": read,
            "topicFilterType": "SINGLE_TAG", "topicName": name, "topicSysFlag": sysflag,
            "writeQueueNums": write}


def register_body(topics, version, filters=(), mapping=None):
    w = {"dataVersion": version, "topicConfigTable": {t["topicName"]: t for t in topics}}
    if mapping is not None:
        w["mappingDataVersion"] = dv(0, 0)
        w["topicQueueMappingDetailMap"] = {}
        w["topicQueueMappingInfoMap"] = mapping
    return json.dumps({"filterServerList": list(filters), "topicConfigSerializeWrapper": w},
                      separators=(",", ":")).encode()


def compressed_body(topics, version, filters=(), mappings=(), with_mapping=True, bad_filter=False):
    """RegisterBrokerBody.encode(true): zlib of length-prefixed pieces (spec 4.2)."""
    def piece(b):
        return struct.pack(">i", len(b)) + b
    out = piece(json.dumps(version, separators=(",", ":")).encode())
    out += struct.pack(">i", len(topics))
    for t in topics:
        ftype = "BAD_TYPE" if bad_filter else t["topicFilterType"]
        line = f'{t["topicName"]} {t["readQueueNums"]} {t["writeQueueNums"]} {t["perm"]} {ftype} {{}}'
        out += piece(line.encode())
    out += piece(json.dumps(list(filters)).encode())
    if with_mapping:
        out += struct.pack(">i", len(mappings))
        for m in mappings:
            out += piece(json.dumps(m, separators=(",", ":")).encode())
    return zlib.compress(out, 9)


def reg_ext(name, addr, cluster, bid, body, ha=None, crc_value=None, **extra):
    ext = {"brokerName": name, "brokerAddr": addr, "clusterName": cluster,
           "haServerAddr": ha or addr, "brokerId": str(bid), "compressed": "false",
           "bodyCrc32": crc(body) if crc_value is None else crc_value}
    for k, v in extra.items():
        ext[k] = v
    return ext


# ---------------------------------------------------------------- the sequence

def load_fixture(path):
    rows = [json.loads(line) for line in open(path, encoding="utf-8")]
    meta, rows = rows[0], rows[1:]
    return meta, [r for r in rows if r["dir"] == ">"]


def replay(d, rows, label):
    """Broker frames in recorded order, each recorded connection on its own pair."""
    for r in rows:
        data = base64.b64decode(r["frame"])
        oneway = bool((r["flag"] or 0) & FLAG_ONEWAY)
        d.send_raw(f"{label}#{r['seq']}:{r['code']}", f"rec{r['conn']}", data, r["code"], oneway=oneway)
        if r["code"] == 104:
            d.settle()


def synthetic(d, meta, phase):
    m_addr, s_addr = meta["master"], meta["slave"]
    R = "rec-a"  # the recorded broker group (cluster DefaultCluster)
    C = "DefaultCluster"

    # --- lookups in both dialects and both header serializations (105)
    for topic in ("TBW102", R, "RecTopic", "DefaultCluster", "NoSuchTopic"):
        for ver in (400, 479):
            d.req(f"105 {topic} v{ver}", 105, {"topic": topic}, version=ver)
        d.req(f"105 {topic} v400 acceptStandardJsonOnly", 105,
              {"topic": topic, "acceptStandardJsonOnly": "true"}, version=400)
        d.req(f"105 {topic} binary v400", 105, {"topic": topic}, ty=ROCKETMQ, version=400)
        d.req(f"105 {topic} binary v479", 105, {"topic": topic}, ty=ROCKETMQ)
    d.req("105 no topic field", 105, {})
    d.req("105 acceptStandardJsonOnly=TRUE (case)", 105, {"topic": "TBW102", "acceptStandardJsonOnly": "TRUE"}, version=400)
    d.req("105 language GO v0", 105, {"topic": "TBW102"}, version=0, language="GO")
    d.req("106 cluster info", 106)
    d.req("106 cluster info binary", 106, ty=ROCKETMQ)
    d.req("106 oneway (no reply)", 106, oneway=True)

    # --- a synthetic broker with unit topics, filter servers and a zone
    B, BC, BA, BA2 = "syn-b", "SynCluster", "127.0.0.1:20911", "127.0.0.1:20921"
    topics = [topic_config("SynT1"), topic_config("SynUnit", sysflag=1),
              topic_config("SynUnitSub", sysflag=2), topic_config("SynBoth", sysflag=3),
              topic_config("SynOrder", 8, 8, 6)]
    body = register_body(topics, dv(1), filters=["127.0.0.1:30000"])
    d.req("103 single-topic first registration (register broker failed)", 103,
          reg_ext(B, BA, BC, 0, register_body(topics[:1], dv(1))), register_body(topics[:1], dv(1)))
    d.req("103 crc mismatch", 103, reg_ext(B, BA, BC, 0, body, crc_value="12345"), body)
    d.req("103 malformed body", 103, reg_ext(B, BA, BC, 0, b"{not json"), b"{not json")
    d.req("103 no brokerId", 103, {k: v for k, v in reg_ext(B, BA, BC, 0, body).items() if k != "brokerId"}, body)
    d.req("103 no extFields", 103, None, body)
    d.req("103 syn-b master", 103, reg_ext(B, BA, BC, 0, body, __ZONE_NAME="zone-a"), body)
    d.req("103 syn-b master again (same version)", 103, reg_ext(B, BA, BC, 0, body, __ZONE_NAME="zone-a"), body)
    d.req("103 syn-b slave (binary header)", 103,
          reg_ext(B, BA2, BC, 1, body, ha="127.0.0.1:20922", heartbeatTimeoutMillis="600000"), body, ty=ROCKETMQ)
    d.req("103 syn-b no crc (0 = unchecked)", 103, reg_ext(B, BA, BC, 0, body, crc_value="0"), body)
    for ver in (400, 479):
        d.req(f"105 SynT1 (filter servers) v{ver}", 105, {"topic": "SynT1"}, version=ver)
    d.req("105 SynT1 zone mode zone-a", 105, {"topic": "SynT1", "__ZONE_MODE": "true", "__ZONE_NAME": "ZONE-A"})
    d.req("105 SynT1 zone mode zone-b", 105, {"topic": "SynT1", "__ZONE_MODE": "true", "__ZONE_NAME": "zone-b"})
    d.req("106 with syn-b", 106)
    # old-format body (version < 37: a bare TopicConfigSerializeWrapper)
    old = json.dumps({"dataVersion": dv(1), "topicConfigTable": {"SynOld": topic_config("SynOld"),
                                                                 "SynOld2": topic_config("SynOld2")}},
                     separators=(",", ":")).encode()
    d.req("103 syn-old v36 body", 103, reg_ext("syn-old", "127.0.0.1:20931", BC, 0, old), old, version=36)
    d.req("105 SynOld", 105, {"topic": "SynOld"})
    # compressed body (5.x: with the mapping count)
    ct = [topic_config("SynZip1", 2, 2), topic_config("SynZip2", 3, 3, perm=4)]
    zb = compressed_body(ct, dv(3))
    d.req("103 syn-zip compressed", 103, reg_ext("syn-zip", "127.0.0.1:20941", BC, 0, zb, compressed="true"), zb)
    d.req("105 SynZip2", 105, {"topic": "SynZip2"})
    zbad = compressed_body(ct, dv(4), bad_filter=True)
    d.req("103 compressed bad topicFilterType", 103,
          reg_ext("syn-zip", "127.0.0.1:20941", BC, 0, zbad, compressed="true"), zbad)
    ztr = compressed_body(ct, dv(5))[:-9]
    d.req("103 compressed truncated", 103, reg_ext("syn-zip", "127.0.0.1:20941", BC, 0, ztr, compressed="true"), ztr)
    # stateVersion rejection: id 0 already held by a live address with a higher stateVersion
    sv_hi = register_body([topic_config("SynSv"), topic_config("SynSv1")], dv(1, state=5))
    d.req("103 syn-sv addr1 stateVersion 5", 103, reg_ext("syn-sv", "127.0.0.1:20951", BC, 0, sv_hi), sv_hi)
    sv_lo = register_body([topic_config("SynSv"), topic_config("SynSv2")], dv(1, state=1))
    d.req("103 syn-sv addr2 stateVersion 1 (rejected)", 103, reg_ext("syn-sv", "127.0.0.1:20952", BC, 0, sv_lo), sv_lo)
    d.req("105 SynSv", 105, {"topic": "SynSv"})

    # --- KV (100/101/102/219) and ORDER_TOPIC_CONFIG
    d.req("100 put", 100, {"namespace": "DiffNS", "key": "k1", "value": "v1"})
    d.req("100 put binary", 100, {"namespace": "DiffNS", "key": "k2", "value": "v2 é/\"q\""}, ty=ROCKETMQ)
    d.req("100 put no value", 100, {"namespace": "DiffNS", "key": "k3"})
    d.req("100 put no key", 100, {"namespace": "DiffNS", "value": "x"})
    d.req("101 get", 101, {"namespace": "DiffNS", "key": "k1"})
    d.req("101 get binary", 101, {"namespace": "DiffNS", "key": "k2"}, ty=ROCKETMQ)
    d.req("101 get null value", 101, {"namespace": "DiffNS", "key": "k3"})
    d.req("101 miss", 101, {"namespace": "DiffNS", "key": "nope"})
    d.req("101 miss binary", 101, {"namespace": "NoNS", "key": "nope"}, ty=ROCKETMQ)
    d.req("219 list", 219, {"namespace": "DiffNS"})
    d.req("219 miss", 219, {"namespace": "NoNS"})
    d.req("102 delete", 102, {"namespace": "DiffNS", "key": "k1"})
    d.req("102 delete missing", 102, {"namespace": "DiffNS", "key": "nope"})
    d.req("102 delete rest", 102, {"namespace": "DiffNS", "key": "k2"})
    d.req("102 delete rest 2", 102, {"namespace": "DiffNS", "key": "k3"})
    d.req("219 empty namespace", 219, {"namespace": "DiffNS"})
    d.req("101 after delete", 101, {"namespace": "DiffNS", "key": "k1"})
    d.req("100 order conf", 100, {"namespace": "ORDER_TOPIC_CONFIG", "key": "SynOrder", "value": f"{B}:8"})
    d.req("105 SynOrder (orderTopicConf iff orderMessageEnable)", 105, {"topic": "SynOrder"})
    d.req("103 syn-b re-register (order conf in reply body)", 103, reg_ext(B, BA, BC, 0, body, __ZONE_NAME="zone-a"), body)

    # --- heartbeats and data versions (322, 904, 901)
    qd = {"brokerName": B, "brokerAddr": BA, "clusterName": BC, "brokerId": "0"}
    d.req("322 same version", 322, qd, json.dumps(dv(1)).encode())
    d.req("322 other version", 322, qd, json.dumps(dv(2)).encode())
    d.req("322 unknown broker", 322, dict(qd, brokerAddr="127.0.0.1:1"), json.dumps(dv(1)).encode())
    d.req("322 no body", 322, qd)
    d.req("904 heartbeat", 904, {"clusterName": BC, "brokerAddr": BA, "brokerName": B})
    d.req("904 heartbeat oneway", 904, {"clusterName": BC, "brokerAddr": BA, "brokerName": B}, oneway=True)
    d.req("901 member group", 901, {"clusterName": BC, "brokerName": B})
    d.req("901 member group recorded", 901, {"clusterName": C, "brokerName": R})
    d.req("901 unknown", 901, {"clusterName": BC, "brokerName": "nope"})

    # --- topic ops (217, 216) and lists (206, 224, 304, 311-313)
    rd = lambda qds: json.dumps({"brokerDatas": [], "filterServerTable": {}, "queueDatas": qds},  # noqa: E731
                                separators=(",", ":")).encode()
    qdata = lambda b, r=4, w=4, p=6, f=0: {"brokerName": b, "perm": p, "readQueueNums": r,  # noqa: E731
                                            "topicSysFlag": f, "writeQueueNums": w}
    d.req("217 new topic", 217, {"topic": "SynReg"}, rd([qdata(B, 2, 2)]))
    d.req("217 new topic unknown broker", 217, {"topic": "SynReg2"}, rd([qdata(B), qdata("nope")]))
    d.req("217 existing topic, second broker unknown", 217, {"topic": "SynReg"}, rd([qdata(B, 3, 3, 4), qdata("nope")]))
    d.req("217 unit topic", 217, {"topic": "SynRegUnit"}, rd([qdata(B, f=1)]))
    d.req("217 no body", 217, {"topic": "SynReg3"})
    d.req("217 malformed", 217, {"topic": "SynReg4"}, b"{[")
    d.req("105 SynReg", 105, {"topic": "SynReg"})
    d.req("105 SynReg2", 105, {"topic": "SynReg2"})
    d.req("206 all topics", 206)
    d.req("206 all topics binary", 206, ty=ROCKETMQ)
    d.req("224 by cluster", 224, {"cluster": BC})
    d.req("224 recorded cluster", 224, {"cluster": C})
    d.req("224 unknown cluster", 224, {"cluster": "nope"})
    d.req("224 no cluster", 224, {})
    d.req("304 system topics", 304)
    d.req("311 unit", 311)
    d.req("312 has unit sub", 312)
    d.req("313 has unit sub ununit", 313)
    d.req("216 delete with unknown cluster", 216, {"topic": "SynReg", "clusterName": "nope"})
    d.req("216 delete with cluster", 216, {"topic": "SynReg", "clusterName": BC})
    d.req("216 delete without cluster", 216, {"topic": "SynT1"})
    d.req("216 delete missing topic", 216, {"topic": "NoSuchTopic"})
    d.req("105 SynReg deleted", 105, {"topic": "SynReg"})
    d.req("105 SynT1 deleted", 105, {"topic": "SynT1"})

    # --- perms (205/327)
    d.req("205 wipe", 205, {"brokerName": B})
    d.req("105 SynUnit wiped", 105, {"topic": "SynUnit"})
    d.req("205 wipe again", 205, {"brokerName": B})
    d.req("205 wipe unknown", 205, {"brokerName": "nope"})
    d.req("327 add", 327, {"brokerName": B})
    d.req("327 add binary", 327, {"brokerName": "syn-zip"}, ty=ROCKETMQ)
    d.req("105 SynZip2 after add (perm 6)", 105, {"topic": "SynZip2"})
    d.req("205 wipe recorded master", 205, {"brokerName": R})
    d.req("105 RecTopic wiped", 105, {"topic": "RecTopic"})
    d.req("327 add recorded master", 327, {"brokerName": R})

    # --- config (319/318)
    d.req("319 config", 319)
    d.req("318 black-listed key", 318, body=b"kvConfigPath=/tmp/x\n")
    d.req("318 black-listed rocketmqHome", 318, body=b"rocketmqHome=/tmp/x\n")
    d.req("318 bad properties", 318, body=b"a=\\uZZZZ\n")
    d.req("318 no body", 318)
    d.req("318 update", 318, body=b"notifyMinBrokerIdChanged=false\nnoSuchKey=1\n")
    d.req("319 config after update", 319)

    # --- unregistration (104) and errors
    d.req("104 syn-b slave", 104, {"brokerName": B, "brokerAddr": BA2, "clusterName": BC, "brokerId": "1"})
    d.settle()
    d.req("901 syn-b after slave left", 901, {"clusterName": BC, "brokerName": B})
    d.req("104 syn-b master binary", 104, {"brokerName": B, "brokerAddr": BA, "clusterName": BC, "brokerId": "0"}, ty=ROCKETMQ)
    d.req("104 unknown broker", 104, {"brokerName": "nope", "brokerAddr": "127.0.0.1:2", "clusterName": BC, "brokerId": "0"})
    d.settle()
    d.req("105 SynUnit after unregister", 105, {"topic": "SynUnit"})
    d.req("106 after unregister", 106)
    d.req("unknown code 99999", 99999)
    d.req("unknown code 99 binary", 99, ty=ROCKETMQ)
    d.req("unknown code oneway (no reply)", 99999, oneway=True)
    d.req("unknown code 105+1000 v0 GO", 1105, {"topic": "x"}, version=0, language="GO")


def framing_errors(d):
    h = rmq.encode_json_header(106, None, 1)
    bad_type = struct.pack(">II", 4 + len(h), (5 << 24) | len(h)) + h
    d.send_raw("framing: serialize type 5 closes", "bad1", bad_type, 106, expect_close=True)
    bad_len = struct.pack(">II", 4 + len(h), len(h) + 10) + h
    d.send_raw("framing: header longer than frame closes", "bad2", bad_len, 106, expect_close=True)
    bad_json = rmq.frame(b"{not json", None)
    d.send_raw("framing: undecodable JSON header closes", "bad3", bad_json, 106, expect_close=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--java", required=True)
    ap.add_argument("--ours", required=True)
    ap.add_argument("--fixture", required=True)
    ap.add_argument("--phase", default="main")
    ap.add_argument("--java-release", default="5.3.3")
    ap.add_argument("--java-kv")
    ap.add_argument("--ours-kv")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    d = Diff(args)
    if args.phase == "wait":
        # needWaitForService=true: only 105 answers "name server not ready" (spec 5.9)
        print(f"# differential (wait) java {args.java_release} at {args.java}, ours at {args.ours}", flush=True)
        d.req("105 while waiting for service", 105, {"topic": "TBW102"})
        d.req("105 binary while waiting for service", 105, {"topic": "TBW102"}, ty=ROCKETMQ, version=400)
        d.req("106 while waiting for service", 106)
        d.req("101 while waiting for service", 101, {"namespace": "n", "key": "k"})
        d.req("206 while waiting for service", 206)
        d.drain()
        print(f"# {d.same} same, {d.known} known differences, {d.diff} unexplained differences")
        print(f"{d.same + d.known} passed, {d.diff} failed")
        return 1 if d.diff else 0
    meta, rows = load_fixture(args.fixture)
    first_unreg = next((i for i, r in enumerate(rows) if r["code"] == 104), len(rows))
    print(f"# differential ({args.phase}) java {args.java_release} at {args.java}, ours at {args.ours}; "
          f"{len(rows)} recorded requests", flush=True)
    replay(d, rows[:first_unreg], "replay")
    synthetic(d, meta, args.phase)
    import cases_broker  # noqa: E402  (here: it imports names from this module)
    cases_broker.run(d, meta, args.phase)
    cases_kv.run(d, meta, args.phase)
    cases_esc.run(d, meta, args.phase)
    import cases_order  # noqa: E402
    cases_order.run(d, meta, args.phase)
    framing_errors(d)
    # the rest of the recording: the brokers' UNREGISTER_BROKER, then what is left
    replay(d, rows[first_unreg:], "replay-end")
    d.settle()
    for topic in ("TBW102", "RecTopic", "SynUnit"):
        d.req(f"105 {topic} at the end", 105, {"topic": topic})
    d.req("106 at the end", 106)
    # a broker's connection closing unregisters it
    body = register_body([topic_config("SynClose"), topic_config("SynClose2")], dv(1))
    d.req("103 on a connection that then closes", 103,
          reg_ext("syn-close", "127.0.0.1:20961", "SynCluster", 0, body), body, conn="closing")
    d.req("105 SynClose before close", 105, {"topic": "SynClose"})
    d.close("closing")
    d.settle()
    d.req("105 SynClose after close", 105, {"topic": "SynClose"})
    d.req("106 final", 106)
    if args.java_kv and args.ours_kv:
        kj = open(args.java_kv, "rb").read() if os.path.exists(args.java_kv) else None
        ko = open(args.ours_kv, "rb").read() if os.path.exists(args.ours_kv) else None
        d.result("kvConfig.json file", kj == ko, f"    java: {kj!r}\n    ours: {ko!r}", kj, ko)
    d.drain()
    for name in list(d.conns):
        d.close(name)
    print(f"# {d.same} same, {d.known} known differences, {d.diff} unexplained differences"
          + (f" (known: {', '.join(d.known_hits)})" if d.known_hits else ""))
    print(f"{d.same + d.known} passed, {d.diff} failed")
    return 1 if d.diff else 0


if __name__ == "__main__":
    sys.exit(main())
