# tuning/procs.sh: process control shared by the measurement scripts (sourced).
#
# Every process is started in its own process group and remembered, so that stopping
# one stops what it started too, and the EXIT trap stops whatever is left, newest first.
# The sourcing script defines log() and WORK (a temporary folder removed at exit).

PIDS=() # process-group leaders we started

procs_cleanup() {
    local rc=$? p i
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
        p=${PIDS[$i]}
        kill -TERM -- "-$p" 2>/dev/null || true
    done
    for p in "${PIDS[@]+"${PIDS[@]}"}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL -- "-$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$WORK"
    exit "$rc"
}
trap procs_cleanup EXIT
trap 'log interrupted; exit 130' INT
trap 'log terminated; exit 143' TERM

# spawn LOG cmd...: start cmd in its own process group (setsid), output to LOG; sets SPAWNED.
spawn() {
    local out=$1
    shift
    setsid "$@" >"$out" 2>&1 </dev/null &
    SPAWNED=$!
    PIDS+=("$SPAWNED")
}

# forget PID: it ended on its own (waited for by the caller).
forget() {
    local keep=() q
    for q in "${PIDS[@]+"${PIDS[@]}"}"; do [[ $q == "$1" ]] || keep+=("$q"); done
    PIDS=("${keep[@]+"${keep[@]}"}")
}

# stop PID: TERM its process group, KILL after 10 s.
stop() {
    local p=$1 i
    kill -TERM -- "-$p" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
    forget "$p"
}
