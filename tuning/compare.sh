#!/usr/bin/env bash
# tuning/compare.sh: our namesrv side by side with the Java NameServer, rocketmq-rust's
# rocketmq-namesrv and the echo limit, on this machine, with loadgen.
#
# Every server gets the same CPUs (taskset, SERVER_CPUS), loadgen gets the others
# (LOADGEN_CPUS). Servers are measured one at a time, each freshly started, in an
# order that rotates every round (A B C D, B C D A, ...), and each cell of the tables
# is the median over ROUNDS rounds: on a shared VM only interleaved comparisons count.
#
# Steps (STEPS, space-separated, default all):
#   lookup   (a) closed loop, C connections x 16 and x 1 in flight, 100 brokers x 1,000
#            topics: maximum route-lookup throughput; (b) open loop at each of OPEN_RATES
#            lookups/s: p99 at a fixed offered load; (e) the same three runs against the
#            echo limit (a glommio server answering every frame with a fixed route body)
#   storm    (c) STORM_BROKERS brokers x 1,000 topics register at once: time until every
#            registration is answered, and until every broker's routes are served
#   memory   (d) RSS with each of MEM_TOPICS topics registered (10,000 topics per broker)
#
# Outputs: RESULTS/summary.md (the tables, ratios from this run), RESULTS/*.json (every
# loadgen result), RESULTS/logs/ (server logs). RESULTS defaults to
# .cache/compare/<timestamp> (git-ignored).
#
# Usage: tuning/compare.sh [--quick]     (--quick: 1 round, short windows, small storm)
#
# Knobs (environment): SERVERS="ours java rust echo"  SERVER_CPUS=0  LOADGEN_CPUS=1
#   ROUNDS=3  DURATION=8s  WARMUP=3s  CONNS=64  OPEN_RATES="5000 20000"  STORM_BROKERS=1000
#   CLOSED=0 (lookup step: open loop only)  CLOSED1=0 (skip the x 1 in-flight run)
#   STORM_ROUNDS=$ROUNDS  MEM_TOPICS="100000 1000000"  JAVA_HEAP=256m  JAVA_MEM_HEAP=64m:4g
#   STEP_TIMEOUT=300 (seconds, per loadgen run)  RESULTS=dir  NO_BUILD=1
#   OURS_BIN=path (default target/release/namesrv); SERVERS may also name "base", a
#   second build of ours at BASE_BIN=path, to measure a change before/after, interleaved
#   OURS_PROPS / BASE_PROPS: extra config lines for ours / base, `;`-separated
#   (e.g. OURS_PROPS="httpPort=0" BASE_PROPS="httpPort=-1" with BASE_BIN=$OURS_BIN: the
#   cost of a setting on one binary); SCRAPE=1: while a lookup round runs, GET /metrics
#   once a second from every server whose boot line names an HTTP port
#
#
# On a clean clone it builds what it needs: `cargo build --release -p loadgen -p namesrv
# --example echo_limit`, `compat/peers fetch` (Java jars from Maven Central) and
# `cargo install --locked --root .cache/rocketmq-rust rocketmq-namesrv` (crates.io; takes
# a long while the first time). Everything it starts is stopped on exit.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

QUICK=0
for a in "$@"; do
    case "$a" in
        --quick) QUICK=1 ;;
        -h | --help) sed -n '2,37p' "$0"; exit 0 ;;
        *) echo "compare.sh: unknown argument $a" >&2; exit 2 ;;
    esac
done

SERVERS=${SERVERS:-"ours java rust echo"}
SERVER_CPUS=${SERVER_CPUS:-0}
LOADGEN_CPUS=${LOADGEN_CPUS:-1}
STEPS=${STEPS:-"lookup storm memory"}
CONNS=${CONNS:-64}
OPEN_RATES=${OPEN_RATES:-"5000 20000"}
JAVA_HEAP=${JAVA_HEAP:-256m}
JAVA_MEM_HEAP=${JAVA_MEM_HEAP:-64m:4g}   # -Xms:-Xmx for the memory step (the heap grows as needed)
JAVA_STORM_HEAP=${JAVA_STORM_HEAP:-1g}
STEP_TIMEOUT=${STEP_TIMEOUT:-300}
if [[ $QUICK == 1 ]]; then
    ROUNDS=${ROUNDS:-1}; DURATION=${DURATION:-4s}; WARMUP=${WARMUP:-2s}
    STORM_BROKERS=${STORM_BROKERS:-200}; MEM_TOPICS=${MEM_TOPICS:-100000}
