# shellcheck shell=bash
# Helpers of compat/scenarios/auth_peers.sh, sourced after compat/lib.sh and the scenario's
# account variables (*_AK, *_SK); they read its NS, NSRE, T, B, BA and HTTP_PORT when called.

qre() { printf '%s' "$1" | sed 's/[][\.*^$+?(){}|/]/\\&/g'; }

# mqadmin_home NAME [AK SK]: $COMPAT_TMP/rmqhome-NAME, with conf/tools.yml holding AK/SK when
# given (MQAdminStartup#main0 signs with AclUtils.getAclRPCHook of that file; without the
# file it sends unsigned requests)
mqadmin_home() {
    local home="$COMPAT_TMP/rmqhome-$1"
    mkdir -p "$home/conf"
    if [[ $# -ge 3 ]]; then
        printf 'accessKey: %s\nsecretKey: %s\n' "$2" "$3" >"$home/conf/tools.yml"
    fi
}

# mqadmin_as NAME SUBCOMMAND ARGS...: the 5.x mqadmin with ROCKETMQ_HOME=rmqhome-NAME
# (MixAll.ROCKETMQ_HOME_DIR: the rocketmq.home.dir property, else the environment)
mqadmin_as() {
    local home="$COMPAT_TMP/rmqhome-$1"
    shift
    ROCKETMQ_HOME="$home" _compat_java_client "$PEERS_LIB5" "$PEERS_CLASSES5" \
        -Drocketmq.home.dir="$home" org.apache.rocketmq.tools.command.MQAdminStartup "$@"
}

# the admin account's signing properties for the drivers (compat/java Credentials); the
# scenario sets the account variables before it sources this file
ADMIN_PROPS=("-Dcompat.accessKey=$ADMIN_AK" "-Dcompat.secretKey=$ADMIN_SK")

# route_of TOPIC [-Dprop...]: RouteDump's one-line route (unsigned unless properties sign it)
route_of() {
    local topic=$1
    shift
    compat_java5 "$@" RouteDump "$NS" "$topic"
}

# route_code CODE TOPIC [-Dprop...]: RouteDump gets the error CODE
route_code() {
    local code=$1 topic=$2 out rc
    shift 2
    out=$(compat_java5 "$@" RouteDump "$NS" "$topic")
    rc=$?
    echo "$out (exit $rc)"
    [[ $rc -eq 3 && "$out" == *"\"code\":$code}"* ]]
}
# route_absent TOPIC: TOPIC_NOT_EXIST (17)
route_absent() { route_code 17 "$1"; }

# route_has TOPIC TEXT [-Dprop...]: the route holds TEXT (and the broker's address)
route_has() {
    local out topic=$1 text=$2
    shift 2
    out=$(route_of "$topic" "$@") || { echo "$out"; return 1; }
    echo "$out"
    [[ "$out" == *"$text"* && "$out" == *"\"$BA\""* ]]
}

# kv_get NS KEY: GET_KV_CONFIG (101) signed by the admin account
kv_get() { compat_java5 "${ADMIN_PROPS[@]}" KvGet "$NS" "$1" "$2"; }
# kv_code CODE NS KEY [-Dprop...|""]: GET_KV_CONFIG answers CODE; signed by the admin
# account unless other properties are given ("" for none: unsigned)
kv_code() {
    local code=$1 ns=$2 key=$3 out rc p=()
    shift 3
    if (($#)); then
        local a
        for a in "$@"; do [[ -n "$a" ]] && p+=("$a"); done
    else
        p=("${ADMIN_PROPS[@]}")
    fi
    out=$(compat_java5 "${p[@]}" KvGet "$NS" "$ns" "$key")
    rc=$?
    echo "$out (exit $rc)"
    [[ $rc -eq 3 && "$out" == *"\"code\":$code}"* ]]
}

# config_has KEY VALUE: the admin's getNamesrvConfig (319) prints KEY = VALUE
config_has() {
    compat_expect -e "^============${NSRE}============" -e "^$1 +=  $(qre "$2")\$" \
        mqadmin_as admin getNamesrvConfig -n "$NS"
}

wipe_then_check() {
    compat_expect -e "wipe write perm of broker\\[$B\\] in name server\\[$NSRE\\] OK, [1-9]" \
        mqadmin_as admin wipeWritePerm -b "$B" -n "$NS" || return 1
    # a periodic broker re-registration (every 30 s) restores perm 6; a retry covers that race
    route_has "$T" '"perm":4' "${ADMIN_PROPS[@]}"
}
add_then_check() {
    compat_expect -e "add write perm of broker\\[$B\\] in name server\\[$NSRE\\] OK, [1-9]" \
        mqadmin_as admin addWritePerm -b "$B" -n "$NS" || return 1
    route_has "$T" '"perm":6' "${ADMIN_PROPS[@]}"
}

# producer_no_route: an unsigned 5.x producer finds no route for $T (its route lookup is
# refused) and sends nothing
producer_no_route() {
    local out rc
    out=$(compat_java5 Producer "$NS" "$T" 1 compat_auth_pg_unsigned unsigned 2>&1)
    rc=$?
    echo "$out" | grep -v '^\s*at ' | head -n 20
    echo "(exit $rc)"
    [[ $rc -ne 0 ]] && grep -q '^SENT 0$' <<<"$out" && grep -q "No route info of this topic: $T\$" <<<"$out" &&
        grep -q 'CODE: 16  DESC: access denied: request code 105 needs an account (no AccessKey)$' <<<"$out"
}

# go_no_route: the Go producer without credentials finds no route for $T (its log level
# hides the name server's answer: the no_access_key count shows the refusals were ours)
go_no_route() {
    local out rc before after
    before=$(denied_count no_access_key) || return 1
    out=$(compat_go produce -n "$NS" -t "$T" -c 1 -timeout 20 -g compat_auth_go_pg_unsigned -prefix gou 2>&1)
    rc=$?
    after=$(denied_count no_access_key) || return 1
    echo "$out" | head -n 20
    echo "(exit $rc; requests_denied_total{reason=\"no_access_key\"} $before -> $after)"
    [[ $rc -ne 0 ]] && grep -q '^SENT 0$' <<<"$out" && ((after > before)) &&
        grep -q "^send 0: the topic=$T route info not found\$" <<<"$out"
}

# denied_count REASON: rocketmq_namesrv_requests_denied_total{reason=REASON} from /metrics
denied_count() {
    python3 - "$HTTP_PORT" "$1" <<'PY'
import re, sys, urllib.request
port, reason = sys.argv[1], sys.argv[2]
text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
n = 0
for line in text.splitlines():
    m = re.match(r'rocketmq_namesrv_requests_denied_total\{([^}]*)\} ([0-9.e+]+)$', line)
    if m and f'reason="{reason}"' in m.group(1):
        n += int(float(m.group(2)))
print(n)
PY
}
# denied_at_least REASON N
denied_at_least() {
    local got
    got=$(denied_count "$1") || return 1
    echo "requests_denied_total{reason=\"$1\"} = $got (want >= $2)"
    ((got >= $2))
}
# denied_reasons_seen REASON...: each counted at least once
denied_reasons_seen() {
    local r ok=0
    for r in "$@"; do denied_at_least "$r" 1 || ok=1; done
    return $ok
}

# mqadmin_refused WHO CODE SUBCOMMAND ARGS...: mqadmin as WHO (client: a non-admin account,
# none: no tools.yml) gets NO_PERMISSION for request CODE, with our remark (mqadmin prints
# the exception on stderr and exits 0), and prints no success line
mqadmin_refused() {
    local who=$1 code=$2 out want
    shift 2
    case "$who" in
        client) want="request code $code needs an admin account; AccessKey \\[$CLIENT_AK\\] is not one" ;;
        none) want="request code $code needs an account \\(no AccessKey\\)" ;;
        *) echo "mqadmin_refused: unknown identity $who"; return 2 ;;
    esac
    out=$(mqadmin_as "$who" "$@" 2>&1)
    echo "\$ mqadmin_as $who $*"
    grep -v '^\s*at ' <<<"$out"
    grep -Eq "CODE: 16  DESC: access denied: $want\$" <<<"$out" || { echo ">> no /CODE: 16 … $want/"; return 1; }
    if grep -Eq ' success|\] OK, |^productEnvName ' <<<"$out"; then echo ">> a success line"; return 1; fi
    return 0
}

# denied_exactly REASON N
denied_exactly() {
    local got
    got=$(denied_count "$1") || return 1
    echo "requests_denied_total{reason=\"$1\"} = $got (want $2)"
    ((got == $2))
}
