#!/usr/bin/env python3
"""Randomized differential: a seeded generator of broker, admin and client request
sequences, sent to Apache's Java NameServer and to ours; every reply is compared byte for
byte after diff.py's masking.

    randomized.py --java ADDR --ours ADDR [--java-release 5.5.0] [--seed N] [--seconds S]
                  [--max-steps K] [--keep-going] [--replay FILE] [-v]

The sequence depends on the seed only (never on a reply or the clock), so `--seed N` with
fresh servers replays a run; `--seconds` only decides how many steps are started (the
log's last step index tells; `--max-steps` replays exactly that many). It prints the seed
first; on a difference it prints the seed, the step index and the steps so far as JSON
lines (each line one step, replayable with `--replay FILE`), and stops unless
--keep-going. Ends with `N passed, M failed` like diff.py.

Each server must be fresh and run with scanNotActiveBrokerInterval=1000, so that a
broker registered with a short heartbeatTimeoutMillis has surely expired after
EXPIRY_WAIT (run.sh's phase `random` starts them so).

What it generates (see docs/compat.md, "Randomized differential"): several clusters;
master/slave groups, each broker address on its own connection; zones; filter servers;
static-topic mappings; a broker with hundreds of retry topics; JSON and ROCKETMQ request
headers; route lookups at versions 400 and 479 and with acceptStandardJsonOnly; KV puts,
deletes, gets and lists; topic admin (217/216/205/327); heartbeats (904/322);
unregistrations (104); connection closes; expiry. Names come from small pools with
hash-colliding members, so that Java's hash-table orders show.
"""

import argparse
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from diff import Diff, dv, register_body, reg_ext, topic_config  # noqa: E402
from rmq import JSON, ROCKETMQ  # noqa: E402

SCAN_INTERVAL = 1.0      # scanNotActiveBrokerInterval the servers run with (seconds)
SHORT_TIMEOUT_MS = 1500  # heartbeatTimeoutMillis of a broker meant to expire
# Short-lived broker expires at most SHORT_TIMEOUT + one scan after its registration;
# both servers then unregister it asynchronously (Java: BatchUnregistrationService).
EXPIRY_WAIT = SHORT_TIMEOUT_MS / 1000 + SCAN_INTERVAL + 1.2
MAX_EXPIRY_EPISODES = 2
MAX_STEPS = 3000
MAX_SECONDS = 90
TS0 = 1700000000000


# ---------------------------------------------------------------- name pools

def java_hash(s):
    h = 0
    units = s.encode("utf-16-be")
    for i in range(0, len(units), 2):
        h = (31 * h + int.from_bytes(units[i:i + 2], "big")) & 0xFFFFFFFF
    return h


def bucket(s, n):
    h = java_hash(s)
    return (h ^ (h >> 16)) & (n - 1)


def colliding_pairs(stem, levels=(16, 64, 256, 2048)):
    """For each table size n, two names `stem<i>` in one bucket of n but not of 2n (so a
    resize to 2n splits them), plus a pair with equal hashCode ("Aa" vs "BB")."""
    out = [stem + "Aa", stem + "BB"]
    for n in levels:
        seen = {}
        for i in range(100000):
            s = f"{stem}{i}"
            if s in out:
                continue
            b = bucket(s, n)
            other = seen.get(b)
            if other is not None and bucket(other, 2 * n) != bucket(s, 2 * n):
                out += [other, s]
                break
            seen.setdefault(b, s)
    return out


CLUSTERS = ["rnd-c-Aa", "rnd-c-BB", "rnd-c1"]
BROKERS = colliding_pairs("rnd-b-", (16, 64, 256))
TOPICS = (colliding_pairs("rnd-t-") + ["rnd-t-plain", "SCHEDULE_TOPIC_XXXX", "TopicUnitSub",
                                        "%DLQ%cg-billing", "rnd-topic-0", "rnd-topic-8"])