else
    ROUNDS=${ROUNDS:-3}; DURATION=${DURATION:-8s}; WARMUP=${WARMUP:-3s}
    STORM_BROKERS=${STORM_BROKERS:-1000}; MEM_TOPICS=${MEM_TOPICS:-"100000 1000000"}
fi
STORM_ROUNDS=${STORM_ROUNDS:-$ROUNDS}
RESULTS=${RESULTS:-$REPO/.cache/compare/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$RESULTS/logs"
RESULTS="$(cd "$RESULTS" && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/namesrv-compare.XXXXXX")"

T0=$(date +%s)
log() { printf '[%5ss] %s\n' "$(($(date +%s) - T0))" "$*" | tee -a "$RESULTS/compare.log" >&2; }
die() { log "FATAL: $*"; exit 1; }

# ------------------------------------------------------------------ process control
# shellcheck source=SCRIPTDIR/procs.sh
source "$REPO/tuning/procs.sh"

free_port() {
    python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()'
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

ncpus() { # count the CPUs of a taskset list like 0,2-3
    python3 -c 'import sys
n=0
for p in sys.argv[1].split(","):
    a,_,b=p.partition("-"); n+=int(b or a)-int(a)+1
print(n)' "$1"
}

# ------------------------------------------------------------------ prerequisites
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' is needed ($2)"; }
need python3 "ports, body fetch, tables"
need taskset "pinning (util-linux)"
need setsid "process groups (util-linux)"
need timeout "bounded steps (coreutils)"

RUST_BIN=$REPO/.cache/rocketmq-rust/bin/rocketmq-namesrv-rust
JAVA_LIB=$REPO/.cache/peers/lib5
want() { [[ " $SERVERS " == *" $1 "* ]]; }

if [[ "${NO_BUILD:-0}" != 1 ]]; then
    log "building loadgen, namesrv and the echo_limit example (release)"
    cargo build --release -p loadgen -p namesrv --example echo_limit >"$RESULTS/logs/build.log" 2>&1 \
        || die "cargo build failed: see $RESULTS/logs/build.log"
fi
LOADGEN=$REPO/target/release/loadgen
OURS=${OURS_BIN:-$REPO/target/release/namesrv}
ECHO=$REPO/target/release/examples/echo_limit
[[ -x $LOADGEN && -x $OURS ]] || die "release binaries missing (cargo build --release -p loadgen -p namesrv)"
if want echo; then [[ -x $ECHO ]] || die "$ECHO missing (cargo build --release --example echo_limit)"; fi
if want java && ! ls "$JAVA_LIB"/rocketmq-namesrv-*.jar >/dev/null 2>&1; then
    log "fetching the Java NameServer (compat/peers fetch)"
    need java "the Java NameServer"
    "$REPO/compat/peers" fetch >"$RESULTS/logs/peers.log" 2>&1 || die "compat/peers fetch failed: see $RESULTS/logs/peers.log"
fi
if want rust && [[ ! -x $RUST_BIN ]]; then
    log "installing rocketmq-rust's rocketmq-namesrv (cargo install; this takes a while)"
    cargo install --locked --root "$REPO/.cache/rocketmq-rust" rocketmq-namesrv \
        >"$RESULTS/logs/rocketmq-rust-install.log" 2>&1 || die "cargo install rocketmq-namesrv failed"
fi
[[ -x $RUST_BIN ]] || ! want rust || die "$RUST_BIN missing"
JAVA_VERSION=$(ls "$JAVA_LIB"/rocketmq-namesrv-*.jar 2>/dev/null | sed -n 's/.*rocketmq-namesrv-\(.*\)\.jar/\1/p' | head -1)
RUST_VERSION=$("$RUST_BIN" --version 2>/dev/null | head -1 || true)

# ------------------------------------------------------------------ servers
NCORES=$(ncpus "$SERVER_CPUS")
SRV_PID=
SRV_PORT=

# wait_ready PID LOG PATTERN PORT SECONDS
wait_ready() {
    local pid=$1 logf=$2 pat=$3 port=$4 secs=$5 i
    for ((i = 0; i < secs * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || { log "server exited: $(tail -5 "$logf")"; return 1; }
        if [[ -n $port ]] && port_open "$port" && { [[ -z $pat ]] || grep -q "$pat" "$logf"; }; then return 0; fi
        if [[ -z $port && -n $pat ]] && grep -q "$pat" "$logf"; then return 0; fi
        sleep 0.1
    done
    log "server not ready in ${secs}s: $(tail -5 "$logf")"
    return 1
}

# start_server KIND TAG [heap]: sets SRV_PID, SRV_PORT.
start_server() {
    local kind=$1 tag=$2 heap=${3:-$JAVA_HEAP}
    local xms=${heap%%:*} xmx=${heap##*:}
    local dir="$WORK/$tag" logf="$RESULTS/logs/$tag.log"
    SRV_HTTP=""
    rm -rf "$dir"
    mkdir -p "$dir/home"
    case "$kind" in
        ours | base)
            local bin=$OURS
            [[ $kind == base ]] && bin=${BASE_BIN:?BASE_BIN=path of the baseline namesrv binary}
            printf 'listenPort=0\nbindAddress=127.0.0.1\ncores=%s\nkvConfigPath=%s/kv.json\nconfigStorePath=%s/ns.properties\n' \
                "$NCORES" "$dir" "$dir" >"$dir/ns.properties"
            local props=${OURS_PROPS:-httpPort=-1}
            [[ $kind == base ]] && props=${BASE_PROPS:-httpPort=-1}
            tr ';' '\n' <<<"$props" >>"$dir/ns.properties"
            HOME="$dir/home" NO_COLOR=1 RUST_LOG=${NAMESRV_LOG:-warn,namesrv=info} \
                spawn "$logf" taskset -c "$SERVER_CPUS" "$bin" -c "$dir/ns.properties"
            SRV_PID=$SPAWNED
            wait_ready "$SRV_PID" "$logf" "boot success" "" 30 || return 1
            SRV_PORT=$(grep -o 'address 127.0.0.1:[0-9]*' "$logf" | head -1 | cut -d: -f2)
            SRV_HTTP=$(grep -o 'http 127.0.0.1:[0-9]*' "$logf" | head -1 | cut -d: -f2 || true)
            ;;
        java)
            SRV_PORT=$(free_port)
            printf 'listenPort=%s\nbindAddress=127.0.0.1\nkvConfigPath=%s/kv.json\nrocketmqHome=%s\n' \
                "$SRV_PORT" "$dir" "$dir" >"$dir/ns.properties"
            ROCKETMQ_HOME="$dir" spawn "$logf" taskset -c "$SERVER_CPUS" \
                java -Xms"$xms" -Xmx"$xmx" -XX:-UsePerfData -Djava.net.preferIPv4Stack=true \
                --add-opens java.base/java.nio=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED \
                --add-exports java.base/jdk.internal.ref=ALL-UNNAMED --add-opens java.base/java.lang=ALL-UNNAMED \
                -Duser.home="$dir/home" -Drocketmq.home.dir="$dir" \
                -cp "$JAVA_LIB/*" org.apache.rocketmq.namesrv.NamesrvStartup -c "$dir/ns.properties"
            SRV_PID=$SPAWNED
            wait_ready "$SRV_PID" "$logf" "boot success" "$SRV_PORT" 60 || return 1
            ;;
        rust)
            SRV_PORT=$(free_port)
            HOME="$dir/home" spawn "$logf" taskset -c "$SERVER_CPUS" "$RUST_BIN" \
                --listenPort "$SRV_PORT" --bindAddress 127.0.0.1 --rocketmqHome "$dir" \
                --kvConfigPath "$dir/kv.json" --log-filter "${RUST_NS_LOG:-warn}"
            SRV_PID=$SPAWNED
            wait_ready "$SRV_PID" "$logf" "" "$SRV_PORT" 60 || return 1
            ;;
        echo)
            spawn "$logf" taskset -c "$SERVER_CPUS" "$ECHO" --port 0 --cores "$NCORES" --body "$RESULTS/route-body.json"
            SRV_PID=$SPAWNED
            wait_ready "$SRV_PID" "$logf" "echo-limit listening" "" 30 || return 1
            SRV_PORT=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$logf" | head -1 | cut -d: -f2)
            ;;
        *) die "unknown server kind $kind" ;;
    esac
    # The PID loadgen reads /proc of: the java/namesrv process itself (taskset execs).
    [[ -n $SRV_PORT ]] || { log "$kind: no port"; return 1; }
}

