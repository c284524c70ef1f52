"""Differential cases for odd broker requests (issue 11, items 5-8): registrations
without a dataVersion, one broker name under two clusters, broker requests missing
header fields, and malformed UTF-8 in either header serialization.

Everything here is named `brk-...` (brokers, clusters, topics, KV namespace) so it
does not touch the rest of the sequence; each case leaves the tables of both servers
as it found them (or identical on both), so later replies (106, the KV file) still
compare equal.
"""

import json
import re
import struct
import time

import rmq
from rmq import JSON, ROCKETMQ
from diff import dv, reg_ext, register_body, topic_config

C = "brk-C"  # the cluster of most cases here
NOW_SLACK_MS = 10_000


# ---------------------------------------------------------------- M4

def mask_fresh_timestamp(m):
    """M4: a 322 body's `timestamp` within a few seconds of now becomes <now>; any
    other value (0, a recorded one) is left as it is and must still match."""
    ty, header, body = m
    if body is None:
        return m
    now = int(time.time() * 1000)

    def sub(match):
        ts = int(match.group(1))
        return b'"timestamp":<now>' if abs(ts - now) < NOW_SLACK_MS else match.group(0)

    return ty, header, re.sub(rb'"timestamp":(\d+)', sub, body)


# ---------------------------------------------------------------- known differences

def _header(m):
    return json.loads(m[1].decode()) if m[0] == JSON else rmq.decode_binary_header(m[1])


def _only_java_keeps(entry):
    """Java's body is ours plus `entry` (a brokerAddrs entry) in one place."""
    def check(java, ours):
        jb, ob = java[2] or b"", ours[2] or b""
        stripped, n = re.subn(entry, b"", jb, count=1)
        return java[:2] == ours[:2] and n == 1 and stripped == ob
    return check


def _java_route_ours_none(broker):
    def check(java, ours):
        return (_header(java)["code"] == 0 and broker.encode() in (java[2] or b"")
                and _header(ours)["code"] == 17 and ours[2] is None)
    return check


KNOWN = {
    r"brk-6 105 brk-T61 after the second cluster's connection closed": (
        "a broker name registered under a second cluster: Java's close cleanup "
        "(RouteInfoManager#setupUnRegisterRequest) matches only the BrokerData's own "
        "cluster and serves the closed address forever; ours removes it (docs/compat.md)",
        _only_java_keeps(rb',"?1"?:"127\.0\.0\.1:21062"')),
    r"brk-7 105 brk-T75 after 104 without brokerId": (
        "104 without brokerId: Java's RouteInfoManager#unRegisterBroker throws on the "
        "null id after dropping only the live entry, so the route stays for good; ours "
        "unregisters the address (docs/compat.md)",
        _java_route_ours_none("brk-unid")),
}


def known(d, name, why, ok, detail=""):
    """Counts a case whose check this module makes itself (a closed connection)."""
    if ok:
        d.known += 1
        d.known_hits.append(name)
        print(f"KNOWN {name}: {why}")
    else:
        d.diff += 1
        print(f"DIFF {name}\n{detail}")


# ---------------------------------------------------------------- raw headers

BAD = b"\xed\xa0\x80"  # an encoded surrogate: one U+FFFD in Java, three in Rust's lossy
BAD2 = b"\xc3("        # a cut 2-byte sequence


def json_frame(d, code, ext_raw, body=None):
    """A JSON header whose ext values are raw bytes (may be malformed UTF-8)."""
    d.opaque += 1
    marks = {f"@@brk{i}@@": v for i, v in enumerate(ext_raw.values())}
    ext = dict(zip(ext_raw.keys(), marks.keys()))
    h = rmq.encode_json_header(code, ext, d.opaque)
    for mark, raw in marks.items():
        h = h.replace(mark.encode(), raw)
    return rmq.frame(h, body, JSON)


def binary_frame(d, code, ext_raw, body=None):
    """A ROCKETMQ header whose ext keys and values are raw bytes."""
    d.opaque += 1
    out = struct.pack(">hBhii", code, 0, 479, d.opaque, 0) + struct.pack(">i", 0)
    ext = b""
    for k, v in ext_raw.items():
        k = k.encode() if isinstance(k, str) else k
        ext += struct.pack(">h", len(k)) + k + struct.pack(">i", len(v)) + v
    out += struct.pack(">i", len(ext)) + ext
    return rmq.frame(out, body, ROCKETMQ)


