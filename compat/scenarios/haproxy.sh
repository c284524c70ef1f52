#!/usr/bin/env bash
# Drop-in proof, PROXY protocol: a real HAProxy (Debian's, from tools/fetch-debs) in front of
# the NameServer, one frontend sending PROXY v1 (`send-proxy`), one sending v2
# (`send-proxy-v2`). Upstream 5.x detects either on every connection
# (`NettyRemotingServer$HandshakeHandler`), and so do we.
#
#   compat/scenarios/haproxy.sh java   # the Java NameServer (validates the scenario)
#   compat/scenarios/haproxy.sh ours   # our namesrv
#
# Steps:
#  1. a 5.5.0 broker registers through the v1 frontend; mqadmin clusterList through the v2
#     frontend shows it; the route of its topic is served through both.
#  2. a 5.5.0 producer (routes looked up through v2) and a push consumer (through v1)
#     exchange messages.
#  3. ours only: the client's real address (127.0.0.1 and the client's own source port, as
#     HAProxy logs it, never HAProxy's own connection to the name server) is the peer the
#     console shows for the broker and the peer of our connection log lines; the
#     proxy_headers_total counter saw both versions.
# Fails (never skips) when HAProxy cannot be fetched.
set -uo pipefail

KIND=${1:-${NAMESRV_KIND:-java}}
case "$KIND" in java | ours) ;; *) echo "usage: $0 java|ours" >&2; exit 2 ;; esac

# shellcheck source=SCRIPTDIR/../lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"
# Fetched before compat_init, which re-runs the script in a network namespace without network.
HAPROXY_BIN=$("$COMPAT_REPO/tools/fetch-debs" fetch haproxy | sed -n "s/^HAPROXY_BIN='\(.*\)'$/\1/p")
[[ -x "$HAPROXY_BIN" ]] || { echo "haproxy not available (tools/fetch-debs fetch haproxy failed)" >&2; echo "0 passed, 1 failed"; exit 1; }
compat_init "haproxy-$KIND" "$@"

N=${COMPAT_MSGS:-50}
EXTRA_PROPS=()
if [[ $KIND == ours ]]; then
    HTTP_PORT=$(compat_free_port)
    EXTRA_PROPS+=("httpPort=$HTTP_PORT")
    # Our connection log lines (debug) name the peer; the rest of the log stays at info.
    export RUST_LOG=info,namesrv::server=debug
fi
compat_start_namesrv "$KIND" "${EXTRA_PROPS[@]}"
unset RUST_LOG

P1=$(compat_free_port)
P2=$(compat_free_port)
while [[ $P2 == "$P1" ]]; do P2=$(compat_free_port); done
HA_DIR="$COMPAT_TMP/haproxy"
HA_LOG="$HA_DIR/haproxy.log"
mkdir -p "$HA_DIR"
# `logasap`: a connection is logged when it opens (client address and port first, then
# HAProxy's own source address towards the name server), so the broker's long-lived
# connection is in the log while it is still open.
cat >"$HA_DIR/haproxy.cfg" <<EOF
global
    log stdout format raw local0 info
    maxconn 256
    nbthread 1
defaults
    mode tcp
    log global
    option logasap
    log-format "%ci:%cp [%t] %ft %b/%s bsrc=%bi:%bp"
    timeout connect 5s
    timeout client 300s
    timeout server 300s
frontend fe_v1
    bind 127.0.0.1:$P1
    default_backend be_v1
backend be_v1
    server ns $NAMESRV_ADDR send-proxy
frontend fe_v2
    bind 127.0.0.1:$P2
    default_backend be_v2
backend be_v2
    server ns $NAMESRV_ADDR send-proxy-v2
EOF
"$HAPROXY_BIN" -c -f "$HA_DIR/haproxy.cfg" >"$HA_DIR/check.log" 2>&1 \
    || { cat "$HA_DIR/check.log" >&2; compat_die "haproxy rejects its config"; }
compat_log "starting HAProxy $("$HAPROXY_BIN" -v | head -n 1 | awk '{print $3}'): v1 on 127.0.0.1:$P1, v2 on 127.0.0.1:$P2 -> $NAMESRV_ADDR"
compat_spawn "$HA_LOG" "$HAPROXY_BIN" -db -f "$HA_DIR/haproxy.cfg"
HA_PID=$COMPAT_LAST_PID
for _ in $(seq 50); do
    compat_port_open "$P1" && compat_port_open "$P2" && break
    sleep 0.1
done
compat_port_open "$P1" && compat_port_open "$P2" || compat_die "haproxy did not open its ports"
NS1="127.0.0.1:$P1"
NS2="127.0.0.1:$P2"

BROKER_NAMESRV_ADDR=$NS1 compat_start_broker px-broker
B=$BROKER_NAME
C=$BROKER_CLUSTER
BA=$BROKER_ADDR
qre() { printf '%s' "$1" | sed 's/[][\.*^$+?(){}|/]/\\&/g'; }
BARE=$(qre "$BA")