# loadgen_run OUT.json SCENARIO args...: one bounded loadgen run pinned to LOADGEN_CPUS.
loadgen_run() {
    local out=$1 sc=$2
    shift 2
    local rc=0
    spawn "${out%.json}.txt" timeout -k 10 "$STEP_TIMEOUT" taskset -c "$LOADGEN_CPUS" \
        "$LOADGEN" run "$sc" -t "127.0.0.1:$SRV_PORT" --server-pid "$SRV_PID" --no-live --json "$out" "$@"
    local lp=$SPAWNED
    wait "$lp" || rc=$?
    forget "$lp"
    if [[ $rc != 0 ]]; then
        log "  loadgen exit $rc: $(grep -E 'RESULT|errors|loadgen:|WARNING' "${out%.json}.txt" | head -3 | tr '\n' ' ')"
    fi
    return 0
}

server_cpu_secs() { # utime+stime of a pid, in seconds
    awk -v hz="$(getconf CLK_TCK)" '{print ($14+$15)/hz}' "/proc/$1/stat" 2>/dev/null || echo 0
}

# The rotated server order of round R.
order() {
    local r=$1 list=() i n
    read -r -a list <<<"$*"
    list=("${list[@]:1}")
    n=${#list[@]}
    for ((i = 0; i < n; i++)); do printf '%s ' "${list[$(((i + r) % n))]}"; done
}

# ------------------------------------------------------------------ machine
{
    echo "date: $(date -Is)"
    echo "nproc: $(nproc)"
    echo "kernel: $(uname -r)"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "memory: $(free -g | awk '/Mem:/{print $2}') GiB"
    echo "server cpus: $SERVER_CPUS ($NCORES)  loadgen cpus: $LOADGEN_CPUS"
    echo "java: $(java -version 2>&1 | head -1); namesrv $JAVA_VERSION, heap $JAVA_HEAP (memory step: $JAVA_MEM_HEAP)"
    echo "rocketmq-rust: ${RUST_VERSION:-?}"
    echo "ours: $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null)$(git -C "$REPO" diff --quiet 2>/dev/null || echo '+dirty')"
    echo "rounds: $ROUNDS  duration: $DURATION  warmup: $WARMUP  conns: $CONNS  open rates: $OPEN_RATES/s"
    echo "storm: $STORM_BROKERS brokers x 1000 topics, $STORM_ROUNDS round(s)  memory: $MEM_TOPICS topics"
} >"$RESULTS/machine.txt"
cat "$RESULTS/machine.txt" >&2

# ------------------------------------------------------------------ (a)(b)(e) lookups
# max-lookup: 100 brokers (50 master/slave groups in 2 clusters) x 1,000 topics, 4
# groups per topic, 8 queues. Every reply is verified (except against echo).
LOOKUP_SETS=(--set "warmup=\"$WARMUP\"" --duration "$DURATION")

# fetch_body PORT OUT: the standard-JSON route body of one user topic.
fetch_body() {
    python3 - "$1" "$2" <<'EOF'
import json, socket, struct, sys, time
port, out = int(sys.argv[1]), sys.argv[2]
def call(code, ext, opaque):
    h = json.dumps({"code": code, "extFields": ext, "flag": 0, "language": "JAVA",
                    "opaque": opaque, "serializeTypeCurrentRPC": "JSON", "version": 479}).encode()
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(struct.pack(">II", 4 + len(h), len(h)) + h)
    def rd(n):
        b = b""
        while len(b) < n:
            c = s.recv(n - len(b))
            if not c: raise EOFError
            b += c
        return b
    total, = struct.unpack(">I", rd(4)); rest = rd(total); s.close()
    hl = struct.unpack(">I", rest[:4])[0] & 0xFFFFFF
    return json.loads(rest[4:4 + hl]), rest[4 + hl:]
for attempt in range(100):
    hdr, body = call(206, {}, 1)
    topics = sorted(t for t in json.loads(body).get("topicList", []) if t.startswith("cmpbody_Topic"))
    if topics:
        hdr, body = call(105, {"topic": topics[len(topics) // 2]}, 2)
        if hdr.get("code") == 0 and body:
            open(out, "wb").write(body); print(len(body)); sys.exit(0)
    time.sleep(0.2)
sys.exit("no route body")
EOF
}

step_lookup() {
    local servers=() s r
    for s in $SERVERS; do servers+=("$s"); done
    if want echo; then
        log "echo body: a real max-lookup route body from our namesrv"
        start_server ours body || die "our namesrv did not start"
        spawn "$RESULTS/logs/body-loadgen.txt" timeout -k 5 60 taskset -c "$LOADGEN_CPUS" "$LOADGEN" run max-lookup \
            -t "127.0.0.1:$SRV_PORT" --set name_prefix=cmpbody_ --set clients.mode=off --duration 6s --no-live
        local lp=$SPAWNED
        local n
        n=$(fetch_body "$SRV_PORT" "$RESULTS/route-body.json") || die "could not fetch a route body"
        log "  route body: $n bytes"
        stop "$lp"
        stop "$SRV_PID"
    fi
    for ((r = 0; r < ROUNDS; r++)); do
        for s in $(order "$r" "${servers[@]}"); do
            log "lookup round $((r + 1))/$ROUNDS: $s"
            if ! start_server "$s" "lookup-$s-r$r"; then
                log "  $s did not start; skipped"
                stop "$SRV_PID"
                continue
            fi
            local extra=()
            [[ $s == echo ]] && extra=(--set verify=false)
            local scraper=""
            if [[ "${SCRAPE:-0}" == 1 && -n "${SRV_HTTP:-}" ]]; then
                # a Prometheus-like scrape: one GET /metrics a second, bounded by the server's life
                spawn "$RESULTS/logs/scrape-$s-r$r.log" bash -c \
                    'while kill -0 '"$SRV_PID"' 2>/dev/null; do curl -s -o /dev/null -w "%{http_code} %{size_download}\n" http://127.0.0.1:'"$SRV_HTTP"'/metrics; sleep 1; done'
                scraper=$SPAWNED
            fi
            if [[ "${CLOSED:-1}" == 1 ]]; then
            loadgen_run "$RESULTS/lookup-closed16-$s-r$r.json" max-lookup "${LOOKUP_SETS[@]}" "${extra[@]+"${extra[@]}"}" \
                --set clients.closed_connections="$CONNS" --set clients.closed_in_flight=16
            if [[ "${CLOSED1:-1}" == 1 ]]; then
            loadgen_run "$RESULTS/lookup-closed1-$s-r$r.json" max-lookup "${LOOKUP_SETS[@]}" "${extra[@]+"${extra[@]}"}" \
                --set clients.closed_connections="$CONNS" --set clients.closed_in_flight=1
            fi
            fi
            # open loop: each of OPEN_RATES lookups/s = count x 4 topics / 1 s, over CONNS connections
            local rate
            for rate in $OPEN_RATES; do
                loadgen_run "$RESULTS/lookup-open$rate-$s-r$r.json" max-lookup "${LOOKUP_SETS[@]}" "${extra[@]+"${extra[@]}"}" \
                    --set clients.mode=open --set clients.count=$((rate / 4)) --set clients.topics_per_client=4 \
                    --set 'clients.refresh_period="1s"' --set clients.connections="$CONNS"
            done
            [[ -n $scraper ]] && stop "$scraper"
            stop "$SRV_PID"
        done
    done
}

# ------------------------------------------------------------------ (c) storm
# STORM_BROKERS broker processes (masters, no slaves) in clusters of 50, each carrying
# 1,000 user topics (every topic on 50 brokers, as in a cluster where all brokers hold
# every topic of their cluster) register at the same instant, once. Timed: until every
# registration is answered (startup.secs) and until every broker's own route is served
# (startup.served_secs); then every user topic's route is verified once.
step_storm() {
    local servers=() s r
    for s in $SERVERS; do [[ $s == echo ]] || servers+=("$s"); done
    local clusters=$(((STORM_BROKERS + 49) / 50))
    local topics=$((clusters * 1000))
    for ((r = 0; r < STORM_ROUNDS; r++)); do
        for s in $(order "$r" "${servers[@]}"); do
            log "storm round $((r + 1))/$STORM_ROUNDS: $s ($STORM_BROKERS brokers x 1000 topics)"
            if ! start_server "$s" "storm-$s-r$r" "$JAVA_STORM_HEAP"; then
                log "  $s did not start; skipped"
                stop "$SRV_PID"
                continue
            fi
            local cpu0
            cpu0=$(server_cpu_secs "$SRV_PID")
            loadgen_run "$RESULTS/storm-$s-r$r.json" broker-storm --set 'warmup="0s"' --duration 1s \
                --set brokers.groups="$STORM_BROKERS" --set brokers.slaves=0 --set brokers.clusters="$clusters" \
                --set topics.count="$topics" --set topics.groups_per_topic=50 --set topics.system_topics=false \
                --set brokers.startup_concurrency="$STORM_BROKERS" --set 'brokers.register_period="3600s"' \
                --set clients.mode=off --set sweep=full --set 'settle="600s"'
            echo "$(server_cpu_secs "$SRV_PID") $cpu0" | awk '{print $1-$2}' >"$RESULTS/storm-$s-r$r.cpu"
            stop "$SRV_PID"
        done
    done
}

# ------------------------------------------------------------------ (d) memory
# T topics registered by T/10,000 brokers (masters, one cluster), 10,000 topics each.
step_memory() {
    local servers=() s t
    for s in $SERVERS; do [[ $s == echo ]] || servers+=("$s"); done
    for t in $MEM_TOPICS; do
        local groups=$(((t + 9999) / 10000))
        for s in "${servers[@]}"; do
            log "memory: $s with $t topics ($groups brokers x 10,000)"
            if ! start_server "$s" "mem-$s-$t" "$JAVA_MEM_HEAP"; then
                log "  $s did not start; skipped"
                stop "$SRV_PID"
                continue
            fi
            local idle
            idle=$(awk '/VmRSS/{print $2}' "/proc/$SRV_PID/status")
            loadgen_run "$RESULTS/mem-$s-$t.json" max-lookup --set 'warmup="0s"' --duration 5s \
                --set brokers.groups="$groups" --set brokers.slaves=0 --set brokers.clusters=1 \
                --set topics.count="$t" --set topics.groups_per_topic=1 --set topics.system_topics=false \
                --set 'topics.queues=[8]' --set brokers.startup_concurrency=16 --set clients.mode=off \
                --set sweep=brokers --set 'brokers.request_timeout="60s"'
            # idle VmRSS, VmRSS once loaded, VmHWM (the peak over the whole run), KiB
            echo "$idle $(awk '/VmRSS/{r=$2} /VmHWM/{h=$2} END{print r, h}' "/proc/$SRV_PID/status" 2>/dev/null)" \
                >"$RESULTS/mem-$s-$t.rss"
            stop "$SRV_PID"
        done
    done
}

for st in $STEPS; do
    case "$st" in
        lookup) step_lookup ;;
        storm) step_storm ;;
        memory) step_memory ;;
        *) die "unknown step $st" ;;
    esac
