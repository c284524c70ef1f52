#!/usr/bin/env bash
# tuning/side_by_side.sh: the cost of a change or a setting, measured with both sides
# running AT THE SAME TIME on the same CPUs.
#
# compare.sh measures servers one after the other; on a shared 2-core VM the host's own
# load moves throughput by +-15 % from one 8-second window to the next, so a 3 % cost
# cannot be seen there even in 40 interleaved rounds. Here both servers are pinned to the
# same CPUs (SERVER_CPUS) and loaded at once, each by its own loadgen (both on
# LOADGEN_CPUS) with the same scenario and window. The scheduler shares the CPUs between
# the two server threads, so whatever the host does during the window it does to both
# sides, and the throughput ratio of a round is the ratio of what one lookup costs each
# side (the CPU time a side spends outside its shard thread, such as an HTTP scrape, is
# charged to the same CPUs, so it shows up too). Sides swap their start order every round.
#
# Usage: A_PROPS="httpPort=0" B_PROPS="httpPort=-1" SCRAPE_A=1 tuning/side_by_side.sh
# Knobs: A_BIN, B_BIN (default target/release/namesrv), A_PROPS, B_PROPS (extra config
#   lines, `;`-separated), SCRAPE_A=1 / SCRAPE_B=1 (GET /metrics once a second from that
#   side, from LOADGEN_CPUS, as a Prometheus elsewhere would), ROUNDS=12, DURATION=8s,
#   WARMUP=3s, CONNS=64, IN_FLIGHT=16, SERVER_CPUS=0, LOADGEN_CPUS=1, RESULTS=dir
#   (default .cache/side-by-side/<timestamp>), STEP_TIMEOUT=120, A_LOADGEN_ARGS /
#   B_LOADGEN_ARGS (extra loadgen arguments of that side, split on spaces, e.g.
#   B_LOADGEN_ARGS="--access-key K --secret-key S" so only side B signs its requests).
# Output: RESULTS/summary.txt (per-round ratio A/B, mean, bootstrap 95 % interval), the
# loadgen JSON of every run, server logs. Everything it starts is stopped on exit.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

