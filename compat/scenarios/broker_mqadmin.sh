#!/usr/bin/env bash
# Drop-in proof, scenario 1: a real 5.x broker, the real mqadmin and real clients against a
# NameServer.
#
#   compat/scenarios/broker_mqadmin.sh java   # the Java NameServer (validates the scenario)
#   compat/scenarios/broker_mqadmin.sh ours   # our namesrv (target/{release,debug}/namesrv or $NAMESRV_BIN)
#
# Needs `compat/peers fetch` first. Prints PASS/FAIL per check and ends with
# "N passed, M failed"; exits non-zero if anything failed.
#
# Knobs: COMPAT_MSGS (messages per client, default 100), COMPAT_EXTRA=0 (skip the 4.9.x/Go
# clients and the 4.9.x mqadmin), COMPAT_KEEP=1 (keep logs), COMPAT_NETNS=0 (no private netns).
set -uo pipefail

KIND=${1:-${NAMESRV_KIND:-java}}
case "$KIND" in java | ours) ;; *) echo "usage: $0 java|ours" >&2; exit 2 ;; esac

# shellcheck source=SCRIPTDIR/../lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"
compat_init "broker_mqadmin-$KIND" "$@"

N=${COMPAT_MSGS:-100}
EXTRA=${COMPAT_EXTRA:-1}
T1=CompatT1
NSPACE=CompatNS

# orderMessageEnable: the route reply carries orderTopicConf from the KV store (checked below)
compat_start_namesrv "$KIND" orderMessageEnable=true
NS=$NAMESRV_ADDR
compat_start_broker compat-broker-a
B=$BROKER_NAME
C=$BROKER_CLUSTER
BA=$BROKER_ADDR
# regex-quoted forms
qre() { printf '%s' "$1" | sed 's/[][\.*^$+?(){}|/]/\\&/g'; }
NSRE=$(qre "$NS")
BARE=$(qre "$BA")

# --- helpers -------------------------------------------------------------------------------

# route_field TOPIC REGEX...: RouteDump (5.x client) output matches all REGEXes
route_has() {
    local topic=$1 a=()
    shift
    local re
    for re in "$@"; do a+=(-e "$re"); done
    compat_expect "${a[@]}" compat_java5 RouteDump "$NS" "$topic"
}

# route_absent TOPIC: the NameServer answers TOPIC_NOT_EXIST (17)
route_absent() {
    local out rc
    out=$(compat_java5 RouteDump "$NS" "$1")
    rc=$?
    echo "$out (exit $rc)"
    [[ $rc -eq 3 && "$out" == *'"code":17'* ]]
}

# kv_absent NS KEY: GET_KV_CONFIG answers QUERY_NOT_FOUND (22)
kv_absent() {
    local out rc
    out=$(compat_java5 KvGet "$NS" "$1" "$2")
    rc=$?
    echo "$out (exit $rc)"
    [[ $rc -eq 3 && "$out" == *'"code":22'* ]]
}

# routes_agree TOPIC [-Dprop...]: the 5.x and 4.9.x clients decode the same route (the
# 4.9.x one run with the given system properties)
routes_agree() {
    local r5 r4 topic=$1
    shift
    r5=$(compat_java5 RouteDump "$NS" "$topic") || { echo "5.x: $r5"; return 1; }
    r4=$(compat_java4 "$@" RouteDump "$NS" "$topic") || { echo "4.9 $*: $r4"; return 1; }
    echo "5.x: $r5"
    echo "4.9 $*: $r4"
    [[ "$r5" == "$r4" ]] || { echo ">> routes differ"; return 1; }
}
# routes_agree5 TOPIC -Dprop...: the same for a 5.x client with the given properties
routes_agree5() {
    local r a b topic=$1
    shift
    a=$(compat_java5 RouteDump "$NS" "$topic") || { echo "5.x: $a"; return 1; }
    b=$(compat_java5 "$@" RouteDump "$NS" "$topic") || { echo "5.x $*: $b"; return 1; }
    echo "5.x: $a"
    echo "5.x $*: $b"
    [[ "$a" == "$b" ]] || { echo ">> routes differ"; return 1; }
}

