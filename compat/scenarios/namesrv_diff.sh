#!/usr/bin/env bash
# `namesrv diff` against the Java NameServer (issue 12, item 7):
#
#   compat/scenarios/namesrv_diff.sh java   # two Java NameServers (validates the scenario)
#   compat/scenarios/namesrv_diff.sh ours   # the Java NameServer and ours
#
# Steps:
#  1. the same brokers (cluster diff-C: diff-a with ids 0 and 1, diff-b; topics diff-T1,
#     diff-T2, diff-b), registered over the raw protocol on both servers, their connections
#     held open: `namesrv diff JAVA OTHER` exits 0 with exactly the "no differences" line,
#     although the two encode their JSON in different orders;
#  2. one more topic (217, diff-T9 on diff-a) on the Java one only: exit 1 with exactly
#     that topic's line and the count;
#  3. the same after `enableAllTopicList=false` (318) on the Java one: its 206 answers
#     "disable", so its topics come from 224 per cluster;
#  4. an address nobody listens on: exit 2, the message names it.
set -uo pipefail

KIND=${1:-${NAMESRV_KIND:-java}}
case "$KIND" in java | ours) ;; *) echo "usage: $0 java|ours" >&2; exit 2 ;; esac

# shellcheck source=SCRIPTDIR/../lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"
compat_init "namesrv_diff-$KIND" "$@"

# `namesrv diff` is our binary whatever KIND is (the same choice compat_start_namesrv makes).
BIN=${NAMESRV_BIN:-}
if [[ -z "$BIN" ]]; then
    rel="$COMPAT_REPO/target/release/namesrv" dbg="$COMPAT_REPO/target/debug/namesrv"
    if [[ -x "$rel" && (! -x "$dbg" || "$rel" -nt "$dbg") ]]; then BIN=$rel; else BIN=$dbg; fi
fi
[[ -x "$BIN" ]] || compat_die "our namesrv binary not found ($BIN): cargo build first, or set NAMESRV_BIN"
BROKERS_PY="$COMPAT_DIR/scenarios/namesrv_diff_brokers.py"

compat_start_namesrv java
JAVA_NS=$NAMESRV_ADDR
compat_start_namesrv "$KIND"
OTHER_NS=$NAMESRV_ADDR

compat_spawn "$COMPAT_TMP/brokers.log" python3 "$BROKERS_PY" hold "$JAVA_NS" "$OTHER_NS"
HOLDER=$COMPAT_LAST_PID
for ((i = 0; i < 150; i++)); do
    grep -qx registered "$COMPAT_TMP/brokers.log" 2>/dev/null && break
    kill -0 "$HOLDER" 2>/dev/null || break
    sleep 0.2
done
grep -qx registered "$COMPAT_TMP/brokers.log" || { cat "$COMPAT_TMP/brokers.log" >&2; compat_die "brokers not registered"; }
compat_log "brokers registered on $JAVA_NS and $OTHER_NS"

# exactly RC EXPECTED_STDOUT cmd...: cmd exits RC and prints exactly EXPECTED_STDOUT.
exactly() {
    local want_rc=$1 want=$2 got rc
    shift 2
    got=$("$@")
    rc=$?
    echo "\$ $*   (exit $rc)"
    echo "$got"
    [[ $rc -eq $want_rc ]] || { echo ">> exit $rc, expected $want_rc"; return 1; }
    [[ "$got" == "$want" ]] || { printf '>> expected:\n%s\n' "$want"; return 1; }
}

compat_check diff_agree exactly 0 \
    "no differences between 2 name servers (1 cluster, 2 broker groups, 3 topics)" \
    "$BIN" diff "$JAVA_NS" "$OTHER_NS"

compat_check register_topic_on_java_only python3 "$BROKERS_PY" topic "$JAVA_NS" diff-T9 diff-a
compat_check diff_topic_only_on_java exactly 1 \
    "topic diff-T9: present on $JAVA_NS; missing on $OTHER_NS
1 difference between 2 name servers" \
    "$BIN" diff "$JAVA_NS" "$OTHER_NS"
compat_check diff_json_topic_only_on_java compat_expect -x \
    -e '"kind":"topic"' -e '"topic":"diff-T9"' -e '"agree":false' \
    "$BIN" diff --json "$JAVA_NS" "$OTHER_NS"

compat_check disable_206_on_java python3 "$BROKERS_PY" config "$JAVA_NS" enableAllTopicList=false
compat_check java_206_disabled compat_expect -e '"code":1,' -e '"remark":"disable"' \
    python3 "$BROKERS_PY" header "$JAVA_NS" 206
compat_check diff_topic_only_on_java_by_224 exactly 1 \
    "topic diff-T9: present on $JAVA_NS; missing on $OTHER_NS
1 difference between 2 name servers" \
    "$BIN" diff "$JAVA_NS" "$OTHER_NS"

GONE=127.0.0.1:$(compat_free_port)
diff_unreachable() {
    local err rc
    err=$("$BIN" diff --timeout-ms 2000 "$JAVA_NS" "$GONE" 2>&1 >/dev/null)
    rc=$?
    echo "exit $rc: $err"
    [[ $rc -eq 2 && "$err" == "namesrv diff: $GONE: cannot connect: "* ]]
}
compat_check diff_unreachable diff_unreachable

compat_finish
