#!/usr/bin/env bash
# Records what real 5.x brokers send to a NameServer, for the differential test's fixture.
#
#   compat/differential/record.sh [OUT.jsonl]   (default compat/fixtures/broker-5.x-master-slave.jsonl)
#
# The Java NameServer runs behind record.py (a recording TCP proxy). Through the proxy
# register a master (brokerId 0) and a slave (brokerId 1) of broker group rec-a. The master
# has enableSlaveActingMaster=true, so it also sends heartbeatTimeoutMillis (600 s, so that
# a replay never expires it) and a oneway QUERY_DATA_VERSION heartbeat every second. mqadmin (straight to the NameServer, not recorded) creates a
# topic on the master, which makes it register again; both brokers then register
# periodically (every 10 s), and finally stop gracefully (UNREGISTER_BROKER).
# Not run by the test suite: its output is committed as recorded data.
set -uo pipefail

# shellcheck source=SCRIPTDIR/../lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"
OUT=$(realpath -m "${1:-$COMPAT_DIR/fixtures/broker-5.x-master-slave.jsonl}")
compat_init record "$@"

compat_start_namesrv java
PROXY_PORT=$(compat_free_port)
RAW="$COMPAT_TMP/raw.jsonl"
compat_spawn "$COMPAT_TMP/proxy.log" python3 "$COMPAT_DIR/differential/record.py" \
    "$PROXY_PORT" "$NAMESRV_ADDR" "$RAW"
PROXY_PID=$COMPAT_LAST_PID
compat_until 10 compat_port_open "$PROXY_PORT" >/dev/null || compat_die "proxy did not start"

export BROKER_NAMESRV_ADDR="127.0.0.1:$PROXY_PORT" BROKER_WAIT_REGISTERED=0
BROKER_TAG=master compat_start_broker rec-a enableSlaveActingMaster=true \
    brokerNotActiveTimeoutMillis=600000 registerNameServerPeriod=10000
M_PID=$BROKER_PID M_ADDR=$BROKER_ADDR
BROKER_TAG=slave compat_start_broker rec-a brokerId=1 brokerRole=SLAVE registerNameServerPeriod=10000
S_PID=$BROKER_PID S_ADDR=$BROKER_ADDR
unset BROKER_NAMESRV_ADDR
compat_wait_registered rec-a "$S_ADDR" 60 || compat_die "slave did not register"

compat_log "creating topic RecTopic on the master"
compat_mqadmin updateTopic -n "$NAMESRV_ADDR" -b "$M_ADDR" -t RecTopic -r 2 -w 2 >&2
sleep 12 # one more periodic registration of each broker

compat_log "stopping the slave, then the master (UNREGISTER_BROKER)"
compat_stop "$S_PID" 20
compat_stop "$M_PID" 20
sleep 1
compat_stop "$PROXY_PID" 5

mkdir -p "$(dirname "$OUT")"
python3 - "$RAW" "$OUT" "$M_ADDR" "$S_ADDR" <<'EOF'
import json, sys
raw, out, m, s = sys.argv[1:5]
rows = [json.loads(l) for l in open(raw)]
with open(out, "w") as f:
    f.write(json.dumps({"recorded_by": "compat/differential/record.sh", "master": m, "slave": s,
                        "frames": len(rows)}) + "\n")
    for r in rows:
        f.write(json.dumps(r) + "\n")
codes = {}
for r in rows:
    if r["dir"] == ">":
        codes[r["code"]] = codes.get(r["code"], 0) + 1
print(f"{len(rows)} frames; requests by code: {dict(sorted(codes.items()))}", file=sys.stderr)
EOF
compat_log "wrote $OUT"
compat_finish