A_BIN=${A_BIN:-$REPO/target/release/namesrv}
B_BIN=${B_BIN:-$REPO/target/release/namesrv}
A_PROPS=${A_PROPS:-}
B_PROPS=${B_PROPS:-}
read -r -a A_LG_ARGS <<<"${A_LOADGEN_ARGS:-}"
read -r -a B_LG_ARGS <<<"${B_LOADGEN_ARGS:-}"
ROUNDS=${ROUNDS:-12}
DURATION=${DURATION:-8s}
WARMUP=${WARMUP:-3s}
CONNS=${CONNS:-64}
IN_FLIGHT=${IN_FLIGHT:-16}
SERVER_CPUS=${SERVER_CPUS:-0}
LOADGEN_CPUS=${LOADGEN_CPUS:-1}
STEP_TIMEOUT=${STEP_TIMEOUT:-120}
LOADGEN=${LOADGEN_BIN:-$REPO/target/release/loadgen}
RESULTS=${RESULTS:-$REPO/.cache/side-by-side/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$RESULTS/logs"
RESULTS="$(cd "$RESULTS" && pwd)"
T0=$(date +%s)
log() { printf '[%5ss] %s\n' "$(($(date +%s) - T0))" "$*" | tee -a "$RESULTS/run.log" >&2; }
die() { log "FATAL: $*"; exit 1; }

for b in "$A_BIN" "$B_BIN" "$LOADGEN"; do
    [[ -x $b ]] || die "$b missing (cargo build --release -p namesrv -p loadgen)"
done
for t in taskset setsid timeout curl python3; do
    command -v "$t" >/dev/null || die "'$t' is needed"
done

# Made after the checks above, which exit before procs.sh's trap could remove it.
WORK="$(mktemp -d "${TMPDIR:-/tmp}/namesrv-side.XXXXXX")"
# shellcheck source=SCRIPTDIR/procs.sh
source "$REPO/tuning/procs.sh"

# start SIDE BIN PROPS ROUND: sets PID_<SIDE>, PORT_<SIDE>, HTTP_<SIDE>.
start() {
    local side=$1 bin=$2 props=$3 r=$4
    local dir="$WORK/$side-r$r" logf="$RESULTS/logs/$side-r$r.log" i
    mkdir -p "$dir/home"
    printf 'listenPort=0\nbindAddress=127.0.0.1\ncores=1\nkvConfigPath=%s/kv.json\nconfigStorePath=%s/ns.properties\nhttpPort=-1\n' \
        "$dir" "$dir" >"$dir/ns.properties"
    tr ';' '\n' <<<"$props" >>"$dir/ns.properties"
    HOME="$dir/home" NO_COLOR=1 RUST_LOG=warn,namesrv=info \
        spawn "$logf" taskset -c "$SERVER_CPUS" "$bin" -c "$dir/ns.properties"
    local pid=$SPAWNED
    for ((i = 0; i < 300; i++)); do
        kill -0 "$pid" 2>/dev/null || die "$side exited: $(tail -3 "$logf")"
        grep -q "boot success" "$logf" 2>/dev/null && break
        sleep 0.1
    done
    grep -q "boot success" "$logf" || die "$side not ready in 30 s"
    printf -v "PID_$side" '%s' "$pid"
    printf -v "PORT_$side" '%s' "$(grep -o 'address 127.0.0.1:[0-9]*' "$logf" | head -1 | cut -d: -f2)"
    printf -v "HTTP_$side" '%s' "$(grep -o 'http 127.0.0.1:[0-9]*' "$logf" | head -1 | cut -d: -f2 || true)"
}

log "A: $A_BIN [$A_PROPS] scrape=${SCRAPE_A:-0}; B: $B_BIN [$B_PROPS] scrape=${SCRAPE_B:-0}"
# Only whether a side signs is logged: its arguments may hold a secret key.
log "loadgen extra arguments: A ${#A_LG_ARGS[@]}, B ${#B_LG_ARGS[@]}"
log "rounds $ROUNDS, window $DURATION after $WARMUP, $CONNS connections x $IN_FLIGHT in flight each side; servers on CPUs $SERVER_CPUS, loadgen on $LOADGEN_CPUS"
for ((r = 0; r < ROUNDS; r++)); do
    if ((r % 2 == 0)); then first=A; else first=B; fi
    for side in $first $([[ $first == A ]] && echo B || echo A); do
        if [[ $side == A ]]; then start A "$A_BIN" "$A_PROPS" "$r"; else start B "$B_BIN" "$B_PROPS" "$r"; fi
    done
    scrapers=()
    for side in A B; do
        want="SCRAPE_$side" http="HTTP_$side" pid="PID_$side"
        if [[ "${!want:-0}" == 1 ]]; then
            [[ -n ${!http} ]] || die "SCRAPE_$side=1 but side $side has no HTTP port"
            spawn "$RESULTS/logs/scrape-$side-r$r.log" taskset -c "$LOADGEN_CPUS" bash -c \
                'while kill -0 '"${!pid}"' 2>/dev/null; do curl -s -o /dev/null -w "%{http_code} %{size_download}\n" http://127.0.0.1:'"${!http}"'/metrics; sleep 1; done'
            scrapers+=("$SPAWNED")
        fi
    done
    log "round $((r + 1))/$ROUNDS (started $first first)"
    lg=()
    for side in A B; do
        port="PORT_$side" pid="PID_$side"
        if [[ $side == A ]]; then extra=("${A_LG_ARGS[@]+"${A_LG_ARGS[@]}"}"); else extra=("${B_LG_ARGS[@]+"${B_LG_ARGS[@]}"}"); fi
        spawn "$RESULTS/r$r-$side.txt" timeout -k 10 "$STEP_TIMEOUT" taskset -c "$LOADGEN_CPUS" \
            "$LOADGEN" run max-lookup -t "127.0.0.1:${!port}" --server-pid "${!pid}" --no-live \
            --json "$RESULTS/r$r-$side.json" --set "warmup=\"$WARMUP\"" --duration "$DURATION" \
            --set clients.closed_connections="$CONNS" --set clients.closed_in_flight="$IN_FLIGHT" \
            "${extra[@]+"${extra[@]}"}"
        lg+=("$SPAWNED")
    done
    for p in "${lg[@]}"; do
        wait "$p" || log "  loadgen $p exit $?: see $RESULTS/r$r-*.txt"
        forget "$p"
    done
    for p in "${scrapers[@]+"${scrapers[@]}"}"; do stop "$p"; done
    stop "$PID_A"
    stop "$PID_B"
done

python3 - "$RESULTS" "$ROUNDS" <<'EOF' | tee "$RESULTS/summary.txt"
import json, os, random, statistics as st, sys
d, n = sys.argv[1], int(sys.argv[2])
def lookups(path):
    j = json.load(open(path))
    ops = [o for o in j["ops"] if o["op"] == "route"]
    errs = sum(o["errors"] for o in ops)
    return sum(o["ops_per_sec"] for o in ops), errs
rows = []
for r in range(n):
    pa, pb = f"{d}/r{r}-A.json", f"{d}/r{r}-B.json"
    if os.path.exists(pa) and os.path.exists(pb):
        (a, ea), (b, eb) = lookups(pa), lookups(pb)
        rows.append((r, a, b, ea + eb))
print("round  A lookups/s  B lookups/s  A/B    errors")
for r, a, b, e in rows:
    print(f"{r + 1:5}  {a:11.0f}  {b:11.0f}  {a / b:.4f} {e}")
if len(rows) >= 2:
    A = [x[1] for x in rows]; B = [x[2] for x in rows]; R = [a / b for a, b in zip(A, B)]
    random.seed(1)
    boot = sorted(sum(A[i] for i in s) / sum(B[i] for i in s)
                  for s in ([random.randrange(len(R)) for _ in R] for _ in range(4000)))
    print(f"rounds {len(R)}: pooled A/B {sum(A) / sum(B):.4f}, median {st.median(R):.4f}, "
          f"sd of a round {st.stdev(R):.4f}, bootstrap 95 % interval "
          f"{boot[int(0.025 * len(boot))]:.4f} .. {boot[int(0.975 * len(boot))]:.4f}")
EOF
log "results: $RESULTS"
