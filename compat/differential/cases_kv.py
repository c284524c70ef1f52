"""KV cases: keys and namespaces that share a Java HashMap bucket.

Upstream's KVConfigManager keeps HashMap<String, HashMap<String, String>>: keys in one
bucket iterate in insertion order, a re-put keeps its place, a deleted then re-put key
goes to its chain's tail, and a table never shrinks. GET_KVLIST_BY_NAMESPACE (219), the
ORDER_TOPIC_CONFIG body of a REGISTER_BROKER reply (103) and kvConfig.json (compared by
diff.py at the end) show that order. "Aa" and "BB" have the same String.hashCode, and so
has any pair of strings that differ only by those two letters at the same place.
"""

import diff  # module, not names: diff.py imports this module while it loads
from rmq import ROCKETMQ

NS = "kv-coll"


def _put(d, label, ns, key, value, **kw):
    d.req(f"kv: 100 {label}", 100, {"namespace": ns, "key": key, "value": value}, **kw)


def run(d, meta, phase):
    # the sequence: two keys of one bucket, listed in insertion order
    _put(d, "ns-a OFFSET_MOVED_EVENT", "kv-ns-a", "OFFSET_MOVED_EVENT", "1")
    _put(d, "ns-a BenchmarkTest", "kv-ns-a", "BenchmarkTest", "2")
    d.req("kv: 219 ns-a (insertion order within a bucket)", 219, {"namespace": "kv-ns-a"})

    # colliding keys, a delete and a re-put, a re-put of a present key
    for i, k in enumerate(("BB", "Aa", "AaAa", "BBBB", "AaBB", "BBAa")):
        _put(d, f"{NS} {k}", NS, k, str(i))
    d.req("kv: 219 colliding keys", 219, {"namespace": NS})
    d.req("kv: 102 delete BB", 102, {"namespace": NS, "key": "BB"})
    _put(d, "re-put BB (to its chain's tail)", NS, "BB", "again")
    _put(d, "re-put present AaAa (keeps its place)", NS, "AaAa", "same place", ty=ROCKETMQ)
    d.req("kv: 219 after delete and re-put", 219, {"namespace": NS})
    d.req("kv: 219 after delete and re-put (binary)", 219, {"namespace": NS}, ty=ROCKETMQ)
    d.req("kv: 101 unaffected", 101, {"namespace": NS, "key": "BB"})

    # a table grown by 13 keys keeps its 32 buckets once 11 are gone
    for i in range(13):
        _put(d, f"kv-grow k{i}", "kv-grow", f"k{i}", str(i))
    for i in range(2, 13):
        d.req(f"kv: 102 kv-grow k{i}", 102, {"namespace": "kv-grow", "key": f"k{i}"})
    for k in ("BB", "Aa", "k17"):
        _put(d, f"kv-grow {k}", "kv-grow", k, k)
    d.req("kv: 219 grown table", 219, {"namespace": "kv-grow"})

    # two namespaces in one bucket (their order shows in kvConfig.json)
    _put(d, "namespace kv-BB", "kv-BB", "x", "1")
    _put(d, "namespace kv-Aa", "kv-Aa", "x", "2")
    d.req("kv: 219 namespace kv-Aa", 219, {"namespace": "kv-Aa"})

    # ORDER_TOPIC_CONFIG in a register reply, colliding keys; removed again afterwards
    for k in ("kv-BB", "kv-Aa"):
        _put(d, f"ORDER_TOPIC_CONFIG {k}", "ORDER_TOPIC_CONFIG", k, "kv-b:4")
    body = diff.register_body([diff.topic_config("kv-T1"), diff.topic_config("kv-T2")], diff.dv(1))
    d.req("kv: 103 reply's ORDER_TOPIC_CONFIG body", 103,
          diff.reg_ext("kv-b", "127.0.0.1:21911", "kv-cluster", 0, body), body, conn="kv-broker")
    d.req("kv: 219 ORDER_TOPIC_CONFIG", 219, {"namespace": "ORDER_TOPIC_CONFIG"})
    for k in ("kv-BB", "kv-Aa"):
        d.req(f"kv: 102 ORDER_TOPIC_CONFIG {k}", 102, {"namespace": "ORDER_TOPIC_CONFIG", "key": k})
    d.req("kv: 104 kv-b", 104, {"brokerName": "kv-b", "brokerAddr": "127.0.0.1:21911",
                                "clusterName": "kv-cluster", "brokerId": "0"}, conn="kv-broker")
    d.settle()