KV_NAMESPACES = ["rnd-ns-Aa", "rnd-ns-BB", "ORDER_TOPIC_CONFIG"]
KV_KEYS = colliding_pairs("rnd-k-", (16, 64)) + ["OFFSET_MOVED_EVENT", "BenchmarkTest"]
ZONES = [None, None, "zone-a", "zone-b"]
RETRY_BROKER = "rnd-retry"
# Features --skip can leave out (to bisect a difference, or to hold back a known one).
FEATURES = ("twin", "retry", "expiry", "mapping", "filters", "zones", "binary", "admin", "kv", "close",
            "unreg", "unicode")
# Non-ASCII and DEL in names and values (JSON escaping differs between fastjson and fastjson2).
UNICODE_CLUSTER, UNICODE_BROKER, UNICODE_TOPIC = "rnd-cé/1", "rnd-b-été", "rnd-t-é\u007f\u2028"
SKIP = set()


# ---------------------------------------------------------------- the generator

class Node:
    """One broker address: its group, id, connection and data version."""

    def __init__(self, name, cluster, bid, addr, zone):
        self.name, self.cluster, self.bid, self.addr, self.zone = name, cluster, bid, addr, zone
        self.conn = f"broker {addr}"
        self.counter = 0
        self.registered = False


def make_nodes(rng):
    nodes = []
    host = 0
    clusters = CLUSTERS + unicode_names(UNICODE_CLUSTER)
    for name in BROKERS + unicode_names(UNICODE_BROKER):
        cluster = rng.choice(clusters)
        zone = rng.choice(ZONES) if "zones" not in SKIP else None
        for bid in ([0, 1] if rng.random() < 0.5 else [0]):
            host += 1
            nodes.append(Node(name, cluster, bid, f"10.0.{host // 200}.{host % 200 + 1}:10911", zone))
    if "twin" not in SKIP:
        # the same broker name in a second cluster, on its own address and connection
        twin = rng.choice(nodes)
        host += 1
        nodes.append(Node(twin.name, next(c for c in CLUSTERS if c != twin.cluster), 1,
                          f"10.0.9.{host % 200 + 1}:10911", twin.zone))
    if "retry" not in SKIP:
        nodes.append(Node(RETRY_BROKER, CLUSTERS[0], 0, "10.0.8.1:10911", None))
    return nodes


def gen_topics(rng, node):
    """[name, readQueueNums, writeQueueNums, perm, topicSysFlag, order] rows (compact, as the
    failure report prints them)."""
    out = []
    for t in rng.sample(topic_pool(), rng.randint(1, 10)):
        q = rng.randint(1, 8)
        out.append([t, q, q if rng.random() < 0.8 else rng.randint(1, 8), rng.choice([6, 6, 6, 4, 2]),
                    rng.choice([0, 0, 0, 1, 2, 3]), int(rng.random() < 0.1)])
    return out


def retry_topics(n):
    """A broker's `%RETRY%` topics, one queue each, as brokers create them."""
    return [[f"%RETRY%rnd-cg-{i}", 1, 1, 6, 0, 0] for i in range(n)]


def all_topics(step):
    return retry_topics(step.get("retry", 0)) + step["topics"]


def gen_mapping(rng, node, topics):
    """topicQueueMappingInfoMap for one or two of the topics (static topics)."""
    out = {}
    for t in rng.sample(topics, min(len(topics), rng.randint(1, 2))):
        out[t[0]] = {"bname": node.name, "currIdMap": {str(i): i for i in range(rng.randint(0, 2))},
                               "dirty": False, "epoch": rng.randint(0, 3), "scope": "__global__",
                               "topic": t[0], "totalQueues": rng.randint(1, 8)}
    return out


