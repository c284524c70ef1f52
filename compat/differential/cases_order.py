"""Differential cases for Java's hash-table iteration order (issue 11, items 1-3).

Java iterates a HashMap / ConcurrentHashMap bucket by bucket, each bucket's chain in
insertion order; tables never shrink; a ConcurrentHashMap resize (transfer) reorders
chains. Each case below is a minimal sequence whose reply bytes show that order. Names
share Java hash buckets on purpose (found with `(h ^ h>>>16) & (cap-1)`):
  - ord-bq / ord-ba: bucket 5 of 16 (the later-sorting name registered first);
  - ord-g299 / ord-g211 / ord-g178: one bucket of brokerAddrTable's 256;
  - ord-C94 / ord-C72 / ord-C50: one bucket of clusterAddrTable's 64;
  - broker addresses 127.0.0.1:41161 / :41150: one bucket of filterServerTable's 16;
  - broker ids 16 and 0: bucket 0 of brokerAddrs;
  - ord-br / ord-bb: bucket 2 of 16 (a static topic's topicQueueMappingByBroker).
"""

from diff import dv, reg_ext, register_body, topic_config

C = "ord-Cluster"


def _register(d, label, name, addr, topics, cluster=C, bid=0, filters=(), counter=1, mapping=None, **extra):
    body = register_body(topics, dv(counter), filters=filters, mapping=mapping)
    return d.req(label, 103, reg_ext(name, addr, cluster, bid, body, **extra), body, conn=f"ord-{name}-{bid}")


def _route(d, label, topic):
    """105 in both route dialects: v400 writes Java's map order (legacy), v479 sorts."""
    for ver in (400, 479):
        d.req(f"ord 105 {label} v{ver}", 105, {"topic": topic}, version=ver)