kv_file_has() { # NS KEY VALUE: kvConfigPath holds configTable[NS][KEY] == VALUE
    python3 - "$NAMESRV_KV" "$@" <<'EOF'
import json, sys
path, ns, key, value = sys.argv[1:5]
try:
    raw = open(path, encoding="utf-8").read()
except OSError as e:
    sys.exit(f"cannot read {path}: {e}")
print(raw)
got = json.loads(raw).get("configTable", {}).get(ns, {}).get(key)
sys.exit(0 if got == value else f">> configTable[{ns}][{key}] = {got!r}, want {value!r}")
EOF
}

kv_file_is() { # JSON: kvConfigPath parses to exactly this (key order aside)
    python3 - "$NAMESRV_KV" "$1" <<'EOF'
import json, sys
path, want = sys.argv[1:3]
raw = open(path, encoding="utf-8").read()
print(raw)
sys.exit(0 if json.loads(raw) == json.loads(want) else f">> want {want}")
EOF
}

wipe_then_check() {
    compat_expect -e "wipe write perm of broker\[$B\] in name server\[$NSRE\] OK, [1-9]" \
        compat_mqadmin wipeWritePerm -b "$B" -n "$NS" || return 1
    # A periodic broker re-registration (every 30 s) restores perm 6; a retry covers that race.
    route_has "$T1" '"perm":4'
}

add_then_check() {
    compat_expect -e "add write perm of broker\[$B\] in name server\[$NSRE\] OK, [1-9]" \
        compat_mqadmin addWritePerm -b "$B" -n "$NS" || return 1
    route_has "$T1" '"perm":6'
}

# produce_consume KIND TOPIC GROUP
produce_java() { # 5|4 TOPIC
    compat_expect -e "^SENT $N\$" "compat_java$1" Producer "$NS" "$2" "$N" "compat_pg_$1" "m$1"
}
consume_java() { # 5|4 TOPIC
    compat_expect -e "^RECEIVED $N\$" "compat_java$1" PushConsumer "$NS" "$2" "compat_cg_$1" "$N" 60 "m$1"
}

# --- checks --------------------------------------------------------------------------------

compat_check clusterList compat_until 60 \
    compat_expect -e "^$C +$B +0 +$BARE " compat_mqadmin clusterList -n "$NS"

compat_check topicList compat_expect -e '^TBW102$' -e "^$C\$" -e "^$B\$" \
    compat_mqadmin topicList -n "$NS"

compat_check updateTopic compat_expect -e "create topic to $BARE success" \
    compat_mqadmin updateTopic -n "$NS" -c "$C" -t "$T1" -r 4 -w 4

compat_check topicRoute compat_until 30 \
    compat_expect -e "\"$BARE\"" -e '"writeQueueNums" ?: ?4' -e "\"brokerName\" ?: ?\"$B\"" \
    compat_mqadmin topicRoute -n "$NS" -t "$T1"

compat_check routeDump_5x route_has "$T1" "\"brokerAddrs\":\\{\"0\":\"$BARE\"\\}" \
    '"readQueueNums":4,"writeQueueNums":4,"perm":6'

compat_check routeDump_4x_agrees routes_agree "$T1"

compat_check updateKvConfig compat_expect -e 'create or update kv config to namespace success' \
    compat_mqadmin updateKvConfig -n "$NS" -s "$NSPACE" -k compatKey -v compatValue

compat_check getKvConfig compat_expect -e '"value":"compatValue"' compat_java5 KvGet "$NS" "$NSPACE" compatKey

compat_check getKvList_4x compat_expect -e '"table":\{"compatKey":"compatValue"\}' compat_java4 KvGet "$NS" "$NSPACE"

compat_check kvConfigFile kv_file_has "$NSPACE" compatKey compatValue

