#!/usr/bin/env bash
# tuning/estate.sh: the 10,000-broker estate (loadgen scenario `estate-10k`) against
# our namesrv, server on SERVER_CPUS with cores=1, loadgen on LOADGEN_CPUS with one
# worker thread. Prints loadgen's report and the server's /proc figures: CPU (cores,
# utime+stime over the whole run, startup and steady state apart), VmRSS and VmHWM.
#
# Usage: tuning/estate.sh [extra loadgen args, e.g. --set duration=\"60s\"]
# Knobs: SERVER_CPUS=0 LOADGEN_CPUS=1 PORT=9876 NS_BIN=target/release/namesrv
#   LG_BIN=target/release/loadgen RESULTS=.cache/estate/<timestamp> NO_BUILD=1
set -euo pipefail
cd "$(dirname "$0")/.."
SERVER_CPUS=${SERVER_CPUS:-0}
LOADGEN_CPUS=${LOADGEN_CPUS:-1}
PORT=${PORT:-9876}
NS_BIN=${NS_BIN:-target/release/namesrv}
LG_BIN=${LG_BIN:-target/release/loadgen}
RESULTS=${RESULTS:-.cache/estate/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$RESULTS"
[[ -n ${NO_BUILD:-} ]] || cargo build --release -j2 -p loadgen -p namesrv

# 10,000 broker sockets plus the clients': the server needs the descriptors too.
ulimit -n "$(ulimit -Hn)"
# Every simulated broker connects from 127.0.0.1; the default per-address limit
# (half of maxConnections) is for real estates, where each broker has its own.
printf 'listenPort=%s\nbindAddress=127.0.0.1\ncores=1\nhttpPort=-1\nmaxConnections=18000\nmaxConnectionsPerAddress=15000\nmaxIncompleteFrameBytes=1073741824\n' \
  "$PORT" >"$RESULTS/ns.conf"
taskset -c "$SERVER_CPUS" "$NS_BIN" -c "$RESULTS/ns.conf" >"$RESULTS/server.log" 2>&1 &
pid=$!
# SIGTERM, then SIGKILL: a server still unregistering 10,000 closed connections
# would go on competing for the CPU with whatever runs next.
stop_server() {
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}
trap stop_server EXIT
for _ in $(seq 100); do
  grep -q "boot success" "$RESULTS/server.log" && break
  sleep 0.1
done
grep -q "boot success" "$RESULTS/server.log" || {
  echo "server did not boot in 10 s: $(tail -3 "$RESULTS/server.log")" >&2
  exit 1
}

ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
# Nanoseconds the server's threads waited for a CPU while runnable (run queue):
# on a shared machine, the share of its core it wanted but did not get.
waits() { cat /proc/"$pid"/task/*/schedstat 2>/dev/null | awk '{s += $2} END {print s + 0}'; }
hz=$(getconf CLK_TCK)
t0=$(date +%s.%N)
c0=$(ticks)
# Server CPU every 5 s (cores over the interval) and RSS, for the timeline.
(
  prev=$c0
  prev_t=$t0
  prev_w=$(waits)
  while kill -0 "$pid" 2>/dev/null; do
    sleep 5
    now=$(date +%s.%N)
    c=$(ticks 2>/dev/null) || break
    rss=$(awk '/VmRSS/{print $2}' "/proc/$pid/status" 2>/dev/null) || break
    w=$(waits)
    awk -v c="$c" -v p="$prev" -v t="$now" -v pt="$prev_t" -v t0="$t0" -v hz="$hz" -v rss="$rss" \
      -v w="$w" -v pw="$prev_w" \
      'BEGIN{printf "%7.1f s  server %.3f cores  run-queue wait %.3f cores  RSS %.0f MiB\n", t-t0, (c-p)/hz/(t-pt), (w-pw)/1e9/(t-pt), rss/1024}'
    prev=$c
    prev_t=$now
    prev_w=$w
  done
) >"$RESULTS/server-timeline.txt" &
sampler=$!

set +e
taskset -c "$LOADGEN_CPUS" "$LG_BIN" run estate-10k -t "127.0.0.1:$PORT" --server-pid "$pid" \
  --threads 1 --no-live --json "$RESULTS/estate.json" "$@" | tee "$RESULTS/report.txt"
rc=${PIPESTATUS[0]}
set -e
t1=$(date +%s.%N)
c1=$(ticks)
grep -E 'VmRSS|VmHWM' "/proc/$pid/status" | tee "$RESULTS/server-mem.txt"
awk -v a="$c0" -v b="$c1" -v t0="$t0" -v t1="$t1" -v hz="$hz" \
  'BEGIN{printf "server CPU over the whole run (startup included): %.3f cores over %.0f s\n", (b-a)/hz/(t1-t0), t1-t0}' |
  tee -a "$RESULTS/server-mem.txt"
kill "$sampler" 2>/dev/null || true
echo "results in $RESULTS (server-timeline.txt: CPU and RSS every 5 s)"
exit "$rc"