done

# ------------------------------------------------------------------ tables
python3 - "$RESULTS" "$ROUNDS" <<'EOF' | tee "$RESULTS/summary.md"
import glob, json, os, re, statistics, sys
res, rounds = sys.argv[1], int(sys.argv[2])
NAMES = {"ours": "ours (namesrv)", "base": "ours, baseline build (BASE_BIN)", "java": "Java NameServer",
         "rust": "rocketmq-rust", "echo": "echo limit"}
ORDER = ["ours", "base", "java", "rust", "echo"]

def load(path):
    try:
        return json.load(open(path))
    except Exception:
        return None

def route(r):
    for o in r.get("ops", []):
        if str(o.get("op", "")).lower() == "route":
            return o
    return None

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None

def fmt_rate(x):
    if x is None: return "-"
    return f"{x/1e6:.2f}M" if x >= 1e6 else f"{x/1e3:.1f}k" if x >= 1e3 else f"{x:.0f}"

def fmt_us(x):
    if x is None: return "-"
    return f"{x/1000:.2f} ms" if x >= 1000 else f"{x:.0f} µs"

def ratio(a, b):
    return f"{a/b:.2f}×" if a and b else "-"

print("# namesrv side-by-side comparison\n")
print("```")
print(open(os.path.join(res, "machine.txt")).read().rstrip())
print("```\n")

