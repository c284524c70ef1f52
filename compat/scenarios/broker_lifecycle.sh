#!/usr/bin/env bash
# Drop-in proof, scenarios 3 and 4 in one run (broker JVM start-ups are the cost):
#   master + slave of one broker group on the NameServer, the slave learning its master from
#   the register reply; brokers dying (SIGKILL: the connection drops), coming back, and
#   hanging (SIGSTOP: only the heartbeat timeout can remove them).
#
#   compat/scenarios/broker_lifecycle.sh java   # the Java NameServer (validates the scenario)
#   compat/scenarios/broker_lifecycle.sh ours   # our namesrv
#
# Steps:
#  1. master (brokerId 0) and slave (brokerId 1, brokerRole SLAVE) of lc-a: clusterList shows
#     both ids, the route of topic lc-a lists both addresses, and the slave's store log shows
#     it took the master's address and HA address from the REGISTER_BROKER reply.
#  2. SIGKILL the slave: it leaves the route within seconds (its heartbeat timeout is the
#     default 120 s, so only the connection close can explain that).
#  3. SIGKILL the master: the group, its cluster and the route of lc-a go (17), just as fast.
#  4. restart the master, now with enableSlaveActingMaster=true so that it sends
#     heartbeatTimeoutMillis (= brokerNotActiveTimeoutMillis, 6 s) and a oneway heartbeat
#     (QUERY_DATA_VERSION) every second: it is back, and stays for well over 6 s.
#  5. SIGSTOP it: the connection stays open, so only the expiry scan (every second here:
#     scanNotActiveBrokerInterval=1000) removes it, after 6 s of silence.
#  6. SIGCONT: its next periodic registration (registerNameServerPeriod=10 s) brings it back.
#  7. acting master (the NameServer runs with notifyMinBrokerIdChanged=true): the slave comes
#     back with enableSlaveActingMaster=true; SIGKILL the master: the NameServer sends
#     NOTIFY_MIN_BROKER_ID_CHANGE (905) to the slave, whose AdminBrokerProcessor logs
#     "min broker id changed, prev 0, new 1".
set -uo pipefail

KIND=${1:-${NAMESRV_KIND:-java}}
case "$KIND" in java | ours) ;; *) echo "usage: $0 java|ours" >&2; exit 2 ;; esac

# shellcheck source=SCRIPTDIR/../lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"
compat_init "broker_lifecycle-$KIND" "$@"

TIMEOUT_MS=6000 # short, yet safe from GC or scheduling stalls of a loaded 2-core machine
# notifyMinBrokerIdChanged: step 7; before it no group loses its lowest id and keeps a broker.
compat_start_namesrv "$KIND" scanNotActiveBrokerInterval=1000 notifyMinBrokerIdChanged=true
NS=$NAMESRV_ADDR
G=lc-a

BROKER_TAG=master compat_start_broker "$G"
M_ADDR=$BROKER_ADDR M_PID=$BROKER_PID M_DIR=$BROKER_DIR M_PORT=$BROKER_PORT
C=$BROKER_CLUSTER
# The slave waits for its own registration only; the checks below look at both.
BROKER_TAG=slave compat_start_broker "$G" brokerId=1 brokerRole=SLAVE
S_ADDR=$BROKER_ADDR S_PID=$BROKER_PID S_DIR=$BROKER_DIR

qre() { printf '%s' "$1" | sed 's/[][\.*^$+?(){}|/]/\\&/g'; }
MRE=$(qre "$M_ADDR")
SRE=$(qre "$S_ADDR")

# route_is TOPIC ADDRS_JSON: the 5.x client's route of TOPIC has exactly these brokerAddrs
route_is() {
    compat_expect -e "\"brokerAddrs\":$(qre "$2")" compat_java5 RouteDump "$NS" "$1"
}
# route_absent TOPIC: TOPIC_NOT_EXIST (17)
route_absent() {
    local out rc
    out=$(compat_java5 RouteDump "$NS" "$1")
    rc=$?
    echo "$out (exit $rc)"
    [[ $rc -eq 3 && "$out" == *'"code":17'* ]]
}
# slave_learned_master: the slave's store log shows the master's address and HA address,
# which it only gets from the REGISTER_BROKER reply (masterAddr, haServerAddr ext fields)
slave_learned_master() {
    local logs
    logs=$(grep -rh -E 'update master (ha )?address' "$S_DIR/home/logs" 2>/dev/null)
    echo "$logs"
    grep -qE "update master address, OLD: .* NEW: $MRE\b" <<<"$logs" \
        && grep -qE "update master ha address, OLD: .* NEW: 127\.0\.0\.1:$((M_PORT + 1))\b" <<<"$logs"
}
# probe STATE TIMEOUT_S [TOPIC]: polls the NameServer's route (105, raw protocol, every
# 0.1 s) until STATE: gone | has:ADDR | lacks:ADDR. Precise timing, unlike a JVM per poll.
probe() {
    python3 "$COMPAT_DIR/differential/probe.py" "$NS" "${3:-$G}" "$1" "$2"
}
# signal_then_gone SIGNAL MIN_S MAX_S: send SIGNAL to the master, then the route of $G must
# vanish no sooner than MIN_S and no later than MAX_S seconds after it.
signal_then_gone() {
    local sig=$1 min=$2 max=$3 t0 t1
    t0=$(date +%s.%N)
    kill "-$sig" -- "-$M_PID" 2>/dev/null || { echo ">> kill -$sig failed"; return 1; }
    probe gone "$max" || return 1
    t1=$(date +%s.%N)
    python3 - "$t0" "$t1" "$sig" "$min" "$max" <<'PY'
import sys
t0, t1, sig, lo, hi = sys.argv[1:6]
e = float(t1) - float(t0)
print(f"route gone {e:.1f}s after SIG{sig} (expected between {lo} and {hi} s)")
sys.exit(0 if float(lo) <= e <= float(hi) else ">> outside the expected window")
PY
}
# still_there SECONDS: the master stays registered for SECONDS (heartbeats keep it alive)
still_there() {
    local t_end=$((SECONDS + $1))
    while ((SECONDS < t_end)); do
        route_is "$G" "{\"0\":\"$M_ADDR\"}" || return 1
        sleep 1
    done
}