def send_bad_json(d, name, code, ext_raw):
    """Malformed UTF-8 in a JSON header: 5.5.0 (fastjson2) reads it with U+FFFD and
    answers; 5.3.3 (fastjson 1) fails the header decode and closes the connection."""
    conn = f"brk-{name}"
    data = json_frame(d, code, ext_raw)
    if not d.mask_version:  # against 5.3.3
        p = d.conn(conn)
        for c in (p.java, p.ours):
            c.send(data)
        rj, ro = p.java.recv_frame(5.0), p.ours.recv_frame(5.0)
        ok = rj == b"" and ro not in (None, b"")
        known(d, name, "5.3.3's fastjson 1 refuses a JSON header with malformed UTF-8 "
              "and closes the connection; ours reads it as 5.5.0 does (docs/compat.md)", ok,
              f"    java: {rj!r}\n    ours: {ro!r}")
    else:
        d.send_raw(name, conn, data, code)
    d.close(conn)


# ---------------------------------------------------------------- the cases

def no_data_version(d):
    """5. Java's `new DataVersion()` takes the clock; a second fresh one differs."""
    addr = "127.0.0.1:21051"
    w = {"topicConfigTable": {t: topic_config(t) for t in ("brk-T51", "brk-T52")}}
    body = json.dumps({"filterServerList": [], "topicConfigSerializeWrapper": w},
                      separators=(",", ":")).encode()
    qd = {"brokerName": "brk-nodv", "brokerAddr": addr, "clusterName": C, "brokerId": "0"}
    d.req("brk-5 103 without dataVersion", 103, reg_ext("brk-nodv", addr, C, 0, body), body,
          conn="brk-5")
    d.req("brk-5 322 stored version is fresh", 322, qd, json.dumps(dv(1)).encode(),
          mask=mask_fresh_timestamp)
    time.sleep(0.01)  # two fresh versions a few ms apart
    w["topicConfigTable"]["brk-T51"] = topic_config("brk-T51", perm=4)
    body = json.dumps({"filterServerList": [], "topicConfigSerializeWrapper": w},
                      separators=(",", ":")).encode()
    d.req("brk-5 103 again without dataVersion, perm 6 -> 4", 103,
          reg_ext("brk-nodv", addr, C, 0, body), body, conn="brk-5")
    d.req("brk-5 105 brk-T51 takes perm 4", 105, {"topic": "brk-T51"})
    d.req("brk-5 322 without timestamp (now)", 322, qd, b'{"counter":0,"stateVersion":0}',
          mask=mask_fresh_timestamp)
    d.close("brk-5")
    d.settle()
    d.req("brk-5 105 brk-T51 after close", 105, {"topic": "brk-T51"})


def second_cluster(d):
    """6. One broker name, two clusters, the second's connection closes."""
    a, b = "127.0.0.1:21061", "127.0.0.1:21062"
    body = register_body([topic_config("brk-T61"), topic_config("brk-T62")], dv(1))
    d.req("brk-6 103 brk-ClusterA/brk-a id 0", 103, reg_ext("brk-a", a, "brk-ClusterA", 0, body),
          body, conn="brk-6a")
    d.req("brk-6 103 brk-ClusterB/brk-a id 1", 103, reg_ext("brk-a", b, "brk-ClusterB", 1, body),
          body, conn="brk-6b")
    d.req("brk-6 105 brk-T61 both clusters", 105, {"topic": "brk-T61"})
    d.close("brk-6b")
    time.sleep(1.0)
    d.req("brk-6 105 brk-T61 after the second cluster's connection closed", 105, {"topic": "brk-T61"})
    # Leave both servers alike: the second address unregistered explicitly, then the first.
    d.req("brk-6 104 brk-ClusterB/brk-a id 1", 104,
          {"brokerName": "brk-a", "brokerAddr": b, "clusterName": "brk-ClusterB", "brokerId": "1"})
    d.settle()
    d.req("brk-6 105 brk-T61 after 104", 105, {"topic": "brk-T61"})
    d.close("brk-6a")
    d.settle()
    d.req("brk-6 105 brk-T61 after both closed", 105, {"topic": "brk-T61"})