route_via() { # NS TOPIC: the route of TOPIC, looked up through NS, lists the broker
    compat_expect -e "\"$BARE\"" compat_java5 RouteDump "$1" "$2"
}

# --- 1. registration and lookups through both frontends -------------------------------------
compat_check clusterList_via_v2 compat_until 60 \
    compat_expect -e "^$C +$B +0 +$BARE " compat_mqadmin clusterList -n "$NS2"
compat_check route_via_v1 compat_until 30 route_via "$NS1" "$B"
compat_check route_via_v2 route_via "$NS2" "$B"
compat_check updateTopic_via_v2 compat_expect -e "create topic to $BARE success" \
    compat_mqadmin updateTopic -n "$NS2" -c "$C" -t PxTopic -r 4 -w 4
compat_check route_topic_via_v1 compat_until 30 route_via "$NS1" PxTopic

# --- 2. messages, routes through the proxy ---------------------------------------------------
compat_check produce_via_v2 compat_expect -e "^SENT $N\$" compat_java5 Producer "$NS2" PxTopic "$N" px_pg mpx
compat_check consume_via_v1 compat_expect -e "^RECEIVED $N\$" \
    compat_java5 PushConsumer "$NS1" PxTopic px_cg "$N" 60 mpx

# --- 3. the real client address --------------------------------------------------------------
# haproxy_clients FRONTEND: the client addresses HAProxy logged for FRONTEND, one a line.
haproxy_clients() {
    sed -n "s/^\(127\.0\.0\.1:[0-9]*\) \[[^]]*\] $1 .*/\1/p" "$HA_LOG" | sort -u
}
# broker_peer_is_its_own: the console's broker peer is an address HAProxy's v1 frontend
# logged as a client (the broker's own socket), not HAProxy's connection to us.
broker_peer_is_its_own() {
    local peers clients
    peers=$(python3 - "$HTTP_PORT" <<'PY'
import json, sys, urllib.request
doc = json.load(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/api/clusters", timeout=5))
def walk(x):
    if isinstance(x, dict):
        for k, v in x.items():
            if k == "peer" and isinstance(v, str):
                print(v)
            else:
                walk(v)
    elif isinstance(x, list):
        for v in x:
            walk(v)
walk(doc)
PY
)
    clients=$(haproxy_clients fe_v1)
    echo "console peers: $peers"
    echo "HAProxy fe_v1 clients: $(tr '\n' ' ' <<<"$clients")"
    [[ -n "$peers" ]] || return 1
    local p
    for p in $peers; do
        grep -qxF "$p" <<<"$clients" || { echo ">> $p is not a client HAProxy logged"; return 1; }
    done
}
# log_peers_are_clients FRONTEND: some of our connection log lines name a client address
# HAProxy logged for FRONTEND, and none names HAProxy's own source address (the socket's
# peer, which the header replaces). Lines naming neither are the port probes that connect
# straight to us; connections closed before any header are left out.
log_peers_are_clients() {
    local clients own seen ok=0 p
    clients=$(haproxy_clients "$1")
    own=$(sed -n 's/.* bsrc=\(127\.0\.0\.1:[0-9]*\)$/\1/p' "$HA_LOG" | sort -u)
    # A connection HAProxy closed before its header ("closed while opening": a client
    # that left before HAProxy sent anything) has only the socket's peer to show.
    seen=$(sed 's/\x1b\[[0-9;]*m//g' "$NAMESRV_LOG" | grep -v 'closed while opening' \
        | sed -n 's/.*connection closed.*peer=Some(\([0-9.]*:[0-9]*\)).*/\1/p' | sort -u)
    echo "our close lines' peers: $(tr '\n' ' ' <<<"$seen")"
    echo "HAProxy $1 clients: $(tr '\n' ' ' <<<"$clients")"
    echo "HAProxy's own sources: $(tr '\n' ' ' <<<"$own")"
    [[ -n "$own" ]] || { echo ">> HAProxy logged no source addresses"; return 1; }
    for p in $seen; do
        grep -qxF "$p" <<<"$clients" && ok=1
        ! grep -qxF "$p" <<<"$own" || { echo ">> $p is HAProxy's own address"; return 1; }
    done
    ((ok))
}
proxy_headers_counted() {
    local text
    text=$(python3 -c 'import sys,urllib.request;print(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics",timeout=5).read().decode())' "$HTTP_PORT")
    grep -E '^rocketmq_namesrv_proxy_headers_total' <<<"$text"
    grep -qE '^rocketmq_namesrv_proxy_headers_total\{version="v1"\} [1-9]' <<<"$text" \
        && grep -qE '^rocketmq_namesrv_proxy_headers_total\{version="v2"\} [1-9]' <<<"$text"
}
if [[ $KIND == ours ]]; then
    compat_check console_broker_peer compat_until 20 broker_peer_is_its_own
    compat_check log_peer_v1 compat_until 10 log_peers_are_clients fe_v1
    compat_check log_peer_v2 compat_until 10 log_peers_are_clients fe_v2
    compat_check proxy_headers_metric proxy_headers_counted
fi
compat_check haproxy_alive kill -0 "$HA_PID"

compat_finish
