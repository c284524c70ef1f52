"""Differential cases of issue 11, item 4: JSON string escaping as each release writes it.

5.5.0 (fastjson2) writes non-ASCII, DEL, U+0080..U+009F, U+2028/2029 and '/' raw in
every body and header; 5.3.3 (fastjson 1.2.83) escapes DEL..U+009F and U+2028/2029,
and in the standard route dialect also '/' and everything >= U+007F. Ours runs with
jsonCompatRelease=5.3 against 5.3.3 (run.sh). Names here start with `esc-` (broker
`broker-été`, cluster `Cé/1`) so no other case sees them.
"""

from rmq import ROCKETMQ

BROKER, CLUSTER, ADDR = "broker-été", "Cé/1", "127.0.0.1:21911"
# Every class of char the two releases escape differently, and the ones both escape.
ODD = "é\x7f\x80\x85\x9f\u2028\u2029/\"\\<>&'\ufeff\uffff😀"
TOPICS = ["esc-é", "esc-\x7f", "esc-\x80\x9f", "esc-\u2028\u2029", "esc-a/b", 'esc-"q"',
          "esc-b\\s", "esc-\x01\t\n", "esc-" + ODD]
KV_NS = "esc-ns-é/"
# A second broker whose names only 5.3's legacy dialect escapes (106 and 901 are
# legacy-only bodies). Its names and topics were picked to share no Java hash bucket
# with the other brokers, clusters and topics of the sequence: this case is about
# bytes, not about the order within a bucket.
BROKER2, CLUSTER2, ADDR2 = "broker-\x80\u2029", "esc-C\x7f\u2029", "127.0.0.1:21912"


def run(d, meta, phase):
    # Imported here: diff.py imports this module at its top.
    from diff import register_body, reg_ext, topic_config, dv

    body = register_body([topic_config(t) for t in TOPICS], dv(1))
    d.req("esc 103 broker-été in Cé/1", 103, reg_ext(BROKER, ADDR, CLUSTER, 0, body), body, conn="esc")
    body2 = register_body([topic_config("esc-2a\x9f"), topic_config("esc-2c\u2029")], dv(1))
    d.req("esc 103 second broker", 103, reg_ext(BROKER2, ADDR2, CLUSTER2, 0, body2), body2, conn="esc")

    # 105 in both dialects (v400 legacy, v479 and acceptStandardJsonOnly standard) and
    # both request header types.
    for i, t in enumerate(TOPICS):
        for ver in (400, 479):
            d.req(f"esc 105 topic#{i} v{ver}", 105, {"topic": t}, version=ver)
            d.req(f"esc 105 topic#{i} binary v{ver}", 105, {"topic": t}, ty=ROCKETMQ, version=ver)
    d.req("esc 105 odd topic v400 acceptStandardJsonOnly", 105,
          {"topic": TOPICS[-1], "acceptStandardJsonOnly": "true"}, version=400)

    d.req("esc 106 cluster info", 106)
    d.req("esc 106 cluster info binary", 106, ty=ROCKETMQ)
    d.req("esc 206 all topics", 206)
    d.req("esc 224 topics of Cé/1", 224, {"cluster": CLUSTER})
    d.req("esc 224 topics of Cé/1 binary", 224, {"cluster": CLUSTER}, ty=ROCKETMQ)
    d.req("esc 901 member group", 901, {"clusterName": CLUSTER, "brokerName": BROKER})
    d.req("esc 901 member group of the second broker", 901,
          {"clusterName": CLUSTER2, "brokerName": BROKER2})
    d.req("esc 105 second broker's topic v400", 105, {"topic": "esc-2a\x9f"}, version=400)

    # KV: keys and values with those chars, through both header types; the remark-free
    # replies carry them in the body (219) or in the header's extFields (101's value).
    d.req("esc 100 put", 100, {"namespace": KV_NS, "key": "k-" + ODD, "value": "v-" + ODD + "\x01\n"})
    d.req("esc 100 put binary", 100, {"namespace": KV_NS, "key": "k2/é", "value": ODD}, ty=ROCKETMQ)
    d.req("esc 101 get", 101, {"namespace": KV_NS, "key": "k-" + ODD})
    d.req("esc 101 get binary", 101, {"namespace": KV_NS, "key": "k2/é"}, ty=ROCKETMQ)
    d.req("esc 101 get json of the binary put", 101, {"namespace": KV_NS, "key": "k2/é"})
    d.req("esc 219 list", 219, {"namespace": KV_NS})
    d.req("esc 219 list binary", 219, {"namespace": KV_NS}, ty=ROCKETMQ)

    # A missing topic: the remark echoes its name in the JSON header.
    missing = "esc-none-" + ODD
    d.req("esc 105 missing topic (remark echoes it)", 105, {"topic": missing})
    d.req("esc 105 missing topic v400", 105, {"topic": missing}, version=400)
    d.req("esc 105 missing topic binary", 105, {"topic": missing}, ty=ROCKETMQ)

    # 318 with such chars (Properties escapes: the body is read as ISO-8859-1), then 319.
    # The name starts with "319 config" so the ours-only keys are dropped as elsewhere.
    d.req("esc 318 productEnvName with odd chars", 318,
          body=b"productEnvName=esc-\\u00e9/\\u0085\\u2028\\u007f\\ud83d\\ude00x\n")
    d.req("319 config esc after 318", 319)
    d.req("esc 318 productEnvName back", 318, body=b"productEnvName=center\n")

    # Leave no broker behind for the cases that follow.
    d.req("esc 104 broker-été", 104, {"brokerName": BROKER, "brokerAddr": ADDR,
                                      "clusterName": CLUSTER, "brokerId": "0"}, conn="esc")
    d.req("esc 104 second broker", 104, {"brokerName": BROKER2, "brokerAddr": ADDR2,
                                         "clusterName": CLUSTER2, "brokerId": "0"}, conn="esc")
    d.settle()
    d.req("esc 105 topic#0 after unregister", 105, {"topic": TOPICS[0]})