def missing_fields(d):
    """7. Header fields missing: decoding never fails (the @CFNotNull check is only
    logged), the NullPointerException comes where the field is first used."""
    # 103 without clusterName: success, nothing stored
    body = register_body([topic_config("brk-T71"), topic_config("brk-T72")], dv(1))
    ext = reg_ext("brk-nocl", "127.0.0.1:21071", C, 0, body)
    del ext["clusterName"]
    d.req("brk-7 103 without clusterName", 103, ext, body, conn="brk-7a")
    d.req("brk-7 105 brk-T71 (not stored)", 105, {"topic": "brk-T71"})
    d.close("brk-7a")
    # 904 / 322 without clusterName or brokerAddr: SYSTEM_ERROR
    hb = {"clusterName": C, "brokerAddr": "127.0.0.1:21071", "brokerName": "brk-nocl"}
    for missing in ("clusterName", "brokerAddr"):
        part = {k: v for k, v in hb.items() if k != missing}
        d.req(f"brk-7 904 without {missing}", 904, part)
        d.req(f"brk-7 322 without {missing}", 322, dict(part, brokerId="0"),
              json.dumps(dv(1)).encode())

    # 104 without clusterName: acknowledged, nothing changes until the close
    addr = "127.0.0.1:21073"
    body = register_body([topic_config("brk-T73"), topic_config("brk-T74")], dv(1))
    d.req("brk-7 103 brk-uncl", 103, reg_ext("brk-uncl", addr, C, 0, body), body, conn="brk-7b")
    d.req("brk-7 104 without clusterName", 104,
          {"brokerName": "brk-uncl", "brokerAddr": addr, "brokerId": "0"})
    d.settle()
    d.req("brk-7 105 brk-T73 after 104 without clusterName", 105, {"topic": "brk-T73"})
    d.close("brk-7b")
    d.settle()
    d.req("brk-7 105 brk-T73 after close", 105, {"topic": "brk-T73"})

    # 104 without brokerName / brokerId: Java drops the live entry and stops there
    addr = "127.0.0.1:21075"
    body = register_body([topic_config("brk-T75"), topic_config("brk-T76")], dv(1))
    full = {"brokerName": "brk-unid", "brokerAddr": addr, "clusterName": C, "brokerId": "0"}
    for missing in ("brokerName", "brokerId"):
        d.req(f"brk-7 103 brk-unid before 104 without {missing}", 103,
              reg_ext("brk-unid", addr, C, 0, body), body, conn="brk-7c")
        d.req(f"brk-7 104 without {missing}", 104, {k: v for k, v in full.items() if k != missing})
        d.settle()
        d.req(f"brk-7 105 brk-T75 after 104 without {missing}", 105, {"topic": "brk-T75"})
    # and a whole 104 takes it out on both
    d.req("brk-7 103 brk-unid again", 103, reg_ext("brk-unid", addr, C, 0, body), body, conn="brk-7c")
    d.req("brk-7 104 brk-unid", 104, full)
    d.settle()
    d.req("brk-7 105 brk-T75 after a whole 104", 105, {"topic": "brk-T75"})
    d.close("brk-7c")


def malformed_utf8(d):
    """8. Java reads malformed UTF-8 in a header as U+FFFD and answers."""
    topic = b"brk-T8" + BAD + b"x"
    d.send_raw("brk-8 105 malformed topic, binary header", "brk-8b",
               binary_frame(d, 105, {"topic": topic}), 105)
    d.send_raw("brk-8 105 cut sequence in topic, binary header", "brk-8b",
               binary_frame(d, 105, {"topic": b"brk-T8" + BAD2}), 105)
    key, value = b"brk-k" + BAD, b"v" + BAD2 + b"w"
    ns = {"namespace": b"brk-ns"}
    d.send_raw("brk-8 100 malformed key and value, binary", "brk-8b",
               binary_frame(d, 100, dict(ns, key=key, value=value)), 100)
    d.send_raw("brk-8 101 malformed key, binary", "brk-8b",
               binary_frame(d, 101, dict(ns, key=key)), 101)
    d.send_raw("brk-8 101 the same key as U+FFFD, binary", "brk-8b",
               binary_frame(d, 101, dict(ns, key="brk-k\ufffd".encode())), 101)
    d.send_raw("brk-8 105 malformed ext key, binary", "brk-8b",
               binary_frame(d, 105, {b"top" + BAD: b"x", "topic": b"brk-T8"}), 105)
    d.send_raw("brk-8 102 delete it, binary", "brk-8b",
               binary_frame(d, 102, dict(ns, key=key)), 102)
    d.close("brk-8b")

    send_bad_json(d, "brk-8 105 malformed topic, JSON header", 105, {"topic": topic})
    send_bad_json(d, "brk-8 100 malformed key and value, JSON", 100,
                  dict(ns, key=key, value=value))
    send_bad_json(d, "brk-8 101 malformed key, JSON", 101, dict(ns, key=key))
    send_bad_json(d, "brk-8 102 delete it, JSON", 102, dict(ns, key=key))
    d.req("brk-8 219 namespace empty again", 219, {"namespace": "brk-ns"})


def run(d, meta, phase):
    d.known_rules.update(KNOWN)
    no_data_version(d)
    second_cluster(d)
    missing_fields(d)
    malformed_utf8(d)
