# shellcheck shell=bash
# compat/lib.sh: bash helpers to run real RocketMQ peers (Java NameServer, broker, mqadmin,
# Java/Go client drivers) against a NameServer (the Java one or ours).
#
# Source it from a scenario:
#     source "$(dirname "$0")/../lib.sh"
#     compat_init my_scenario "$@"     # temp dir, EXIT trap, peers check, optional netns
#     compat_start_namesrv java|ours   # sets NAMESRV_ADDR
#     compat_start_broker              # sets BROKER_ADDR, BROKER_NAME, BROKER_CLUSTER
#     compat_mqadmin clusterList -n "$NAMESRV_ADDR"
#     compat_check name cmd...         # prints PASS/FAIL name
#     compat_finish                    # prints "N passed, M failed" and returns non-zero on failure
#
# Everything started here is killed (by process group) when the shell exits, including on
# error, Ctrl-C or TERM. Every server listens on 127.0.0.1 only, except the broker's HA port,
# which RocketMQ always binds to the wildcard address; for that reason compat_init re-runs
# the scenario inside a private network namespace (`unshare -n`, loopback only) when it can.
# Set COMPAT_NETNS=0 to disable that.
#
# Environment knobs:
#   PEERS_CACHE      cache dir of compat/peers (default <repo>/.cache/peers)
#   NAMESRV_BIN      our namesrv binary (default: the newer of target/release/namesrv and target/debug/namesrv)
#   COMPAT_KEEP=1    keep the temp dir (logs, stores) after the run
#   COMPAT_NETNS=0   do not re-exec inside a private network namespace
#   COMPAT_VERBOSE=1 echo commands run by compat_mqadmin / drivers

COMPAT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
COMPAT_REPO="$(cd "$COMPAT_DIR/.." && pwd)"
PEERS_CACHE="${PEERS_CACHE:-$COMPAT_REPO/.cache/peers}"
PEERS_LIB5="$PEERS_CACHE/lib5"
PEERS_LIB4="$PEERS_CACHE/lib4"
PEERS_CLASSES5="$PEERS_CACHE/classes5"
PEERS_CLASSES4="$PEERS_CACHE/classes4"
PEERS_GOPEER="$PEERS_CACHE/bin/gopeer"

COMPAT_PIDS=()        # process-group leaders we started, in start order
COMPAT_PASS=0
COMPAT_FAIL=0
COMPAT_FAILED_NAMES=()
COMPAT_T0=${COMPAT_T0:-$(date +%s)}

# JVM flags. Servers: small fixed heaps; clients: small heap, C1 only, fast start.
COMPAT_JAVA_COMMON=(-XX:+UseSerialGC -XX:-UsePerfData -Djava.net.preferIPv4Stack=true
    --add-opens java.base/java.nio=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED
    --add-exports java.base/jdk.internal.ref=ALL-UNNAMED --add-opens java.base/java.lang=ALL-UNNAMED)
COMPAT_JAVA_CLIENT=(-Xms32m -Xmx192m -XX:TieredStopAtLevel=1 -Xshare:auto -XX:CICompilerCount=1)

compat_log() { printf '[%4ss] %s\n' "$(($(date +%s) - COMPAT_T0))" "$*" >&2; }
compat_die() { compat_log "FATAL: $*"; exit 1; }

# ------------------------------------------------------------------ setup / teardown

# compat_init NAME "$@": temp dir, traps, peers check; may re-exec the calling script (with
# the given arguments) inside a private network namespace.
compat_init() {
    local name=${1:-compat}
    shift
    if [[ "${COMPAT_NETNS:-1}" != 0 && -z "${COMPAT_IN_NETNS:-}" ]] && command -v unshare >/dev/null 2>&1 \
        && unshare -n true 2>/dev/null; then
        export COMPAT_IN_NETNS=1 COMPAT_T0
        # The namespace (and anything still bound in it) disappears when the last process exits.
        exec unshare -n -- bash -c 'ip link set lo up 2>/dev/null || true; exec "$@"' compat-netns \
            bash "$0" "$@"
    fi
    [[ -n "${COMPAT_IN_NETNS:-}" ]] && compat_log "running in a private network namespace (loopback only)"
    [[ -d "$PEERS_LIB5" && -d "$PEERS_CLASSES5" ]] \
        || compat_die "peers not fetched: run compat/peers fetch (cache: $PEERS_CACHE)"
    command -v java >/dev/null || compat_die "java not on PATH"
    COMPAT_TMP="$(mktemp -d "${TMPDIR:-/tmp}/compat-$name.XXXXXX")"
    mkdir -p "$COMPAT_TMP/home"
    trap compat_cleanup EXIT
    trap 'compat_log "interrupted"; exit 130' INT
    trap 'compat_log "terminated"; exit 143' TERM
    compat_log "work dir $COMPAT_TMP"
}

