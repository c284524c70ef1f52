#!/usr/bin/env bash
# Drop-in proof, scenario 8 (issue 13): a rolling restart with enableShutdownGracefully.
# A 5.5.0 broker registers with two name servers; a 5.5.0 producer configured with both
# sends one message every 50 ms. The name server the producer is using is stopped with
# SIGTERM (through compat/scenarios/go_away_probe.py, which checks on a connection opened
# before the signal that requests get GO_AWAY during the window); zero sends may fail.
#
#   compat/scenarios/graceful_shutdown.sh java   # the Java NameServer (validates the scenario)
#   compat/scenarios/graceful_shutdown.sh ours   # our namesrv
#
# Needs `compat/peers fetch` first and javac (the paced producer is compiled into the work
# dir). Ends with "N passed, M failed"; exits non-zero if anything failed.
set -uo pipefail

KIND=${1:-${NAMESRV_KIND:-java}}
case "$KIND" in java | ours) ;; *) echo "usage: $0 java|ours" >&2; exit 2 ;; esac

# shellcheck source=SCRIPTDIR/../lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"
compat_init "graceful_shutdown-$KIND" "$@"
HERE="$COMPAT_DIR/scenarios"
WAIT_S=8
SENDS=${COMPAT_GRACEFUL_SENDS:-500}
TOPIC=CompatGraceful

command -v javac >/dev/null || compat_die "javac not on PATH"
CLASSES="$COMPAT_TMP/graceful-classes"
javac -nowarn -encoding UTF-8 --release 17 -cp "$PEERS_LIB5/*" -d "$CLASSES" \
    "$HERE/graceful/PacedProducer.java" || compat_die "javac of PacedProducer failed"

GRACE=(enableShutdownGracefully=true "shutdownWaitTimeSeconds=$WAIT_S")
compat_start_namesrv "$KIND" "${GRACE[@]}"
NS_A=$NAMESRV_ADDR PID_A=$NAMESRV_PID LOG_A=$NAMESRV_LOG
compat_start_namesrv "$KIND" "${GRACE[@]}"
NS_B=$NAMESRV_ADDR PID_B=$NAMESRV_PID LOG_B=$NAMESRV_LOG
BOTH="$NS_A;$NS_B"

BROKER_NAMESRV_ADDR=$BOTH compat_start_broker compat-broker-g
B=$BROKER_NAME
BA=$BROKER_ADDR
BARE=$(printf '%s' "$BA" | sed 's/[][\.*^$+?(){}|/]/\\&/g')

registered_on_both() {
    local ns out
    for ns in "$NS_A" "$NS_B"; do
        out=$(compat_java5 RouteDump "$ns" "$B") || return 1
        echo "$ns: $out"
        grep -qF "\"$BA\"" <<<"$out" || return 1
    done
}
compat_check registered_on_both registered_on_both
compat_check updateTopic compat_expect -e "create topic to $BARE success" \
    compat_mqadmin updateTopic -n "$BOTH" -b "$BA" -t "$TOPIC" -r 4 -w 4

# The producer runs in the background: its own process group, stopped at exit.
PRODUCER_OUT="$COMPAT_TMP/producer.out"
compat_spawn "$PRODUCER_OUT" timeout -k 5 300 \
    java "${COMPAT_JAVA_CLIENT[@]}" "${COMPAT_JAVA_COMMON[@]}" \
    -Duser.home="$COMPAT_TMP/home" -Drocketmq.client.logRoot="$COMPAT_TMP/home/logs" \
    -Drocketmq.client.logLevel=WARN \
    -Drmq.logback.configurationFile="$COMPAT_DIR/java/conf/rmq-logback-quiet.xml" \
    -Dlogback.configurationFile="$COMPAT_DIR/java/conf/logback-quiet.xml" \
    -cp "$CLASSES:$PEERS_LIB5/*" compatgraceful.PacedProducer "$BOTH" "$TOPIC" "$SENDS" 50 500
PRODUCER_PID=$COMPAT_LAST_PID

# Which name server the producer uses (it picks one at random): stop that one.
CHOSEN=
for ((i = 0; i < 600; i++)); do
    CHOSEN=$(sed -n 's/^NS \([^ ]*\) at .*/\1/p' "$PRODUCER_OUT" | head -n 1)
    [[ -n "$CHOSEN" ]] && break
    kill -0 "$PRODUCER_PID" 2>/dev/null || break
    sleep 0.1
done
[[ -n "$CHOSEN" ]] || { cat "$PRODUCER_OUT" >&2; compat_die "the producer named no name server"; }
if [[ "$CHOSEN" == "$NS_A" ]]; then
    STOP_PID=$PID_A STOP_LOG=$LOG_A OTHER=$NS_B
else
    STOP_PID=$PID_B STOP_LOG=$LOG_B OTHER=$NS_A
fi
compat_log "the producer uses $CHOSEN: SIGTERM to it (pid $STOP_PID), ${WAIT_S}s GO_AWAY window"
sleep 2

compat_check go_away_in_window compat_expect \
    -e '^before code=0 ' -e '^window-v479 code=1500 .*remark=please go away ' -e '^window-v400 code=0 ' \
    python3 "$HERE/go_away_probe.py" "$CHOSEN" "$STOP_PID"

# Exits after the window: 0 for ours; the JVM exits 143 on SIGTERM. (Waited for here:
# the checks run in a subshell, which cannot wait for the server.)
T0=$SECONDS
while kill -0 "$STOP_PID" 2>/dev/null && ((SECONDS - T0 < WAIT_S + 30)); do sleep 0.2; done
STOP_RC=running
kill -0 "$STOP_PID" 2>/dev/null || { wait "$STOP_PID"; STOP_RC=$?; }
STOP_AFTER=$((SECONDS - T0))
ns_exits_after_window() {
    echo "name server exit status $STOP_RC, ${STOP_AFTER}s after the probe"
    grep -i "go away\|GO_AWAY\|shut" "$STOP_LOG" | tail -n 3
    [[ "$STOP_RC" == 0 || ("$KIND" == java && "$STOP_RC" == 143) ]]
}
compat_check namesrv_exits_after_window ns_exits_after_window

T0=$SECONDS
while kill -0 "$PRODUCER_PID" 2>/dev/null && ((SECONDS - T0 < 240)); do sleep 0.5; done
PRODUCER_RC=running
kill -0 "$PRODUCER_PID" 2>/dev/null || { wait "$PRODUCER_PID"; PRODUCER_RC=$?; }
producer_zero_failures() {
    grep -v '^\s*at \|^\s*\.\.\. ' "$PRODUCER_OUT" | tail -n 20
    [[ "$PRODUCER_RC" == 0 ]] || { echo ">> producer exit $PRODUCER_RC"; return 1; }
    grep -q "^SENT $SENDS FAILED 0$" "$PRODUCER_OUT" || return 1
    # It ends on the name server still running.
    [[ "$(sed -n 's/^NS \([^ ]*\) at .*/\1/p' "$PRODUCER_OUT" | tail -n 1)" == "$OTHER" ]] \
        || { echo ">> the producer did not move to $OTHER"; return 1; }
}
compat_check producer_zero_failures producer_zero_failures

compat_finish