compat_check deleteKvConfig compat_expect -e 'delete kv config from namespace success' \
    compat_mqadmin deleteKvConfig -n "$NS" -s "$NSPACE" -k compatKey

compat_check getKvConfig_deleted kv_absent "$NSPACE" compatKey

compat_check updateOrderConf compat_expect -x -e 'update orderConf success' \
    compat_mqadmin updateOrderConf -n "$NS" -t "$T1" -v "$B:4" -m put

compat_check routeOrderTopicConf route_has "$T1" "\"orderTopicConf\":\"$B:4\""

compat_check deleteOrderConf compat_expect -x -e 'delete orderConf success' \
    compat_mqadmin updateOrderConf -n "$NS" -t "$T1" -m delete

compat_check routeOrderTopicConf_deleted route_has "$T1" '"orderTopicConf":null'

# Deletes leave empty namespaces behind (as Java's KVConfigManager does).
compat_check kvConfigFile_final kv_file_is '{"configTable":{"CompatNS":{},"ORDER_TOPIC_CONFIG":{}}}'

compat_check wipeWritePerm compat_tries 3 wipe_then_check

compat_check addWritePerm compat_tries 2 add_then_check

compat_check getNamesrvConfig compat_expect -e "^============$NSRE============" \
    -e "^listenPort +=  $NAMESRV_PORT\$" -e "^kvConfigPath +=  $(qre "$NAMESRV_KV")\$" \
    compat_mqadmin getNamesrvConfig -n "$NS"

compat_check deleteTopic compat_expect \
    -e "delete topic \[$T1\] from cluster \[$C\] success" -e "delete topic \[$T1\] from NameServer success" \
    compat_mqadmin deleteTopic -n "$NS" -c "$C" -t "$T1"

compat_check topicRoute_deleted compat_until 10 route_absent "$T1"

compat_check topicList_deleted compat_expect -e '^TBW102$' -v "^$T1\$" compat_mqadmin topicList -n "$NS"

compat_check updateTopic_msg compat_expect -e "create topic to $BARE success" \
    compat_mqadmin updateTopic -n "$NS" -c "$C" -t CompatMsg5 -r 4 -w 4
compat_check produce_5x produce_java 5 CompatMsg5
compat_check consume_5x consume_java 5 CompatMsg5

# wire_check MODE CLIENT_CMD...: runs a client through a recording proxy in front of the
# NameServer (compat/differential/record.py) and checks what went over the wire:
#   binary: every request had a ROCKETMQ binary header (type byte 1);
#   legacy: route replies used fastjson's dialect (unquoted {0:"addr"} keys).
WIRE=$COMPAT_TMP/wire.jsonl
PROXY_PORT=$(compat_free_port)
compat_spawn "$COMPAT_TMP/proxy.log" python3 "$COMPAT_DIR/differential/record.py" "$PROXY_PORT" "$NS" "$WIRE"
PROXY=127.0.0.1:$PROXY_PORT
wire_check() {
    local mode=$1
    shift
    : >"$WIRE"
    "$@" || return 1
    python3 - "$WIRE" "$mode" "$COMPAT_DIR/differential" <<'PY'
import base64, json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
req = [base64.b64decode(r["frame"]) for r in rows if r["dir"] == ">"]
rep = [base64.b64decode(r["frame"]) for r in rows if r["dir"] == "<"]
print(f"{len(req)} requests (codes {sorted({r['code'] for r in rows if r['dir'] == '>'})}), {len(rep)} replies")
if sys.argv[2] == "binary":
    types = sorted({f[4] for f in req})
    print("request header types:", types)
    sys.exit(0 if req and types == [1] else ">> not all requests had a ROCKETMQ header")
# Each route reply against the version of its request (same connection and opaque): the
# legacy dialect iff version < 401, and at least one request announced 400. (A request
# from a client thread that ran before the override still carries the library's version.)
sys.path.insert(0, sys.argv[3])
import rmq
reqs, n_legacy, bad = {}, 0, 0
for r in rows:
    ty, header, body = rmq.parts(base64.b64decode(r["frame"]))
    h = rmq.decode_header(ty, header)
    if r["dir"] == ">":
        reqs[(r["conn"], h["opaque"])] = h
        continue
    q = reqs.get((r["conn"], h["opaque"]))
    if not q or q["code"] != 105 or h["code"] != 0:
        continue
    legacy = b'"brokerAddrs":{0:"' in body
    want = q["version"] < 401
    n_legacy += want
    print(f"105 {q['extFields'].get('topic')} version {q['version']}: {'legacy' if legacy else 'standard'} route")
    bad += legacy != want
sys.exit(0 if n_legacy and not bad else ">> expected the legacy dialect exactly for versions below 401")
PY
}