def register_step(rng, node, timeout=None):
    if rng.random() < 0.8 or node.counter == 0:
        node.counter += 1
    topics = gen_topics(rng, node)
    step = {"op": "reg", "node": node.addr, "name": node.name, "cluster": node.cluster, "id": node.bid,
            "counter": node.counter, "topics": topics, "ty": pick_type(rng)}
    if node.name == RETRY_BROKER:
        step["retry"] = rng.randint(200, 400)
    if node.zone:
        step["zone"] = node.zone
    if rng.random() < 0.2 and "filters" not in SKIP:
        step["filters"] = [f"10.1.0.{rng.randint(1, 3)}:30000"]
    if rng.random() < 0.15 and "mapping" not in SKIP:
        step["mapping"] = gen_mapping(rng, node, topics)
    if timeout is not None:
        step["timeout"] = timeout
    elif rng.random() < 0.5:
        step["timeout"] = 600000
    node.registered = True
    return step


def pick_type(rng, binary=1 / 3):
    r = rng.random()
    return ROCKETMQ if r < binary and "binary" not in SKIP else JSON


def unicode_names(name):
    return [name] if "unicode" not in SKIP else []


def topic_pool():
    return TOPICS + unicode_names(UNICODE_TOPIC)


def route_step(rng):
    topic = rng.choice(topic_pool() + ["rnd-none"])
    step = {"op": "req", "code": 105, "ext": {"topic": topic}, "ty": pick_type(rng, 0.5),
            "version": rng.choice([400, 479])}
    r = rng.random()
    if r < 0.2:
        step["ext"]["acceptStandardJsonOnly"] = "true"
    elif r < 0.35:
        step["ext"].update({"__ZONE_MODE": "true", "__ZONE_NAME": rng.choice(["zone-a", "zone-b", "ZONE-A"])})
    return step


def req(code, ext=None, rng=None, body=None, conn="admin"):
    step = {"op": "req", "code": code, "ext": ext, "conn": conn}
    if rng is not None:
        step["ty"] = pick_type(rng)
    if body is not None:
        step["body"] = body
    return step


def route_data(rng):
    qds = [{"brokerName": rng.choice(BROKERS + ["rnd-nope"]), "perm": rng.choice([6, 4]),
            "readQueueNums": rng.randint(1, 4), "topicSysFlag": rng.choice([0, 1]),
            "writeQueueNums": rng.randint(1, 4)} for _ in range(rng.randint(1, 3))]
    return json.dumps({"brokerDatas": [], "filterServerTable": {}, "queueDatas": qds}, separators=(",", ":"))