lookup = {}
KINDS = ["closed16", "closed1"] + sorted({re.match(r"lookup-(open\d*)-", os.path.basename(f)).group(1)
                                        for f in glob.glob(os.path.join(res, "lookup-open*-r*.json"))},
                                       key=lambda k: int(k[4:] or 0))
for kind in KINDS:
    for f in glob.glob(os.path.join(res, f"lookup-{kind}-*-r*.json")):
        m = re.match(r"lookup-\w+?-(\w+)-r(\d+)\.json", os.path.basename(f))
        r = load(f)
        if not m or not r: continue
        o = route(r) or {}
        srv = (r.get("servers") or [None])[0] or {}
        errs = sum(x.get("errors", 0) for x in r.get("ops", []))
        lookup.setdefault((kind, m.group(1)), []).append({
            "ops": o.get("ops_per_sec"), "p50": o.get("p50_us"), "p99": o.get("p99_us"),
            "p999": o.get("p999_us"), "cores": srv.get("cores_avg"), "rss": srv.get("rss_mib_peak"),
            "lg": (r.get("loadgen") or {}).get("cores_avg"), "errors": errs, "count": o.get("count", 0)})

TITLES = {"closed16": "(a) closed loop, 64 connections × 16 in flight — maximum throughput",
          "closed1": "(a) closed loop, 64 connections × 1 in flight — maximum throughput"}
