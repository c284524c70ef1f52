"""Brokers for compat/scenarios/namesrv_diff.sh, over the raw protocol (no broker JVM).

    namesrv_diff_brokers.py hold ADDR...          register the same brokers on every ADDR,
                                                  print "registered", then keep the
                                                  connections open (re-registering every
                                                  20 s) until killed
    namesrv_diff_brokers.py topic ADDR TOPIC BROKER
                                                  217 REGISTER_TOPIC_IN_NAMESRV on ADDR only
    namesrv_diff_brokers.py config ADDR KEY=VALUE 318 UPDATE_NAMESRV_CONFIG on ADDR
    namesrv_diff_brokers.py header ADDR CODE      the reply header of a body-less CODE,
                                                  as compact JSON

A name server unregisters a broker when the connection it registered over closes
(BrokerHousekeepingService#onChannelClose), hence the held connections.
"""

import json
import os
import sys
import time
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "differential"))
import rmq  # noqa: E402

CLUSTER = "diff-C"
# (broker name, id, address, topics as (name, perm))
BROKERS = [
    ("diff-a", 0, "127.0.0.1:30911", [("diff-T1", 6), ("diff-T2", 4)]),
    ("diff-a", 1, "127.0.0.1:30912", [("diff-T1", 6), ("diff-T2", 4)]),
    ("diff-b", 0, "127.0.0.1:30921", [("diff-T1", 6), ("diff-b", 7)]),
]


def topic_config(name, perm):
    return {"attributes": {}, "order": False, "perm": perm, "readQueueNums": 4,
            "topicFilterType": "SINGLE_TAG", "topicName": name, "topicSysFlag": 0,
            "writeQueueNums": 4}


def register_frame(name, bid, addr, topics, opaque):
    body = json.dumps({
        "filterServerList": [],
        "topicConfigSerializeWrapper": {
            "dataVersion": {"counter": 1, "stateVersion": 0, "timestamp": 1700000000000},
            "topicConfigTable": {t: topic_config(t, p) for t, p in topics},
        },
    }, separators=(",", ":")).encode()
    ext = {"brokerName": name, "brokerAddr": addr, "clusterName": CLUSTER,
           "haServerAddr": addr, "brokerId": str(bid), "compressed": "false",
           "bodyCrc32": str(zlib.crc32(body) & 0x7FFFFFFF)}
    return rmq.request(103, ext, body, opaque=opaque)


def call(conn, data, what):
    conn.send(data)
    reply = conn.recv_frame(10.0)
    if not reply:
        sys.exit(f"{what}: no reply")
    ty, header, _ = rmq.parts(reply)
    h = rmq.decode_header(ty, header)
    if h["code"] != 0:
        sys.exit(f"{what}: code {h['code']} {h.get('remark')}")


def register_all(conns):
    for addr, conn in conns:
        for i, (name, bid, baddr, topics) in enumerate(BROKERS):
            call(conn, register_frame(name, bid, baddr, topics, 1000 + i), f"register {name}/{bid} on {addr}")


def hold(addrs):
    conns = [(a, rmq.Conn(a)) for a in addrs]
    register_all(conns)
    print("registered", flush=True)
    while True:
        time.sleep(20)
        register_all(conns)


def register_topic(addr, topic, broker):
    body = json.dumps({"brokerDatas": [], "filterServerTable": {}, "queueDatas": [
        {"brokerName": broker, "perm": 6, "readQueueNums": 4, "topicSysFlag": 0, "writeQueueNums": 4}
    ]}, separators=(",", ":")).encode()
    conn = rmq.Conn(addr)
    call(conn, rmq.request(217, {"topic": topic}, body, opaque=1), f"217 {topic} on {addr}")
    conn.close()


def update_config(addr, line):
    conn = rmq.Conn(addr)
    call(conn, rmq.request(318, {}, line.encode(), opaque=1), f"318 {line} on {addr}")
    conn.close()


def reply_header(addr, code):
    conn = rmq.Conn(addr)
    conn.send(rmq.request(int(code), {}, opaque=1))
    reply = conn.recv_frame(10.0)
    if not reply:
        sys.exit(f"{code} on {addr}: no reply")
    ty, header, _ = rmq.parts(reply)
    print(json.dumps(rmq.decode_header(ty, header), separators=(",", ":")))
    conn.close()


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "hold":
        hold(sys.argv[2:])
    elif len(sys.argv) == 5 and sys.argv[1] == "topic":
        register_topic(*sys.argv[2:])
    elif len(sys.argv) == 4 and sys.argv[1] == "config":
        update_config(*sys.argv[2:])
    elif len(sys.argv) == 4 and sys.argv[1] == "header":
        reply_header(*sys.argv[2:])
    else:
        sys.exit(__doc__)