def gen_steps(rng):
    """Yields the steps of one run (an endless sequence; the caller bounds it)."""
    nodes = make_nodes(rng)
    expiries = 0
    # every broker group registers once first, so that the tables are populated
    for n in rng.sample(nodes, len(nodes)):
        yield register_step(rng, n)
    kinds = (["reg"] * 14 + ["route"] * 18 + ["hb"] * 4 + ["qdv"] * 4 + ["unreg"] * 2 + ["close"] * 2
             + ["cluster"] * 4 + ["lists"] * 6 + ["group"] * 2 + ["kvput"] * 5 + ["kvdel"] * 3
             + ["kvlist"] * 4 + ["kvget"] * 2 + ["admin"] * 6 + ["expire"])
    kinds = [k for k in kinds if not (k.startswith("kv") and "kv" in SKIP) and k.replace("expire", "expiry")
             not in SKIP]
    # A broker name held in two clusters is never closed or expired: Java's cleanup
    # (RouteInfoManager#setupUnRegisterRequest) then keeps the address for good, which we
    # deliberately do not (docs/compat.md: "A broker name registered under a second cluster"). An
    # explicit 104 still goes to them: that path matches on the name alone.
    twins = {x.name for x in nodes if any(y.name == x.name and y.cluster != x.cluster for y in nodes)}
    closable = [x for x in nodes if x.name not in twins]
    while True:
        kind = rng.choice(kinds)
        n = rng.choice(nodes)
        if kind == "reg":
            yield register_step(rng, n)
        elif kind == "route":
            yield route_step(rng)
        elif kind == "hb":
            yield req(904, {"clusterName": n.cluster, "brokerAddr": n.addr, "brokerName": n.name}, rng, conn=n.conn)
        elif kind == "qdv":
            c = n.counter if rng.random() < 0.6 else n.counter + 1
            yield req(322, {"brokerName": n.name, "brokerAddr": n.addr, "clusterName": n.cluster,
                            "brokerId": str(n.bid)}, rng, body=json.dumps(dv(c, TS0 + c)), conn=n.conn)
        elif kind == "unreg":
            yield req(104, {"brokerName": n.name, "brokerAddr": n.addr, "clusterName": n.cluster,
                            "brokerId": str(n.bid)}, rng, conn=n.conn)
            yield {"op": "settle", "cont": 1}
        elif kind == "close":
            n = rng.choice(closable)
            yield {"op": "close", "conn": n.conn}
            yield {"op": "settle", "cont": 1}
        elif kind == "cluster":
            yield req(106, None, rng)
        elif kind == "lists":
            code = rng.choice([206, 224, 304, 311, 312, 313])
            ext = {"cluster": rng.choice(CLUSTERS)} if code == 224 else None
            yield req(code, ext, rng)
        elif kind == "group":
            yield req(901, {"clusterName": n.cluster, "brokerName": n.name}, rng)
        elif kind == "kvput":
            yield req(100, {"namespace": rng.choice(KV_NAMESPACES), "key": rng.choice(KV_KEYS),
                            "value": f"{rng.choice(BROKERS + unicode_names(UNICODE_BROKER))}:{rng.randint(1, 8)}"},
                      rng)
        elif kind == "kvdel":
            yield req(102, {"namespace": rng.choice(KV_NAMESPACES), "key": rng.choice(KV_KEYS)}, rng)
        elif kind == "kvlist":
            yield req(219, {"namespace": rng.choice(KV_NAMESPACES)}, rng)
        elif kind == "kvget":
            yield req(101, {"namespace": rng.choice(KV_NAMESPACES), "key": rng.choice(KV_KEYS)}, rng)
        elif kind == "admin":
            code = rng.choice([217, 216, 216, 205, 327])
            topic = rng.choice(TOPICS)
            if code == 217:
                yield req(217, {"topic": topic}, rng, body=route_data(rng))
            elif code == 216:
                yield req(216, {"topic": topic, "clusterName": rng.choice(CLUSTERS + [None])}, rng)
            else:
                yield req(code, {"brokerName": rng.choice(BROKERS)}, rng)
        elif kind == "expire" and expiries < MAX_EXPIRY_EPISODES:
            # an episode with nothing in between: register short-lived, look, wait, look
            expiries += 1
            doomed = rng.sample(closable, rng.randint(1, 2))
            episode = [register_step(rng, d, timeout=SHORT_TIMEOUT_MS) for d in doomed]
            episode += [route_step(rng), {"op": "wait", "seconds": EXPIRY_WAIT}]
            for d in doomed:
                # the scan closes an expired broker's channel (both servers do); reconnect next time
                episode.append({"op": "close", "conn": d.conn})
                d.registered = False
            episode += [req(106, None, rng), route_step(rng)]
            for j, s in enumerate(episode):
                if j:
                    s["cont"] = 1  # the deadline does not cut an episode short
                yield s


# ---------------------------------------------------------------- running a step

def step_name(i, s):
    if s["op"] == "reg":
        return (f"r{i} 103 {s['cluster']}/{s['name']}/{s['node']} id {s['id']} v{s['counter']} "
                f"({len(all_topics(s))} topics)")
    if s["op"] == "req":
        return f"r{i} {s['code']} {json.dumps(s.get('ext'), separators=(',', ':'))}"
    return f"r{i} {s['op']}"


