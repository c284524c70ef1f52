#!/usr/bin/env bash
# tuning/storm_once.sh: one registration storm (compare.sh's step_storm options)
# against one namesrv binary, for interleaved A/B runs and profiles.
#
# Usage: tuning/storm_once.sh BIN BROKERS OUT_PREFIX
#   BIN: a namesrv binary; BROKERS: masters, in clusters of 50, 1,000 topics each
#   cluster; writes OUT_PREFIX.json (loadgen), .txt, .threads (CPU ticks per thread).
# Knobs: SERVER_CPUS=0 LOADGEN_CPUS=1 CORES=1 SWEEP=brokers (full: add the untimed
#   pass over every topic) PERF=1 (perf record --call-graph dwarf into
#   OUT_PREFIX.perf.data) LOADGEN=target/release/loadgen
# Prints: served seconds, server CPU seconds, minor faults, VmHWM.
#
# A/B: for r in 1 2 3; do for b in a b; do tuning/storm_once.sh $b.bin 1000 out/$b-$r; done; done
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN=$1 N=$2 OUT=$3
LOADGEN=${LOADGEN:-$REPO/target/release/loadgen}
SERVER_CPUS=${SERVER_CPUS:-0} LOADGEN_CPUS=${LOADGEN_CPUS:-1} CORES=${CORES:-1}
WORK="$(mktemp -d "${TMPDIR:-/tmp}/storm-once.XXXXXX")"
log() { echo "$*" >&2; }
# shellcheck source=SCRIPTDIR/procs.sh
source "$REPO/tuning/procs.sh"

printf 'listenPort=0\nbindAddress=127.0.0.1\ncores=%s\nkvConfigPath=%s/kv.json\nconfigStorePath=%s/ns.properties\nhttpPort=-1\n' \
    "$CORES" "$WORK" "$WORK" >"$WORK/ns.properties"
HOME=$WORK NO_COLOR=1 RUST_LOG=warn,namesrv=info spawn "$WORK/log" taskset -c "$SERVER_CPUS" "$BIN" -c "$WORK/ns.properties"
SP=$SPAWNED
for _ in $(seq 100); do grep -q "boot success" "$WORK/log" && break; sleep 0.1; done
PORT=$(grep -o 'address 127.0.0.1:[0-9]*' "$WORK/log" | head -1 | cut -d: -f2)
[[ -n $PORT ]] || { log "server did not start: $(tail -3 "$WORK/log")"; exit 1; }
C=$(((N + 49) / 50))
PP=
if [[ -n ${PERF:-} ]]; then
    spawn "$WORK/perf.log" perf record -F 499 --call-graph dwarf,16384 -p "$SP" -o "$OUT.perf.data"
    PP=$SPAWNED
    sleep 0.5
fi
cpu0=$(awk '{print $14+$15}' "/proc/$SP/stat")
timeout 300 taskset -c "$LOADGEN_CPUS" "$LOADGEN" run broker-storm -t "127.0.0.1:$PORT" --server-pid "$SP" \
    --no-live --json "$OUT.json" --set 'warmup="0s"' --duration 1s --set brokers.groups="$N" \
    --set brokers.slaves=0 --set brokers.clusters="$C" --set topics.count=$((C * 1000)) \
    --set topics.groups_per_topic=50 --set topics.system_topics=false \
    --set brokers.startup_concurrency="$N" --set 'brokers.register_period="3600s"' \
    --set clients.mode=off --set sweep="${SWEEP:-brokers}" --set 'settle="600s"' >"$OUT.txt" 2>&1
cpu1=$(awk '{print $14+$15}' "/proc/$SP/stat")
flt=$(awk '{print $10}' "/proc/$SP/stat")
hwm=$(awk '/VmHWM/{print $2}' "/proc/$SP/status")
for t in /proc/"$SP"/task/*; do echo "$(cat "$t/comm") $(awk '{print $14+$15}' "$t/stat")"; done >"$OUT.threads"
if [[ -n $PP ]]; then
    kill -INT "$PP"
    wait "$PP" || true
    forget "$PP"
fi
python3 - "$OUT.json" "$cpu0" "$cpu1" "$(getconf CLK_TCK)" "$flt" "$hwm" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["startup"]
hz = int(sys.argv[4])
print(f"served={s.get('served_secs')} cpu={(int(sys.argv[3]) - int(sys.argv[2])) / hz:.2f} "
      f"minflt={sys.argv[5]} hwm_kb={sys.argv[6]}")
PY