# Scenario 5, header serialization: a 5.x client with -Drocketmq.serialize.type=ROCKETMQ
# sends binary (ROCKETMQ) request headers, and reads our JSON replies by their type byte.
ROCKETMQ_SER=-Drocketmq.serialize.type=ROCKETMQ
compat_check routeDump_5x_rocketmq_headers routes_agree5 CompatMsg5 "$ROCKETMQ_SER"
compat_check wire_5x_rocketmq_headers wire_check binary compat_java5 "$ROCKETMQ_SER" RouteDump "$PROXY" CompatMsg5
compat_check produce_5x_rocketmq_headers compat_expect -e "^SENT $N\$" \
    compat_java5 "$ROCKETMQ_SER" Producer "$NS" CompatMsg5 "$N" compat_pg_5r m5r

if [[ "$EXTRA" == 1 ]]; then
    # topic auto-created by the broker on first send (the client falls back to TBW102's route)
    compat_check produce_4x_autocreate produce_java 4 CompatMsg4
    compat_check consume_4x consume_java 4 CompatMsg4
    # Scenario 5, legacy dialect: a 4.9.x client that announces version 400 (V4_9_3, below
    # V4_9_4 = 401) gets routes in fastjson's dialect ({0:"addr"}), decodes the same route
    # and sends through it.
    LEGACY=-Dcompat.remoting.version=400 # see compat/java/src/compat/RemotingVersion.java
    compat_check routeDump_4x_legacy_dialect routes_agree CompatMsg4 "$LEGACY"
    compat_check wire_4x_legacy_dialect wire_check legacy compat_java4 "$LEGACY" RouteDump "$PROXY" CompatMsg4
    compat_check produce_4x_legacy_dialect compat_expect -e "^SENT $N\$" \
        compat_java4 "$LEGACY" Producer "$NS" CompatMsg4 "$N" compat_pg_4l m4l
    compat_check produce_go_autocreate compat_expect -e "^SENT $N\$" \
        compat_go produce -n "$NS" -t CompatMsgGo -c "$N" -prefix mgo
    compat_check consume_go compat_expect -e "^RECEIVED $N\$" \
        compat_go consume -n "$NS" -t CompatMsgGo -g compat_cg_go -c "$N" -timeout 60 -prefix mgo
    compat_check clusterList_4x compat_expect -e "^$C +$B +0 +$BARE " compat_mqadmin4 clusterList -n "$NS"
    compat_check topicRoute_4x compat_expect -e "\"$BARE\"" compat_mqadmin4 topicRoute -n "$NS" -t CompatMsg4
fi

# Graceful broker shutdown sends UNREGISTER_BROKER (104) early on: the broker must vanish
# from clusterList and routes well before the 120 s expiry would remove it. The rest of the
# broker's shutdown (10+ s of flushing) is of no interest, so it is cut short afterwards.
compat_log "stopping the broker (TERM)"
kill -TERM -- "-$BROKER_PID" 2>/dev/null
compat_check broker_unregistered compat_until 20 \
    compat_expect -e '^#Cluster Name' -v "$BARE" compat_mqadmin clusterList -n "$NS"
compat_check route_after_unregister compat_until 10 route_absent TBW102
compat_stop "$BROKER_PID" 5

compat_finish
