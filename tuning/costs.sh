#!/usr/bin/env bash
# costs.sh: the server's CPU per operation, measured on the wire: the constants of the
# per-core model (docs/PERFORMANCE.md, "How far one node goes, per core") and of
# `loadgen plan`'s sizing sentence (loadgen/src/costs.rs).
#
#   lookups  loadgen's max-lookup estate (100 brokers x 1,000 topics), our namesrv with
#            cores=1 on SERVER_CPUS, loadgen on LOADGEN_CPUS: a closed loop of 64
#            connections x 16 in flight (saturation) and an open loop at OPEN_RATE/s.
#            CPU-µs per lookup = server cores (utime+stime over the window) x 1e6 / lookups/s.
#   writes   `cargo bench --bench costs` (benches/costs.rs): a first, a changed (one topic),
#            an unchanged and a changed (every topic) registration and an expiry (a
#            connection close removing the broker's topics), at each of TOPICS topics per
#            registration, split by thread: the writer core (executor 0 and its blocking
#            threads), the receiving shard (executor 1 and its blocking threads), other.
#
# Every step is repeated ROUNDS times, interleaved (lookups, writes, lookups, ...); the
# summary gives median, min and max. Output: RESULTS/costs.json, RESULTS/summary.md and
# the raw runs, under .cache/costs/<timestamp>/ by default (git-ignored).
#
#   tuning/costs.sh                      # ROUNDS=3 TOPICS="100 1000 10000"
#   NO_BUILD=1 ROUNDS=5 tuning/costs.sh
#
# After a registry change, rerun it and copy the medians into loadgen/src/costs.rs
# (`MEASURED`, with the commit) and the table in docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
TOPICS=${TOPICS:-"100 1000 10000"}
WRITE_ROUNDS=${WRITE_ROUNDS:-10}
DURATION=${DURATION:-6s}
WARMUP=${WARMUP:-2s}
OPEN_RATE=${OPEN_RATE:-20000}
CONNS=${CONNS:-64}
SERVER_CPUS=${SERVER_CPUS:-0}
LOADGEN_CPUS=${LOADGEN_CPUS:-1}
STEP_TIMEOUT=${STEP_TIMEOUT:-120}
RESULTS=${RESULTS:-.cache/costs/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$RESULTS/logs"
WORK=$(mktemp -d)
log() { echo "[$(date -u +%H:%M:%S)] $*" | tee -a "$RESULTS/run.log" >&2; }
# spawn/stop: own process groups, TERM then KILL, the EXIT trap stops what is left.
# shellcheck source=SCRIPTDIR/procs.sh
source tuning/procs.sh

if [[ -z ${NO_BUILD:-} ]]; then
    cargo build --release -j2 -p loadgen -p namesrv
fi
BENCH=$(cargo bench -j2 --bench costs --no-run --message-format=json 2>/dev/null |
    jq -r 'select(.reason == "compiler-artifact" and .target.name == "costs") | .executable' | tail -1)
[[ -x $BENCH ]] || { log "no costs bench executable"; exit 2; }
NS=target/release/namesrv
LG=target/release/loadgen
{
    echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src protocol || echo ' (dirty)')"
    echo "nproc: $(nproc)  $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "server on cpu $SERVER_CPUS, loadgen/bench on cpu $LOADGEN_CPUS"
} >"$RESULTS/machine.txt"

# lookups R: one server (cores=1), the closed loop, then the open loop.
lookups() {
    local r=$1 dir="$WORK/ns-$1"
    mkdir -p "$dir"
    printf 'listenPort=0\nbindAddress=127.0.0.1\ncores=1\nhttpPort=-1\nkvConfigPath=%s/kv.json\nconfigStorePath=%s/ns.properties\n' \
        "$dir" "$dir" >"$dir/ns.properties"
    spawn "$RESULTS/logs/ns-$r.log" taskset -c "$SERVER_CPUS" "$NS" -c "$dir/ns.properties"
    local pid=$SPAWNED
    local port="" i
    for ((i = 0; i < 100; i++)); do
        port=$(grep -o 'address 127.0.0.1:[0-9]*' "$RESULTS/logs/ns-$r.log" | head -1 | cut -d: -f2 || true)
        [[ -n $port ]] && break
        sleep 0.1
    done
    [[ -n $port ]] || { log "server did not boot"; stop "$pid"; return 1; }
    # No cluster info and no data changes: the window holds lookups (and the brokers'
    # 30 s re-registrations, a few per second).
    local sets=(--set "warmup=\"$WARMUP\"" --set 'brokers.cluster_info_period="0s"'
        --set brokers.data_changes_per_sec=0 --duration "$DURATION" --no-live)
    timeout -k 5 "$STEP_TIMEOUT" taskset -c "$LOADGEN_CPUS" "$LG" run max-lookup -t "127.0.0.1:$port" \
        --server-pid "$pid" "${sets[@]}" --set clients.closed_connections="$CONNS" \
        --set clients.closed_in_flight=16 --json "$RESULTS/lookup-closed-r$r.json" \
        >"$RESULTS/lookup-closed-r$r.txt" 2>&1 || log "  closed loop exit $?"
    timeout -k 5 "$STEP_TIMEOUT" taskset -c "$LOADGEN_CPUS" "$LG" run max-lookup -t "127.0.0.1:$port" \
        --server-pid "$pid" "${sets[@]}" --set clients.mode=open --set clients.count=$((OPEN_RATE / 4)) \
        --set clients.topics_per_client=4 --set 'clients.refresh_period="1s"' \
        --set clients.connections="$CONNS" --json "$RESULTS/lookup-open-r$r.json" \
        >"$RESULTS/lookup-open-r$r.txt" 2>&1 || log "  open loop exit $?"
    stop "$pid"
}