for k in KINDS:
    if k.startswith("open"):
        TITLES[k] = f"(b) open loop at a fixed offered load of {int(k[4:] or 0):,} lookups/s" if k[4:] else "(b) open loop"
summary = {}
for kind in KINDS:
    rows = [(s, lookup[(kind, s)]) for s in ORDER if (kind, s) in lookup]
    if not rows: continue
    print(f"## {TITLES[kind]}\n")
    print("| server | runs | lookups/s | p50 | p99 | p99.9 | server cores | lookups per server CPU-s | loadgen cores | errors | ours ÷ this (lookups/s) | this p99 ÷ ours p99 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    meds = {}
    for s, runs in rows:
        meds[s] = {k: med([x[k] for x in runs]) for k in runs[0]}
        meds[s]["errors"] = sum(x["errors"] for x in runs)
        meds[s]["per_cpu"] = med([x["ops"] / x["cores"] for x in runs if x["ops"] and x["cores"]])
    summary[kind] = meds
    o = meds.get("ours", {})
    for s, runs in rows:
        m = meds[s]
        print(f"| {NAMES[s]} | {len(runs)} | {fmt_rate(m['ops'])} | {fmt_us(m['p50'])} | {fmt_us(m['p99'])} | "
              f"{fmt_us(m['p999'])} | {m['cores'] or 0:.2f} | {fmt_rate(m['per_cpu'])} | {m['lg'] or 0:.2f} | {m['errors']} | "
              f"{'-' if s == 'ours' else ratio(o.get('ops'), m['ops'])} | {'-' if s == 'ours' else ratio(m['p99'], o.get('p99'))} |")
    print()

storm = {}
for f in glob.glob(os.path.join(res, "storm-*-r*.json")):
    m = re.match(r"storm-(\w+)-r(\d+)\.json", os.path.basename(f))
    r = load(f)
    if not m or not r: continue
    st = r.get("startup", {})
    cpu = None
    try: cpu = float(open(f[:-5] + ".cpu").read())
    except Exception: pass
    storm.setdefault(m.group(1), []).append({
        "reg": st.get("secs"), "served": st.get("served_secs"), "errors": st.get("errors", 0),
        "regs": st.get("registrations", 0), "unserved": st.get("sweep_unserved", 0) + st.get("full_check_unserved", 0),
        "checked": st.get("full_check_topics", 0), "cpu": cpu,
        "rss": ((r.get("servers") or [None])[0] or {}).get("rss_mib_peak")})
if storm:
    print("## (c) registration storm — time until every route is served\n")
    print("| server | runs | registrations | all answered | all routes served | server CPU s | RSS MiB | unserved / wrong | this ÷ ours (served) |")
    print("|---|---|---|---|---|---|---|---|---|")
    sm = {s: {k: med([x[k] for x in v]) for k in v[0]} for s, v in storm.items()}
    for s in ORDER:
        if s not in storm: continue
        m, v = sm[s], storm[s]
        served = "-" if m["served"] is None else "%.2f s" % m["served"]
        cpu = "-" if m["cpu"] is None else "%.2f" % m["cpu"]
        print(f"| {NAMES[s]} | {len(v)} | {int(m['regs'] or 0)} ({sum(x['errors'] for x in v)} errors) | {m['reg'] or 0:.2f} s | "
              f"{served} | {cpu} | {m['rss'] or 0:.0f} | {sum(x['unserved'] for x in v)} of {int(m['checked'] or 0)} topics | "
              f"{'-' if s == 'ours' else ratio(m['served'], sm.get('ours', {}).get('served'))} |")
    print()
    summary["storm"] = sm

mem = {}
for f in glob.glob(os.path.join(res, "mem-*-*.json")):
    m = re.match(r"mem-(\w+)-(\d+)\.json", os.path.basename(f))
    r = load(f)
    if not m or not r: continue
    st = r.get("startup", {})
    rss_idle = rss_end = hwm = None
    try:
        kib = [int(x) / 1024 for x in open(f[:-5] + ".rss").read().split()]
        rss_idle, rss_end, hwm = (kib + [None, None, None])[:3]
    except Exception: pass
    mem[(m.group(1), int(m.group(2)))] = {
        "peak": ((r.get("servers") or [None])[0] or {}).get("rss_mib_peak"), "idle": rss_idle,
        "end": rss_end, "hwm": hwm, "reg": st.get("secs"), "served": st.get("served_secs"), "unserved": st.get("sweep_unserved", 0),
        "errors": st.get("errors", 0)}
if mem:
    print("## (d) memory — RSS with the topics registered (10,000 topics per broker)\n")
    print("| server | topics | RSS MiB, tables loaded (peak in window) | VmRSS MiB at the end | VmHWM MiB (peak of the run) | RSS MiB at start (empty) | until every broker's routes served | unserved | this ÷ ours (RSS) | this ÷ ours (VmHWM) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for t in sorted({t for _, t in mem}):
        for s in ORDER:
            m = mem.get((s, t))
            if not m: continue
            o = mem.get(("ours", t), {})
            served = "-" if m["served"] is None else "%.1f s" % m["served"]
            print(f"| {NAMES[s]} | {t:,} | {m['peak'] or 0:.0f} | {m['end'] or 0:.0f} | {m['hwm'] or 0:.0f} | "
                  f"{m['idle'] or 0:.0f} | {served} | {m['unserved']} | "
                  f"{'-' if s == 'ours' else ratio(m['peak'], o.get('peak'))} | "
                  f"{'-' if s == 'ours' else ratio(m['hwm'], o.get('hwm'))} |")
    print()
    summary["memory"] = {f"{s}-{t}": v for (s, t), v in mem.items()}

# targets
print("## Targets (ratios from this run)\n")
def line(name, ok, ev):
    print(f"- {'MET' if ok else 'MISSED' if ok is not None else 'n/a'}: {name} — {ev}")
c16 = summary.get("closed16", {})
o = c16.get("ours", {})
for peer, want in (("rust", 10), ("java", 5)):
    p = c16.get(peer)
    if o.get("ops") and p and p.get("ops"):
        r = o["ops"] / p["ops"]
        ok = r >= want and (o["p99"] or 0) <= (p["p99"] or 0)
        line(f"max throughput ≥ {want}× {NAMES[peer]} at equal or lower p99", ok,
             f"{fmt_rate(o['ops'])} vs {fmt_rate(p['ops'])} = {r:.2f}×; p99 {fmt_us(o['p99'])} vs {fmt_us(p['p99'])}")
for kind in KINDS:
    k = summary.get(kind, {})
    if k.get("ours", {}).get("ops") and k.get("echo", {}).get("ops"):
        r = k["ours"]["ops"] / k["echo"]["ops"]
        pc = (k['ours'].get('per_cpu') or 0) / (k['echo'].get('per_cpu') or 1)
        line(f"≥ 80 % of the echo limit ({kind})", r >= 0.8, f"{fmt_rate(k['ours']['ops'])} vs {fmt_rate(k['echo']['ops'])} = {r*100:.0f} % "
             f"(per server CPU-s: {pc*100:.0f} %)"
             + (f"; p99 {fmt_us(k['ours']['p99'])} vs {fmt_us(k['echo']['p99'])}" if kind.startswith("open") else ""))
for kind in KINDS:
    k = summary.get(kind, {})
    if k.get("ours", {}).get("ops") and k.get("base", {}).get("ops"):
        pc = (k['ours'].get('per_cpu') or 0) / (k['base'].get('per_cpu') or 1)
        print(f"- change ({kind}): ours ÷ baseline build = {k['ours']['ops'] / k['base']['ops']:.3f}× lookups/s, {pc:.3f}× lookups per server CPU-s, "
              f"p99 {fmt_us(k['ours']['p99'])} vs {fmt_us(k['base']['p99'])}, "
              f"server cores {k['ours']['cores'] or 0:.2f} vs {k['base']['cores'] or 0:.2f}")
sm = summary.get("storm", {})
if sm.get("ours", {}).get("served") and sm.get("java", {}).get("served"):
    r = sm["java"]["served"] / sm["ours"]["served"]
    line("storm ≥ 3× faster than Java", r >= 3, f"{sm['ours']['served']:.2f} s vs {sm['java']['served']:.2f} s = {r:.2f}×")
for t in sorted({t for _, t in mem}):
    o, j = mem.get(("ours", t)), mem.get(("java", t))
    if o and j and o.get("peak") and j.get("peak"):
        r = o["peak"] / j["peak"]
        line(f"RSS ≤ ¼ of Java's at {t:,} topics", r <= 0.25, f"{o['peak']:.0f} MiB vs {j['peak']:.0f} MiB = {r*100:.0f} %")
json.dump(summary, open(os.path.join(res, "summary.json"), "w"), indent=1, default=str)
EOF
log "results: $RESULTS (summary.md, *.json)"
