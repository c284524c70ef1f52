#!/usr/bin/env bash
# tuning/attack-compare.sh: the attacks of `loadgen attack` against two namesrv
# binaries, interleaved: for each attack, a freshly started OLD and a freshly
# started NEW server (the order alternates from one attack to the next), then
# both tables. On a shared 2-core VM only such interleaved figures compare.
#
# Usage: tuning/attack-compare.sh OLD_BIN NEW_BIN [loadgen attack options...]
#   e.g. tuning/attack-compare.sh /work/baseline/namesrv target/release/namesrv --duration 5s
# Knobs (environment): LOADGEN=target/release/loadgen
#   ATTACKS="bomb topic-flood noread trickle partial-frames conn-flood kv-flood sigterm-noread"
#   RESULTS=dir (default .cache/attack-compare/<timestamp>, git-ignored)
#   SERVER_CONF_EXTRA='key=value\nkey=value': lines added to both servers' config (e.g. a
#   short frame deadline, so `trickle` is cut within --duration; unknown keys only warn)
#   SERVER_NOFILE=n: start the servers with this open-files limit (e.g. 2048 with
#   --flood-conns 2100 shows what a flood past the limit does, without 20k sockets)
# Each server gets a temp config (127.0.0.1, a free port, KV and config store in its
# own dir) and is stopped by its own pid (SIGTERM, then SIGKILL after 5 s).
set -euo pipefail

if [ $# -lt 2 ]; then
    sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
OLD_BIN=$1 NEW_BIN=$2
shift 2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LOADGEN=${LOADGEN:-$ROOT/target/release/loadgen}
ATTACKS=${ATTACKS:-bomb topic-flood noread trickle partial-frames conn-flood kv-flood sigterm-noread}
RESULTS=${RESULTS:-$ROOT/.cache/attack-compare/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$RESULTS"
for b in "$OLD_BIN" "$NEW_BIN" "$LOADGEN"; do
    [ -x "$b" ] || { echo "not executable: $b" >&2; exit 2; }
done

SERVER_PID=
stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}
trap stop_server EXIT

# start_server BIN DIR: sets SERVER_PID and SERVER_ADDR.
start_server() {
    local bin=$1 dir=$2
    mkdir -p "$dir"
    printf 'listenPort=0\nbindAddress=127.0.0.1\nkvConfigPath=%s/kv.json\nconfigStorePath=%s/namesrv.properties\n' \
        "$dir" "$dir" > "$dir/namesrv.conf"
    if [ -n "${SERVER_CONF_EXTRA:-}" ]; then
        printf '%b\n' "$SERVER_CONF_EXTRA" >> "$dir/namesrv.conf"
    fi
    if [ -n "${SERVER_NOFILE:-}" ]; then
        (ulimit -n "$SERVER_NOFILE" && exec "$bin" -c "$dir/namesrv.conf") > "$dir/stdout" 2> "$dir/stderr" &
    else
        "$bin" -c "$dir/namesrv.conf" > "$dir/stdout" 2> "$dir/stderr" &
    fi
    SERVER_PID=$!
    SERVER_ADDR=
    for _ in $(seq 100); do
        SERVER_ADDR=$(sed -n 's/.*boot success.*address \([0-9.:]*\).*/\1/p' "$dir/stdout" | head -1)
        [ -n "$SERVER_ADDR" ] && return 0
        sleep 0.1
    done
    echo "server $bin did not boot; see $dir/stderr" >&2
    exit 1
}

# run_attack LABEL BIN ATTACK
run_attack() {
    local label=$1 bin=$2 attack=$3
    local dir="$RESULTS/$label-$attack"
    shift 3
    start_server "$bin" "$dir"
    echo "== $label $attack ($SERVER_ADDR, pid $SERVER_PID)" >&2
    "$LOADGEN" attack --target "$SERVER_ADDR" --pid "$SERVER_PID" --kv-file "$dir/kv.json" \
        --attack "$attack" --json "$dir/attack.json" "$@" > "$dir/table.txt" || true
    stop_server
}

i=0
for attack in $ATTACKS; do
    if [ $((i % 2)) -eq 0 ]; then
        run_attack old "$OLD_BIN" "$attack" "$@"
        run_attack new "$NEW_BIN" "$attack" "$@"
    else
        run_attack new "$NEW_BIN" "$attack" "$@"
        run_attack old "$OLD_BIN" "$attack" "$@"
    fi
    i=$((i + 1))
done

# Both tables: the header of the first run, then each attack's line and notes.
for label in old new; do
    bin=$OLD_BIN
    [ "$label" = new ] && bin=$NEW_BIN
    echo
    echo "### $label: $bin"
    first=1
    for attack in $ATTACKS; do
        t="$RESULTS/$label-$attack/table.txt"
        [ -f "$t" ] || continue
        if [ $first -eq 1 ]; then sed -n '2p' "$t"; first=0; fi
        grep -E "^$attack " "$t" || echo "$attack (no result; see $t)"
    done
    for attack in $ATTACKS; do
        grep -E "^  $attack " "$RESULTS/$label-$attack/table.txt" 2>/dev/null || true
    done
done
echo
echo "results: $RESULTS"