writes() {
    local r=$1 bp rc=0
    # Spawned (own group, in PIDS): an interrupt stops the bench and its server too.
    spawn "$RESULTS/logs/writes-r$r.log" env COSTS_TOPICS="$TOPICS" COSTS_ROUNDS="$WRITE_ROUNDS" \
        COSTS_SERVER_CPUS="$SERVER_CPUS" COSTS_OUT="$RESULTS/writes-r$r.json" \
        timeout -k 5 $((STEP_TIMEOUT * 3)) taskset -c "$LOADGEN_CPUS" "$BENCH" --bench
    bp=$SPAWNED
    wait "$bp" || rc=$?
    forget "$bp"
    ((rc == 0)) || log "  writes exit $rc ($(tail -3 "$RESULTS/logs/writes-r$r.log" | tr '\n' ' '))"
}

for ((r = 0; r < ROUNDS; r++)); do
    log "round $((r + 1))/$ROUNDS: lookups"
    lookups "$r"
    log "round $((r + 1))/$ROUNDS: writes"
    writes "$r"
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$RESULTS/machine.txt"

python3 - "$RESULTS" <<'EOF' | tee "$RESULTS/summary.md"
import glob, json, os, statistics, sys
res = sys.argv[1]
def load(p):
    try: return json.load(open(p))
    except Exception: return None
def spread(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs: return None
    return {"median": round(statistics.median(xs), 3), "min": round(xs[0], 3), "max": round(xs[-1], 3), "n": len(xs)}
def fmt(s):
    return "-" if not s else f"{s['median']:.2f} ({s['min']:.2f}–{s['max']:.2f})"
out = {"machine": open(os.path.join(res, "machine.txt")).read(), "lookup": {}, "writes": {}}
print("# server CPU per operation (tuning/costs.sh)\n\n```\n" + out["machine"].rstrip() + "\n```\n")
print("| lookups | lookups/s | server cores | **CPU-µs per lookup** | errors |\n|---|---|---|---|---|")
for kind in ("closed", "open"):
    rows = []
    for f in sorted(glob.glob(os.path.join(res, f"lookup-{kind}-r*.json"))):
        r = load(f)
        if not r: continue
        o = next((o for o in r.get("ops", []) if str(o.get("op", "")).lower() == "route"), None)
        srv = (r.get("servers") or [None])[0] or {}
        if not o or not o.get("ops_per_sec") or srv.get("cores_avg") is None: continue
        errs = sum(x.get("errors", 0) for x in r.get("ops", []))
        rows.append((o["ops_per_sec"], srv["cores_avg"], srv["cores_avg"] * 1e6 / o["ops_per_sec"], errs))
    out["lookup"][kind] = {"ops_per_sec": spread([x[0] for x in rows]), "cores": spread([x[1] for x in rows]),
                           "us_per_lookup": spread([x[2] for x in rows]), "errors": sum(x[3] for x in rows)}
    l = out["lookup"][kind]
    name = "closed 64 × 16" if kind == "closed" else "open loop"
    print(f"| {name} | {fmt(l['ops_per_sec'])} | {fmt(l['cores'])} | **{fmt(l['us_per_lookup'])}** | {l['errors']} |")
runs = [load(f) for f in sorted(glob.glob(os.path.join(res, "writes-r*.json")))]
runs = [r for r in runs if r]
print(f"\nWrites: medians over {len(runs)} run(s) of each run's median (min–max of those), server CPU-µs per operation; "
      "`idle` is the same 40 ms window without a request (the expiry's window is 5 of them); the net columns subtract it.\n")
print("| topics | operation | total | writer core | receiving shard | other threads | **net total** | net writer | net shard+other |\n|---|---|---|---|---|---|---|---|---|")
sizes = sorted({int(n) for r in runs for n in r["sizes"]})
for n in sizes:
    for kind in ("first", "changed_one", "unchanged", "changed_all", "expiry", "idle"):
        cell = {}
        have = [r for r in runs if str(n) in r["sizes"] and kind in r["sizes"][str(n)]]
        for part in ("total_us", "writer_core_us", "shard_us", "other_us"):
            cell[part] = spread([r["sizes"][str(n)][kind][part]["median"] for r in have])
        def net(r, parts):
            k = 5 if kind == "expiry" else 1
            x = r["sizes"][str(n)]
            return sum(x[kind][p]["median"] - k * x["idle"][p]["median"] for p in parts)
        cell["net_total_us"] = spread([net(r, ("writer_core_us", "shard_us", "other_us")) for r in have])
        cell["net_writer_us"] = spread([net(r, ("writer_core_us",)) for r in have])
        cell["net_shard_other_us"] = spread([net(r, ("shard_us", "other_us")) for r in have])
        out["writes"].setdefault(str(n), {})[kind] = cell
        print(f"| {n:,} | {kind} | {fmt(cell['total_us'])} | {fmt(cell['writer_core_us'])} | {fmt(cell['shard_us'])} | "
              f"{fmt(cell['other_us'])} | **{fmt(cell['net_total_us'])}** | {fmt(cell['net_writer_us'])} | {fmt(cell['net_shard_other_us'])} |")
json.dump(out, open(os.path.join(res, "costs.json"), "w"), indent=1)
print(f"\n(raw: {res})")
EOF