def run_step(d, i, s):
    name = step_name(i, s)
    op = s["op"]
    if op == "reg":
        topics = [topic_config(t[0], t[1], t[2], t[3], t[4], bool(t[5])) for t in all_topics(s)]
        body = register_body(topics, dv(s["counter"], TS0 + s["counter"]), s.get("filters", ()),
                             s.get("mapping"))
        extra = {}
        if "zone" in s:
            extra["__ZONE_NAME"] = s["zone"]
        if "timeout" in s:
            extra["heartbeatTimeoutMillis"] = str(s["timeout"])
        ha = s["node"].rsplit(":", 1)[0] + ":10912"
        d.req(name, 103, reg_ext(s["name"], s["node"], s["cluster"], s["id"], body, ha=ha, **extra), body,
              ty=s["ty"], conn=f"broker {s['node']}")
    elif op == "req":
        body = s.get("body")
        d.req(name, s["code"], s.get("ext"), body.encode() if body is not None else None,
              ty=s.get("ty", JSON), conn=s.get("conn", "admin"), version=s.get("version", 479))
    elif op == "close":
        d.close(s["conn"])
    elif op == "settle":
        d.settle()
    elif op == "wait":
        time.sleep(s["seconds"])
    else:
        raise ValueError(f"unknown step {op}")


def report(seed, i, steps):
    how = f"--seed {seed} --max-steps {i + 1}" if isinstance(seed, int) else f"--replay {seed}"
    print(f"# seed {seed}: first difference at step {i}; reproduce with {how}"
          f" on fresh servers, or --replay with these {len(steps)} steps:")
    for s in steps:
        print("STEP " + json.dumps(s, separators=(",", ":")))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--java", required=True)
    ap.add_argument("--ours", required=True)
    ap.add_argument("--java-release", default="5.5.0")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--max-steps", type=int, default=MAX_STEPS)
    ap.add_argument("--keep-going", action="store_true", help="go on after a difference")
    ap.add_argument("--replay", help="a file of STEP lines (from a failure report) to send instead")
    ap.add_argument("--skip", default="", help=f"comma-separated features to leave out: {','.join(FEATURES)}")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    if args.seconds > MAX_SECONDS:
        ap.error(f"--seconds above {MAX_SECONDS}: brokers without heartbeatTimeoutMillis expire after 120 s, "
                 "at a moment that depends on the scans")
    SKIP.update(f for f in args.skip.split(",") if f)
    if not SKIP <= set(FEATURES):
        ap.error(f"unknown --skip feature: {','.join(SKIP - set(FEATURES))}")
    seed = args.seed if args.seed is not None else int(time.time() * 1000) % 1000000007
    if args.replay:
        seed = args.replay  # named in the report instead of a seed
    print(f"# randomized differential: seed {seed}, java {args.java_release} at {args.java}, "
          f"ours at {args.ours}, {args.seconds:g} s, at most {args.max_steps} steps"
          + (f", skipping {','.join(sorted(SKIP))}" if SKIP else ""), flush=True)
    if args.replay:
        lines = [ln[5:] for ln in open(args.replay, encoding="utf-8") if ln.startswith("STEP ")]
        source = iter(json.loads(ln) for ln in lines)
    else:
        source = gen_steps(random.Random(seed))
    d = Diff(argparse.Namespace(java=args.java, ours=args.ours, java_release=args.java_release,
                                verbose=args.verbose))
    done, first = [], None
    deadline = time.monotonic() + args.seconds
    for i, s in enumerate(source):
        if i >= args.max_steps or (not args.replay and not s.get("cont") and time.monotonic() > deadline):
            break
        done.append(s)
        before = d.diff
        run_step(d, i, s)
        if d.diff > before and first is None:
            first = i
            report(seed, i, done)
            if not args.keep_going:
                break
    d.drain()
    for name in list(d.conns):
        d.close(name)
    print(f"# seed {seed}: {len(done)} steps, {d.same} same, {d.known} known differences, "
          f"{d.diff} unexplained differences" + (f" (first at step {first})" if first is not None else ""))
    print(f"{d.same + d.known} passed, {d.diff} failed")
    return 1 if d.diff else 0


if __name__ == "__main__":
    sys.exit(main())