# --- 1. master + slave --------------------------------------------------------------------
compat_check ms_clusterList compat_until 30 compat_expect \
    -e "^$C +$G +0 +$MRE " -e "^$C +$G +1 +$SRE " compat_mqadmin clusterList -n "$NS"
compat_check ms_route_both compat_until 30 route_is "$G" "{\"0\":\"$M_ADDR\",\"1\":\"$S_ADDR\"}"
compat_check ms_route_tbw102 route_is TBW102 "{\"0\":\"$M_ADDR\",\"1\":\"$S_ADDR\"}"
compat_check slave_learns_master compat_until 30 slave_learned_master

# --- 2./3. SIGKILL -------------------------------------------------------------------------
compat_log "SIGKILL the slave"
kill -KILL -- "-$S_PID" 2>/dev/null
wait "$S_PID" 2>/dev/null
# its heartbeat timeout is 120 s: within 5 s only the closed connection can explain it
compat_check sigkill_slave_leaves_fast probe "lacks:$S_ADDR" 5
compat_check sigkill_slave_route compat_until 10 route_is "$G" "{\"0\":\"$M_ADDR\"}"
compat_check sigkill_slave_clusterList compat_expect -e "^$C +$G +0 +$MRE " -v "$SRE" \
    compat_mqadmin clusterList -n "$NS"

compat_log "SIGKILL the master"
compat_check sigkill_master_gone_fast signal_then_gone KILL 0 5
wait "$M_PID" 2>/dev/null
compat_check sigkill_master_route_gone compat_until 10 route_absent "$G"
compat_check sigkill_master_clusterList compat_expect -e '^#Cluster Name' -v "$MRE" \
    compat_mqadmin clusterList -n "$NS"
compat_check sigkill_master_tbw102_gone route_absent TBW102

# --- 4. restart, with a short heartbeat timeout ---------------------------------------------
compat_restart_broker "$M_DIR" enableSlaveActingMaster=true brokerNotActiveTimeoutMillis=$TIMEOUT_MS \
    registerNameServerPeriod=10000
M_PID=$BROKER_PID
compat_check restart_route_back compat_until 30 route_is "$G" "{\"0\":\"$M_ADDR\"}"
compat_check restart_clusterList compat_expect -e "^$C +$G +0 +$MRE " compat_mqadmin clusterList -n "$NS"
# Twice the timeout: only the 1 s heartbeats (oneway 322) can keep it registered that long.
compat_check heartbeats_keep_alive still_there $((2 * TIMEOUT_MS / 1000 + 1))

# --- 5./6. SIGSTOP / SIGCONT -------------------------------------------------------------------
compat_log "SIGSTOP the master"
# Not before its timeout (less the up to 1 s since its last heartbeat): the connection is
# open, nothing else may remove it. Not much later either: timeout + scan + slack.
compat_check sigstop_expires_after_timeout signal_then_gone STOP $((TIMEOUT_MS / 1000 - 1)) $((TIMEOUT_MS / 1000 + 5))
compat_check sigstop_route_absent route_absent "$G"
compat_log "SIGCONT the master"
kill -CONT -- "-$M_PID" 2>/dev/null
compat_check sigcont_back compat_until 40 route_is "$G" "{\"0\":\"$M_ADDR\"}"

# --- 7. acting master: 905 to the slave when the master dies -------------------------------
compat_restart_broker "$S_DIR" enableSlaveActingMaster=true
S_PID=$BROKER_PID
compat_check acting_route_both compat_until 30 route_is "$G" "{\"0\":\"$M_ADDR\",\"1\":\"$S_ADDR\"}"
# slave_got_905: the slave's broker log has AdminBrokerProcessor#notifyMinBrokerIdChange's line
slave_got_905() {
    local logs
    logs=$(grep -rh 'min broker id changed' "$S_DIR/home/logs" 2>/dev/null)
    echo "$logs"
    grep -qE 'min broker id changed, prev [0-9]+, new 1\b' <<<"$logs"
}
compat_check acting_slave_no_905_yet bash -c '! grep -rq "min broker id changed" "$1/home/logs"' _ "$S_DIR"
compat_log "SIGKILL the master (acting-master group)"
kill -KILL -- "-$M_PID" 2>/dev/null
compat_check acting_slave_gets_905 compat_until 20 slave_got_905

compat_finish