def run(d, meta, phase):
    # 1. Two brokers in one bucket of a topic's HashMap: insertion order, not key order;
    #    311 takes the unit flag from the first QueueData Java iterates.
    _register(d, "ord 103 broker-orphan1 (T unit)", "broker-orphan1", "127.0.0.1:41001",
              [topic_config("ord-T1", sysflag=1), topic_config("ord-T1b")])
    _register(d, "ord 103 broker-c (T plain)", "broker-c", "127.0.0.1:41002",
              [topic_config("ord-T1"), topic_config("ord-T1b")])
    _route(d, "ord-T1", "ord-T1")
    d.req("ord 311 unit topics (first QueueData decides)", 311)
    d.req("ord 312 has unit sub", 312)
    d.req("ord 313 has unit sub ununit", 313)

    # same with prefixed names, and a broker removed then re-added (goes to the tail)
    _register(d, "ord 103 ord-bq", "ord-bq", "127.0.0.1:41011", [topic_config("ord-T2"), topic_config("ord-T2x")])
    _register(d, "ord 103 ord-ba", "ord-ba", "127.0.0.1:41012", [topic_config("ord-T2"), topic_config("ord-T2x")])
    _route(d, "ord-T2 (bq before ba)", "ord-T2")
    d.req("ord 104 ord-bq", 104, {"brokerName": "ord-bq", "brokerAddr": "127.0.0.1:41011",
                                   "clusterName": C, "brokerId": "0"}, conn="ord-ord-bq-0")
    d.settle()
    _route(d, "ord-T2 after bq left", "ord-T2")
    _register(d, "ord 103 ord-bq again", "ord-bq", "127.0.0.1:41011",
              [topic_config("ord-T2"), topic_config("ord-T2x")], counter=2)
    _route(d, "ord-T2 (bq re-added at the tail)", "ord-T2")
    d.req("ord 106 after re-add", 106)

    # 2. Topic lists after the newKeySet grows: one broker, the topic names.
    names = ["SCHEDULE_TOPIC_XXXX", "TopicUnitSub", "%DLQ%cg-billing"] + [f"topic-{i}" for i in range(9)]
    _register(d, "ord 103 ord-lists (12 topics)", "ord-lists", "127.0.0.1:41021",
              [topic_config(t) for t in names], cluster="ord-ListCluster")
    d.req("ord 206 all topics", 206)
    d.req("ord 224 ord-ListCluster", 224, {"cluster": "ord-ListCluster"})

    # 3. 304: brokerAddr from the first BrokerData of brokerAddrTable (256 buckets).
    _register(d, "ord 103 broker-a", "broker-a", "127.0.0.1:41031", [topic_config("ord-Ta"), topic_config("ord-Ta2")],
              cluster="ord-SysCluster")
    _register(d, "ord 103 broker-l", "broker-l", "127.0.0.1:41032", [topic_config("ord-Tl"), topic_config("ord-Tl2")],
              cluster="ord-SysCluster")
    d.req("ord 304 system topics", 304)

    # 304's brokerAddr is `brokerAddrs.keySet().iterator().next()` of the first group
    # in brokerAddrTable: ord-sys16-19286 spreads to bucket 0 (low 12 bits 0), ahead of
    # the ord-g* names below (registered after it left), and its
    # ids 16 then 0 share bucket 0 of brokerAddrs, so 16 (put first) comes first.
    for i, bid in enumerate((16, 0)):
        _register(d, f"ord 103 ord-sys16 id {bid}", "ord-sys16-19286", f"127.0.0.1:{41131 + i}",
                  [topic_config("ord-Ts16"), topic_config("ord-Ts16b")], bid=bid, cluster="ord-S16Cluster")
    d.req("ord 304 first group's ids 16 then 0", 304)
    for i, bid in enumerate((16, 0)):
        d.req(f"ord 104 ord-sys16 id {bid}", 104, {"brokerName": "ord-sys16-19286",
                                                    "brokerAddr": f"127.0.0.1:{41131 + i}",
                                                    "clusterName": "ord-S16Cluster", "brokerId": str(bid)},
              conn=f"ord-ord-sys16-19286-{bid}")
    d.settle()

    # filterServerTable gets a put for every address of the route, null lists included:
    # 13 addresses grow its HashMap to 32 buckets, where 127.0.0.1:41160 (bucket 14)
    # comes before 127.0.0.1:41180 (bucket 16; 0 of 16).
    fs_addrs = ["127.0.0.1:41180", "127.0.0.1:41160"] + [f"127.0.0.1:{41201 + i}" for i in range(11)]
    for bid, addr in enumerate(fs_addrs):
        filters = {0: ["fs-a:1"], 1: ["fs-b:1"]}.get(bid, [])
        _register(d, f"ord 103 ord-fs13 id {bid}", "ord-fs13", addr,
                  [topic_config("ord-Tfs"), topic_config("ord-Tfs2")], bid=bid, filters=filters,
                  cluster="ord-FsCluster")
    _route(d, "ord-Tfs (13 addresses, 2 with filter servers)", "ord-Tfs")
    for bid, addr in enumerate(fs_addrs):
        d.req(f"ord 104 ord-fs13 id {bid}", 104, {"brokerName": "ord-fs13", "brokerAddr": addr,
                                                   "clusterName": "ord-FsCluster", "brokerId": str(bid)},
              conn=f"ord-ord-fs13-{bid}")
    d.settle()

    # brokerAddrTable / clusterAddrTable buckets shared by several names (106, 304, 224)
    for i, (g, c) in enumerate([("ord-g299", "ord-C94"), ("ord-g211", "ord-C72"), ("ord-g178", "ord-C50"),
                                ("ord-g210", "ord-C94"), ("ord-g177", "ord-C72")]):
        _register(d, f"ord 103 {g} in {c}", g, f"127.0.0.1:{41041 + i}",
                  [topic_config(f"ord-Tg{i}"), topic_config("ord-Tg")], cluster=c)
    d.req("ord 106 shared buckets", 106)
    d.req("ord 304 shared buckets", 304)
    d.req("ord 224 ord-C94", 224, {"cluster": "ord-C94"})
    _route(d, "ord-Tg (five brokers)", "ord-Tg")

    # filterServerTable: its keys are broker addresses; the master's (put first)
    # 127.0.0.1:41161 shares a bucket of 16 with the slave's 127.0.0.1:41150
    _register(d, "ord 103 ord-filter", "ord-filter", "127.0.0.1:41161",
              [topic_config("ord-Tf"), topic_config("ord-Tf2")],
              filters=["127.0.0.1:31051", "127.0.0.1:31040", "127.0.0.1:31030"])
    _register(d, "ord 103 ord-filter slave", "ord-filter", "127.0.0.1:41150",
              [topic_config("ord-Tf"), topic_config("ord-Tf2")], bid=1,
              filters=["127.0.0.1:31041", "127.0.0.1:31052"])
    _route(d, "ord-Tf (filterServerTable)", "ord-Tf")

    # topicQueueMappingByBroker: a per-topic HashMap; ord-br (put first) and ord-bb
    # share bucket 2 of 16
    for i, b in enumerate(("ord-br", "ord-bb")):
        info = {"bname": b, "currIdMap": {"0": i, "1": i + 1}, "dirty": False, "epoch": 1,
                "scope": "__global__", "topic": "ord-Tm", "totalQueues": 4}
        _register(d, f"ord 103 {b} (static topic)", b, f"127.0.0.1:{41101 + i}",
                  [topic_config("ord-Tm"), topic_config(f"ord-Tm{i}")], mapping={"ord-Tm": info})
    _route(d, "ord-Tm (topicQueueMappingByBroker)", "ord-Tm")

    # brokerAddrs ids 16 and 0 share bucket 0: id 16 registered first
    _register(d, "ord 103 ord-ids id 16", "ord-ids", "127.0.0.1:41071",
              [topic_config("ord-Ti"), topic_config("ord-Ti2")], bid=16)
    _register(d, "ord 103 ord-ids id 0", "ord-ids", "127.0.0.1:41072",
              [topic_config("ord-Ti"), topic_config("ord-Ti2")], bid=0)
    _route(d, "ord-Ti (ids 16, 0)", "ord-Ti")
    d.req("ord 901 ord-ids", 901, {"clusterName": C, "brokerName": "ord-ids"})

    # acting master: a group without id 0 whose queues are read-only
    _register(d, "ord 103 ord-act id 32", "ord-act", "127.0.0.1:41081",
              [topic_config("ord-Tact", perm=4), topic_config("ord-Tact2", perm=4)], bid=32,
              enableActingMaster="true")
    _register(d, "ord 103 ord-act id 16", "ord-act", "127.0.0.1:41082",
              [topic_config("ord-Tact", perm=4), topic_config("ord-Tact2", perm=4)], bid=16,
              enableActingMaster="true")
    _route(d, "ord-Tact (acting master)", "ord-Tact")

    # acting master with supportActingMaster on (318; put back after): ids 4 and 8 sit
    # apart in the live map (16 buckets) but share bucket 0 of the route's copy (4), so
    # `remove(4)` then `put(0L, ..)` leaves 0 after 8
    d.req("ord 318 supportActingMaster=true", 318, body=b"supportActingMaster=true\n")
    for i, bid in enumerate((4, 8)):
        _register(d, f"ord 103 ord-am id {bid}", "ord-am", f"127.0.0.1:{41111 + i}",
                  [topic_config("ord-Tam", perm=4), topic_config("ord-Tam2", perm=4)], bid=bid,
                  enableActingMaster="true")
    _route(d, "ord-Tam (acting master in the copy)", "ord-Tam")
    _route(d, "ord-Tact (acting master, ids 32 and 16)", "ord-Tact")
    d.req("ord 318 supportActingMaster=false", 318, body=b"supportActingMaster=false\n")

    # zone mode: upstream decodes the legacy route and encodes it again; a group
    # without a master (ids 4 and 1: {4, 1} in the route's copy of 4 buckets) stays,
    # its brokerAddrs now a HashMap of 16 filled in that order: {1, 4}. Its queues
    # come from the prime slave (the lowest id of an acting-master group).
    for i, bid in enumerate((4, 1)):
        _register(d, f"ord 103 ord-zone id {bid}", "ord-zone", f"127.0.0.1:{41121 + i}",
                  [topic_config("ord-Tz"), topic_config("ord-Tz2")], bid=bid, __ZONE_NAME="zone-x",
                  enableActingMaster="true")
    _route(d, "ord-Tz", "ord-Tz")
    # the hook decodes the body the processor wrote: legacy (v400, stored order) or
    # standard (v479, sorted: ord-bb before ord-br, which the stored chain has first)
    for ver in (400, 479):
        for z in ("zone-x", "zone-y"):
            d.req(f"ord 105 ord-Tz zone mode {z} v{ver}", 105,
                  {"topic": "ord-Tz", "__ZONE_MODE": "true", "__ZONE_NAME": z}, version=ver)
        d.req(f"ord 105 ord-Tm zone mode v{ver}", 105,
              {"topic": "ord-Tm", "__ZONE_MODE": "true", "__ZONE_NAME": "zone-x"}, version=ver)
        d.req(f"ord 105 ord-Tf zone mode v{ver}", 105,
              {"topic": "ord-Tf", "__ZONE_MODE": "true", "__ZONE_NAME": "zone-x"}, version=ver)

    # zone mode re-decodes topicQueueMappingByBroker into a fresh HashMap: 13
    # brokers map ord-Tzm (its table grows to 32 buckets), 11 leave; the two left,
    # ord-zm12x (bucket 12 of 32 and of 16) and ord-zma (17 of 32, 1 of 16), swap
    # places in the zone-mode answer
    zm = ["ord-zma", "ord-zm12x"] + [f"ord-zm{c}" for c in "bcdefghijkl"]
    for i, b in enumerate(zm):
        info = {"bname": b, "currIdMap": {"0": i}, "dirty": False, "epoch": 1,
                "scope": "__global__", "topic": "ord-Tzm", "totalQueues": 13}
        _register(d, f"ord 103 {b} (zone, static topic)", b, f"127.0.0.1:{41201 + i}",
                  [topic_config("ord-Tzm")], mapping={"ord-Tzm": info}, __ZONE_NAME="zone-x")
    for i, b in enumerate(zm[2:], start=2):
        d.req(f"ord 104 {b} (zone, static topic)", 104, {"brokerName": b, "brokerAddr": f"127.0.0.1:{41201 + i}",
                                                         "clusterName": C, "brokerId": "0"})
    d.settle()
    _route(d, "ord-Tzm (mappings left in a table of 32)", "ord-Tzm")
    for ver in (400, 479):
        d.req(f"ord 105 ord-Tzm zone mode zone-x v{ver}", 105,
              {"topic": "ord-Tzm", "__ZONE_MODE": "true", "__ZONE_NAME": "zone-x"}, version=ver)

    # a broker with ~300 retry topics: the lists' newKeySet resizes several times
    retry = [topic_config(f"%RETRY%ord-group-{i}") for i in range(300)]
    _register(d, "ord 103 ord-retry (300 topics)", "ord-retry", "127.0.0.1:41091", retry,
              cluster="ord-RetryCluster")
    d.req("ord 206 with 300 retry topics", 206)
    d.req("ord 224 ord-RetryCluster", 224, {"cluster": "ord-RetryCluster"})
    d.req("ord 304 with retry cluster", 304)