# compat_track PID: remember a process group to kill at exit.
compat_track() { COMPAT_PIDS+=("$1"); }

# compat_stop PID [grace_seconds]: TERM the process group, then KILL after the grace period.
compat_stop() {
    local pid=$1 grace=${2:-15} i
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    # a SIGSTOPped process would sit on the TERM until the KILL
    kill -CONT -- "-$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        compat_log "pid $pid did not stop in ${grace}s: KILL"
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
    fi
    # Leftover group members (if any) go too.
    kill -KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# compat_kill_tree PID [SIGNAL]: signal PID and all its descendants (children first found
# via /proc, so only processes we started are touched).
compat_kill_tree() {
    local pid=$1 sig=${2:-TERM} child
    for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do
        compat_kill_tree "$child" "$sig"
    done
    kill "-$sig" "$pid" 2>/dev/null || true
}

# compat_teardown RC: stop everything we started (reverse order), then remove or keep the
# work dir. Safe to call twice.
compat_teardown() {
    local rc=${1:-0} i
    if [[ -n "${COMPAT_CUR_PID:-}" ]] && kill -0 "$COMPAT_CUR_PID" 2>/dev/null; then
        # a check still running in the background (client JVM, mqadmin ...)
        compat_kill_tree "$COMPAT_CUR_PID" KILL
        wait "$COMPAT_CUR_PID" 2>/dev/null
    fi
    COMPAT_CUR_PID=
    for ((i = ${#COMPAT_PIDS[@]} - 1; i >= 0; i--)); do
        compat_stop "${COMPAT_PIDS[$i]}" "${COMPAT_STOP_GRACE:-20}"
    done
    COMPAT_PIDS=()
    if [[ -n "${COMPAT_TMP:-}" && -d "$COMPAT_TMP" ]]; then
        if [[ "${COMPAT_KEEP:-0}" == 1 || ($rc -ne 0 && "${COMPAT_KEEP_ON_FAIL:-1}" == 1) ]]; then
            compat_log "logs kept in $COMPAT_TMP"
        else
            rm -rf "$COMPAT_TMP"
        fi
        COMPAT_TMP=
    fi
}

compat_cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    compat_teardown "$rc"
    exit "$rc"
}

# ------------------------------------------------------------------ ports / waiting

# compat_free_port: a port free on 127.0.0.1 right now (the kernel picks it).
compat_free_port() {
    python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()'
}

# compat_free_port_block N: a base port P with P..P+N-1 all free on 127.0.0.1 and on the
# wildcard address (the broker needs listenPort-2, listenPort, listenPort+1).
compat_free_port_block() {
    python3 - "$1" <<'EOF'
import random, socket, sys
n = int(sys.argv[1])
def free(p):
    for host in ("127.0.0.1", "0.0.0.0"):
        s = socket.socket()
        try:
            s.bind((host, p))
        except OSError:
            return False
        finally:
            s.close()
    return True
lo, hi = (int(x) for x in open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
for _ in range(2000):
    # prefer ports below the ephemeral range so client sockets cannot take them meanwhile
    base = random.randrange(11000, max(11001, min(lo, 32000) - n))
    if all(free(base + i) for i in range(n)):
        print(base); sys.exit(0)
sys.exit("no free port block")
EOF
}

# compat_port_open PORT
compat_port_open() {
    python3 -c 'import socket,sys;s=socket.socket();s.settimeout(0.5);sys.exit(0 if s.connect_ex(("127.0.0.1",int(sys.argv[1])))==0 else 1)' "$1"
}

# compat_wait_ready PID LOG PATTERN PORT TIMEOUT_S: wait for PATTERN in LOG and PORT open.
compat_wait_ready() {
    local pid=$1 logf=$2 pat=$3 port=$4 timeout=${5:-60} t0=$SECONDS
    while ((SECONDS - t0 < timeout)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            compat_log "process $pid exited before it was ready; last log lines:"
            tail -n 30 "$logf" >&2
            return 1
        fi
        if grep -q -- "$pat" "$logf" 2>/dev/null && compat_port_open "$port"; then
            return 0
        fi
        sleep 0.2
    done
    compat_log "timed out after ${timeout}s waiting for '$pat' in $logf / port $port; last log lines:"
    tail -n 30 "$logf" >&2
    return 1
}

# compat_spawn LOG cmd...: start cmd in its own process group (setsid), output to LOG.
# Sets COMPAT_LAST_PID.
compat_spawn() {
    local logf=$1
    shift
    setsid "$@" >"$logf" 2>&1 </dev/null &
    COMPAT_LAST_PID=$!
    compat_track "$COMPAT_LAST_PID"
}

# ------------------------------------------------------------------ NameServer

# compat_start_namesrv java|ours [extra props lines...]
# Sets NAMESRV_ADDR, NAMESRV_PORT, NAMESRV_PID, NAMESRV_LOG, NAMESRV_DIR, NAMESRV_KV, NAMESRV_PROPS.
compat_start_namesrv() {
    local kind=$1
    shift
    NAMESRV_PORT=$(compat_free_port)
    NAMESRV_ADDR="127.0.0.1:$NAMESRV_PORT"
    NAMESRV_DIR="$COMPAT_TMP/namesrv-$kind-$NAMESRV_PORT"
    NAMESRV_KV="$NAMESRV_DIR/kvConfig.json"
    NAMESRV_PROPS="$NAMESRV_DIR/namesrv.properties"
    NAMESRV_LOG="$NAMESRV_DIR/stdout.log"
    mkdir -p "$NAMESRV_DIR/home"
    {
        echo "listenPort=$NAMESRV_PORT"
        echo "bindAddress=127.0.0.1"
        echo "kvConfigPath=$NAMESRV_KV"
        echo "rocketmqHome=$NAMESRV_DIR"
        # No HTTP listener unless a test asks for one (an extra httpPort line):
        # concurrent servers would all want 127.0.0.1:9877.
        if [ "$kind" = ours ]; then echo "httpPort=-1"; fi
        local line
        for line in "$@"; do echo "$line"; done
    } >"$NAMESRV_PROPS"
    case "$kind" in
        java)
            # NAMESRV_JAVA_LIB: another jar dir (e.g. libns-5.3.3 of `compat/peers fetch-ns`);
            # NAMESRV_JAVA_OPTS: extra JVM options (e.g. -Drocketmq.serialize.type=ROCKETMQ)
            local lib=${NAMESRV_JAVA_LIB:-$PEERS_LIB5} jopts=()
            read -r -a jopts <<<"${NAMESRV_JAVA_OPTS:-}"
            compat_log "starting Java NameServer $(ls "$lib"/rocketmq-namesrv-*.jar 2>/dev/null \
                | sed -n 's/.*rocketmq-namesrv-\(.*\)\.jar/\1/p') on $NAMESRV_ADDR ${jopts[*]}"
            ROCKETMQ_HOME="$NAMESRV_DIR" compat_spawn "$NAMESRV_LOG" \
                java -Xms256m -Xmx256m -Xss512k "${COMPAT_JAVA_COMMON[@]}" "${jopts[@]}" \
                -Duser.home="$NAMESRV_DIR/home" -Drocketmq.home.dir="$NAMESRV_DIR" \
                -Drmq.logback.configurationFile=rmq.namesrv.logback.xml \
                -cp "$lib/*" org.apache.rocketmq.namesrv.NamesrvStartup -c "$NAMESRV_PROPS"
            ;;
        ours)
            local bin=${NAMESRV_BIN:-}
            if [[ -z "$bin" ]]; then
                # the more recently built of target/release and target/debug
                local rel="$COMPAT_REPO/target/release/namesrv" dbg="$COMPAT_REPO/target/debug/namesrv"
                if [[ -x "$rel" && (! -x "$dbg" || "$rel" -nt "$dbg") ]]; then bin=$rel; else bin=$dbg; fi
            fi
            [[ -x "$bin" ]] || compat_die "our namesrv binary not found ($bin): cargo build first, or set NAMESRV_BIN"
            compat_log "starting our NameServer ($bin) on $NAMESRV_ADDR"
            NO_COLOR=1 RUST_LOG_STYLE=never HOME="$NAMESRV_DIR/home" ROCKETMQ_HOME="$NAMESRV_DIR" \
                compat_spawn "$NAMESRV_LOG" \
                "$bin" -c "$NAMESRV_PROPS"
            ;;
        *) compat_die "unknown NameServer kind '$kind' (java|ours)" ;;
    esac
    NAMESRV_PID=$COMPAT_LAST_PID
    compat_wait_ready "$NAMESRV_PID" "$NAMESRV_LOG" "boot success" "$NAMESRV_PORT" "${NAMESRV_BOOT_TIMEOUT:-60}" \
        || compat_die "NameServer ($kind) did not start"
    compat_log "NameServer ($kind) ready: $(grep -m1 'boot success' "$NAMESRV_LOG" | sed 's/\x1b\[[0-9;]*m//g')"
}

# ------------------------------------------------------------------ broker

# compat_start_broker [NAME] [extra broker.conf lines...]
# Starts a 5.x master broker registered to $NAMESRV_ADDR (or $BROKER_NAMESRV_ADDR). Extra
# lines come last and so override the defaults (e.g. brokerId=1 brokerRole=SLAVE).
# BROKER_TAG names its directory when two brokers share a name (master and slave).
# Sets BROKER_NAME, BROKER_CLUSTER, BROKER_PORT, BROKER_ADDR, BROKER_PID, BROKER_LOG, BROKER_DIR.
compat_start_broker() {
    BROKER_NAME=${1:-compat-broker-a}
    [[ $# -gt 0 ]] && shift
    BROKER_CLUSTER=${BROKER_CLUSTER:-DefaultCluster}
    local base
    base=$(compat_free_port_block 4) || compat_die "no free ports for the broker"
    # fast (VIP) port = listenPort-2, HA port = listenPort+1
    BROKER_PORT=$((base + 2))
    BROKER_ADDR="127.0.0.1:$BROKER_PORT"
    BROKER_DIR="$COMPAT_TMP/broker-${BROKER_TAG:-$BROKER_NAME}"
    BROKER_LOG="$BROKER_DIR/stdout.log"
    local store="$BROKER_DIR/store"
    mkdir -p "$BROKER_DIR/home" "$store"
    {
        echo "brokerClusterName=$BROKER_CLUSTER"
        echo "brokerName=$BROKER_NAME"
        echo "brokerId=0"
        echo "brokerRole=ASYNC_MASTER"
        echo "flushDiskType=ASYNC_FLUSH"
        echo "brokerIP1=127.0.0.1"
        echo "brokerIP2=127.0.0.1"
        echo "bindAddress=127.0.0.1"
        echo "listenPort=$BROKER_PORT"
        echo "haListenPort=$((BROKER_PORT + 1))"
        echo "namesrvAddr=${BROKER_NAMESRV_ADDR:-$NAMESRV_ADDR}"
        echo "rocketmqHome=$BROKER_DIR"
        echo "storePathRootDir=$store"
        echo "storePathCommitLog=$store/commitlog"
        echo "autoCreateTopicEnable=true"
        echo "autoCreateSubscriptionGroup=true"
        # small footprint: 2 cores, small heap, small files
        echo "mappedFileSizeCommitLog=67108864"
        echo "mappedFileSizeConsumeQueue=60000"
        echo "mapedFileSizeConsumeQueue=60000"
        echo "mappedFileSizeConsumeQueueExt=1048576"
        echo "mappedFileSizeTimerLog=4194304"
        echo "maxHashSlotNum=10000"
        echo "maxIndexNum=40000"
        echo "transientStorePoolEnable=false"
        echo "warmMapedFileEnable=false"
        echo "diskMaxUsedSpaceRatio=99"
        echo "sendMessageThreadPoolNums=2"
        echo "pullMessageThreadPoolNums=4"
        echo "processReplyMessageThreadPoolNums=2"
        echo "queryMessageThreadPoolNums=2"
        echo "adminBrokerThreadPoolNums=4"
        echo "clientManageThreadPoolNums=4"
        echo "consumerManageThreadPoolNums=4"
        echo "heartbeatThreadPoolNums=2"
        echo "endTransactionThreadPoolNums=2"
        echo "serverWorkerThreads=4"
        echo "serverSelectorThreads=2"
        echo "clientWorkerThreads=2"
        local line
        for line in "$@"; do echo "$line"; done
    } >"$BROKER_DIR/broker.conf"
    compat_log "starting Java broker $BROKER_NAME on $BROKER_ADDR -> ${BROKER_NAMESRV_ADDR:-$NAMESRV_ADDR}"
    _compat_spawn_broker
    compat_wait_ready "$BROKER_PID" "$BROKER_LOG" "boot success" "$BROKER_PORT" "${BROKER_BOOT_TIMEOUT:-120}" \
        || compat_die "broker $BROKER_NAME did not start"
    compat_log "broker ready: $(grep -m1 'boot success' "$BROKER_LOG")"
    # A 5.x broker prints "boot success" before its first REGISTER_BROKER (about 10 s later).
    [[ "${BROKER_WAIT_REGISTERED:-1}" == 1 ]] && compat_wait_registered "$BROKER_NAME" "$BROKER_ADDR" 60
    return 0
}

# _compat_spawn_broker: start the broker JVM of $BROKER_DIR/broker.conf; sets BROKER_PID.
_compat_spawn_broker() {
    ROCKETMQ_HOME="$BROKER_DIR" compat_spawn "$BROKER_LOG" \
        java -Xms256m -Xmx256m -Xss512k -XX:MaxDirectMemorySize=256m "${COMPAT_JAVA_COMMON[@]}" \
        -XX:TieredStopAtLevel=1 \
        -Duser.home="$BROKER_DIR/home" -Drocketmq.home.dir="$BROKER_DIR" \
        -Drmq.logback.configurationFile=rmq.broker.logback.xml \
        -cp "$PEERS_LIB5/*" org.apache.rocketmq.broker.BrokerStartup \
        -c "$BROKER_DIR/broker.conf" -n "${BROKER_NAMESRV_ADDR:-$NAMESRV_ADDR}"
    BROKER_PID=$COMPAT_LAST_PID
}

# compat_restart_broker DIR [extra broker.conf lines...]: start again the broker whose
# directory (store, config) is DIR, after it died or was killed; the extra lines are
# appended to its broker.conf (last one wins). Sets the same BROKER_* variables.
compat_restart_broker() {
    BROKER_DIR=$1
    shift
    local line
    for line in "$@"; do echo "$line"; done >>"$BROKER_DIR/broker.conf"
    BROKER_NAME=$(sed -n 's/^brokerName=//p' "$BROKER_DIR/broker.conf" | tail -n 1)
    BROKER_PORT=$(sed -n 's/^listenPort=//p' "$BROKER_DIR/broker.conf" | tail -n 1)
    BROKER_ADDR="127.0.0.1:$BROKER_PORT"
    BROKER_LOG="$BROKER_DIR/stdout.$(date +%s%N).log"
    compat_log "restarting Java broker $BROKER_NAME on $BROKER_ADDR"
    _compat_spawn_broker
    compat_wait_ready "$BROKER_PID" "$BROKER_LOG" "boot success" "$BROKER_PORT" "${BROKER_BOOT_TIMEOUT:-120}" \
        || compat_die "broker $BROKER_NAME did not restart"
    [[ "${BROKER_WAIT_REGISTERED:-1}" == 1 ]] && compat_wait_registered "$BROKER_NAME" "$BROKER_ADDR" 60
    return 0
}

# compat_wait_registered BROKER_NAME BROKER_ADDR TIMEOUT_S: poll the route of the topic the
# broker registers under its own name (cheap: one small JVM) until it shows BROKER_ADDR.
# Only logs on timeout, so that the scenario's own checks report the failure.
compat_wait_registered() {
    local name=$1 addr=$2 timeout=${3:-60} t0=$SECONDS
    while ((SECONDS - t0 < timeout)); do
        if compat_java5 RouteDump "${BROKER_NAMESRV_ADDR:-$NAMESRV_ADDR}" "$name" 2>/dev/null | grep -qF "\"$addr\""; then
            compat_log "broker $name registered (route of topic $name shows $addr)"
            return 0
        fi
        sleep 1
    done
    compat_log "WARNING: broker $name not visible in the NameServer's routes after ${timeout}s"
    return 1
}

# ------------------------------------------------------------------ clients

# _compat_java_client LIB CLASSES [-Dprop...] MAINCLASS ARGS...
# Runs through compat.Launch, which only trims idle waits at JVM exit (see Launch.java).
_compat_java_client() {
    local lib=$1 classes=$2
    shift 2
    local -a props=()
    while [[ "${1:-}" == -D* ]]; do props+=("$1"); shift; done
    [[ "${COMPAT_VERBOSE:-0}" == 1 ]] && compat_log "+ java $*"
    timeout -k 5 "${COMPAT_CLIENT_TIMEOUT:-120}" \
        java "${COMPAT_JAVA_CLIENT[@]}" "${COMPAT_JAVA_COMMON[@]}" "${props[@]}" \
        -Duser.home="$COMPAT_TMP/home" -Drocketmq.client.logRoot="$COMPAT_TMP/home/logs" \
        -Drocketmq.client.logLevel=WARN \
        -Drmq.logback.configurationFile="$COMPAT_DIR/java/conf/rmq-logback-quiet.xml" \
        -Dlogback.configurationFile="$COMPAT_DIR/java/conf/logback-quiet.xml" \
        -cp "$classes:$lib/*" compat.Launch "$@"
}

# compat_mqadmin SUBCOMMAND ARGS... (5.x mqadmin; pass -n yourself)
compat_mqadmin() {
    _compat_java_client "$PEERS_LIB5" "$PEERS_CLASSES5" org.apache.rocketmq.tools.command.MQAdminStartup "$@"
}
# compat_mqadmin4: the 4.9.x mqadmin (it insists on $ROCKETMQ_HOME/conf/logback_tools.xml)
compat_mqadmin4() {
    local home="$COMPAT_TMP/rmqhome4"
    if [[ ! -f "$home/conf/logback_tools.xml" ]]; then
        mkdir -p "$home/conf"
        cp "$COMPAT_DIR/java/conf/logback-quiet.xml" "$home/conf/logback_tools.xml"
    fi
    ROCKETMQ_HOME="$home" _compat_java_client "$PEERS_LIB4" "$PEERS_CLASSES4" \
        -Drocketmq.home.dir="$home" org.apache.rocketmq.tools.command.MQAdminStartup "$@"
}
# compat_java5 CLASS ARGS...: our drivers (compat.Producer, compat.PushConsumer,
# compat.RouteDump, compat.KvGet) on the 5.x client
# (leading -Dprop=value arguments become JVM system properties)
compat_java5() {
    local p=()
    while [[ "${1:-}" == -D* ]]; do p+=("$1"); shift; done
    _compat_java_client "$PEERS_LIB5" "$PEERS_CLASSES5" "${p[@]}" "compat.$1" "${@:2}"
}
# compat_java4 CLASS ARGS...: the same drivers on the 4.9.x client
compat_java4() {
    local p=()
    while [[ "${1:-}" == -D* ]]; do p+=("$1"); shift; done
    _compat_java_client "$PEERS_LIB4" "$PEERS_CLASSES4" "${p[@]}" "compat.$1" "${@:2}"
}
# compat_go produce|consume ARGS...: the Go driver (rocketmq-client-go v2)
compat_go() {
    [[ -x "$PEERS_GOPEER" ]] || compat_die "Go driver missing: run compat/peers fetch"
    [[ "${COMPAT_VERBOSE:-0}" == 1 ]] && compat_log "+ gopeer $*"
    HOME="$COMPAT_TMP/home" timeout -k 5 "${COMPAT_CLIENT_TIMEOUT:-120}" "$PEERS_GOPEER" "$@"
}

# ------------------------------------------------------------------ checks

# compat_check NAME cmd...: run cmd (output to $COMPAT_TMP/checks/NAME.log), print PASS/FAIL.
# The command runs in the background so that INT/TERM reach the trap at once.
compat_check() {
    local name=$1 t0=$SECONDS rc
    shift
    mkdir -p "$COMPAT_TMP/checks"
    local out="$COMPAT_TMP/checks/$name.log"
    "$@" >"$out" 2>&1 </dev/null &
    COMPAT_CUR_PID=$!
    # (2>/dev/null: no "Killed" job notice when a check has SIGKILLed a broker)
    wait "$COMPAT_CUR_PID" 2>/dev/null
    rc=$?
    COMPAT_CUR_PID=
    if ((rc == 0)); then
        COMPAT_PASS=$((COMPAT_PASS + 1))
        echo "PASS $name ($((SECONDS - t0))s)"
    else
        COMPAT_FAIL=$((COMPAT_FAIL + 1))
        COMPAT_FAILED_NAMES+=("$name")
        echo "FAIL $name ($((SECONDS - t0))s, exit $rc)"
        sed 's/^/    | /' "$out" | tail -n "${COMPAT_FAIL_LINES:-30}"
    fi
    return 0
}

# compat_expect [-e REGEX]... [-v REGEX]... [--] cmd...
# Runs cmd and prints its stdout. Succeeds if cmd exits 0 (unless -x is given: exit status
# ignored), its stdout matches every -e extended REGEX (grep -E, line by line) and no -v REGEX.
compat_expect() {
    local -a want=() unwanted=()
    local any_rc=0 outf rc re ok=0
    while (($#)); do
        case "$1" in
            -e) want+=("$2"); shift 2 ;;
            -v) unwanted+=("$2"); shift 2 ;;
            -x) any_rc=1; shift ;;
            --) shift; break ;;
            *) break ;;
        esac
    done
    outf=$(mktemp "$COMPAT_TMP/expect.XXXXXX")
    "$@" >"$outf"
    rc=$?
    echo "\$ ${*}   (exit $rc)"
    cat "$outf"
    if ((rc != 0 && !any_rc)); then
        echo ">> exit status $rc"
        ok=1
    fi
    for re in "${want[@]}"; do
        if ! grep -Eq -- "$re" "$outf"; then
            echo ">> stdout does not match /$re/"
            ok=1
        fi
    done
    for re in "${unwanted[@]}"; do
        if grep -Eq -- "$re" "$outf"; then
            echo ">> stdout matches /$re/ but should not"
            ok=1
        fi
    done
    rm -f "$outf"
    return $ok
}

# compat_tries N cmd...: run cmd up to N times (no pause) until it succeeds.
compat_tries() {
    local n=$1 i
    shift
    for ((i = 1; i <= n; i++)); do
        if "$@"; then
            ((i > 1)) && echo ">> succeeded on attempt $i"
            return 0
        fi
    done
    return 1
}

# compat_until TIMEOUT_S cmd...: retry cmd once a second until it succeeds or time runs out.
compat_until() {
    local timeout=$1 t0=$SECONDS n=0
    shift
    while true; do
        n=$((n + 1))
        if "$@"; then
            ((n > 1)) && echo ">> succeeded on attempt $n after $((SECONDS - t0))s"
            return 0
        fi
        if ((SECONDS - t0 >= timeout)); then
            echo ">> still failing after ${timeout}s ($n attempts)"
            return 1
        fi
        sleep 1
    done
}

# compat_finish: stop everything, then print the summary as the very last line
# ("N passed, M failed"); returns 1 if anything failed.
compat_finish() {
    local rc=0
    ((COMPAT_FAIL > 0)) && rc=1
    compat_teardown "$rc"
    compat_log "wall time $(($(date +%s) - COMPAT_T0))s"
    ((COMPAT_FAIL > 0)) && compat_log "failed: ${COMPAT_FAILED_NAMES[*]}"
    echo "$COMPAT_PASS passed, $COMPAT_FAIL failed"
    return "$rc"
}

RMQ5_VERSION_LABEL="$(ls "$PEERS_LIB5"/rocketmq-namesrv-*.jar 2>/dev/null | sed -n 's/.*rocketmq-namesrv-\(.*\)\.jar/\1/p')"
