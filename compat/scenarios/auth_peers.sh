#!/usr/bin/env bash
# Authentication with real Java 5.5.0 and Go peers (issue 14):
#
#   compat/scenarios/auth_peers.sh ours   # our namesrv with authenticationEnabled=true
#   compat/scenarios/auth_peers.sh java   # control: the Java NameServer, allowed halves only
#
# The Java NameServer has no authentication: every request passes there. So `java` runs only
# the "allowed" checks (signing peers must work unchanged against a server that ignores the
# signature); the "refused" checks, the denied counter and the log lines are `ours` only.
#
# Ours runs with authenticationEnabled=true and an accounts file (auth/plain_acl.yml: an
# admin, a broker and a client account; no address whitelisted, so every check below goes
# through the signature). Steps:
#  1. Brokers. One with the broker account's access key but a wrong secret
#     (innerClientAuthenticationCredentials in broker.conf: BrokerOuterAPI signs its
#     name-server requests with it) is refused: bad_signature in the denied counter and
#     the log, its routes never appear. Then one with the right secret registers: clusterList
#     and its topic's route, exact.
#  2. Anonymous reads: an unsigned 5.5.0 producer and push consumer exchange messages.
#  3. mqadmin 5.5.0, one ROCKETMQ_HOME per identity (conf/tools.yml: MQAdminStartup signs
#     with AclUtils.getAclRPCHook): the client account and no tools.yml are refused
#     updateKvConfig, wipeWritePerm, updateNamesrvConfig (and the admin reads 101, 319),
#     the state unchanged; the admin account succeeds, the state changed after each.
#  4. The admin's updateNamesrvConfig sets anonymousRouteRead=false: an unsigned route read
#     and an unsigned producer get no route; a producer and a consumer signing with
#     AclClientRPCHook (client account) exchange messages.
#  5. The Go client (rocketmq-client-go v2.1.2, WithCredentials) with the client account
#     sends and receives; without credentials it gets no route.
#  6. The denied counter has every reason seen; no secret in the log or in 319's answer.
set -uo pipefail

KIND=${1:-${NAMESRV_KIND:-java}}
case "$KIND" in java | ours) ;; *) echo "usage: $0 java|ours" >&2; exit 2 ;; esac

# shellcheck source=SCRIPTDIR/../lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"
compat_init "auth_peers-$KIND" "$@"
AUTH_DIR="$COMPAT_DIR/scenarios/auth"

N=${COMPAT_MSGS:-100}
T=CompatAuthT
KVNS=CompatAuthNS
# the accounts of auth/plain_acl.yml
ADMIN_AK=authAdmin ADMIN_SK=admin-secret-4711
BROKER_AK=authBroker BROKER_SK=broker-secret-0815
CLIENT_AK=authClient CLIENT_SK=client-secret-1234
SECRETS_RE="$ADMIN_SK|$BROKER_SK|$CLIENT_SK"
# shellcheck source=SCRIPTDIR/auth/helpers.sh
source "$AUTH_DIR/helpers.sh"
ours() { [[ $KIND == ours ]]; }

# ------------------------------------------------------------------ name server

if ours; then
    HTTP_PORT=$(compat_free_port)
    cp "$AUTH_DIR/plain_acl.yml" "$COMPAT_TMP/plain_acl.yml"
    compat_start_namesrv ours authenticationEnabled=true "authConfigPath=$COMPAT_TMP/plain_acl.yml" \
        "httpPort=$HTTP_PORT"
else
    compat_start_namesrv java
fi
NS=$NAMESRV_ADDR
NSRE=$(qre "$NS")

# one ROCKETMQ_HOME per mqadmin identity
mqadmin_home admin "$ADMIN_AK" "$ADMIN_SK"
mqadmin_home client "$CLIENT_AK" "$CLIENT_SK"
mqadmin_home none

# ------------------------------------------------------------------ 1. brokers

BROKER_CLUSTER=CompatAuthC
# broker.conf: BrokerStartup copies these keys into its AuthConfig. With credentials set, a
# 5.5.0 broker also adds them as a user of its own ACL 2.0 store at start
# (AuthenticationMetadataManagerImpl#initUser), which needs a metadata provider, even though
# its own authentication stays off (authenticationEnabled=false on the broker).
BROKER_AUTH_PROVIDER=(authenticationMetadataProvider=org.apache.rocketmq.auth.authentication.provider.LocalAuthenticationMetadataProvider)
broker_credentials() { # AK SK: the line that makes BrokerOuterAPI sign its name-server requests
    printf 'innerClientAuthenticationCredentials={"accessKey":"%s","secretKey":"%s"}' "$1" "$2"
}
C=$BROKER_CLUSTER
if ours; then
    # (one broker JVM at a time: this one is stopped before the good one starts)
    BROKER_WAIT_REGISTERED=0 compat_start_broker compat-auth-bad "${BROKER_AUTH_PROVIDER[@]}" \
        "$(broker_credentials "$BROKER_AK" wrong-secret)"
    BAD=$BROKER_NAME BAD_ADDR=$BROKER_ADDR BAD_PID=$BROKER_PID
    compat_check bad_broker_denied_bad_signature compat_until 60 denied_at_least bad_signature 1
    compat_check bad_broker_log_bad_signature compat_expect \
        -e 'request refused .* code=103 reason="?bad_signature"? .*AccessKey \[authBroker\]' \
        grep -a -m3 -E 'reason="?bad_signature' "$NAMESRV_LOG"
    compat_check bad_broker_not_in_clusterList compat_expect -e '^#Cluster Name' -v "$BAD" -v "$(qre "$BAD_ADDR")" \
        mqadmin_as admin clusterList -n "$NS"
    compat_check bad_broker_route_absent route_absent "$BAD"
    compat_check bad_broker_tbw102_absent route_absent TBW102
    compat_stop "$BAD_PID" 20
    # every bad_signature of the run is the bad broker's: none may come after it stopped
    BAD_SIGNATURES=$(denied_count bad_signature) || BAD_SIGNATURES=-1
fi

compat_start_broker compat-auth-a "${BROKER_AUTH_PROVIDER[@]}" "$(broker_credentials "$BROKER_AK" "$BROKER_SK")"
B=$BROKER_NAME BA=$BROKER_ADDR
BARE=$(qre "$BA")
compat_check broker_clusterList compat_until 30 \
    compat_expect -e "^$C +$B +0 +$BARE +V5_5_0 " mqadmin_as none clusterList -n "$NS"
# the topic a broker registers under its own name, exactly
OWN_ROUTE="{\"topic\":\"$B\",\"orderTopicConf\":null,\"brokerDatas\":[{\"cluster\":\"$C\",\"brokerName\":\"$B\",\"brokerAddrs\":{\"0\":\"$BA\"}}],\"queueDatas\":[{\"brokerName\":\"$B\",\"readQueueNums\":1,\"writeQueueNums\":1,\"perm\":7,\"topicSysFlag\":0}]}"
compat_check broker_route compat_expect -e "^$(qre "$OWN_ROUTE")\$" compat_java5 RouteDump "$NS" "$B"
if ours; then
    compat_check bad_broker_still_absent route_absent "$BAD"
fi

# ------------------------------------------------------------------ 2. anonymous reads

compat_check updateTopic compat_expect -e "create topic to $BARE success" \
    mqadmin_as none updateTopic -n "$NS" -c "$C" -t "$T" -r 4 -w 4
compat_check anon_route compat_until 30 route_has "$T" '"perm":6'
compat_check anon_produce compat_tries 2 compat_expect -e "^SENT $N\$" \
    compat_java5 Producer "$NS" "$T" "$N" compat_auth_pg anon
compat_check anon_consume compat_expect -e "^RECEIVED $N\$" \
    compat_java5 PushConsumer "$NS" "$T" compat_auth_cg_anon "$N" 60 anon

# ------------------------------------------------------------------ 3. mqadmin

# updateKvConfig (100): refused for the client account and anonymously, the key stays absent
if ours; then
    for who in client none; do
        compat_check "kv_put_refused_$who" mqadmin_refused "$who" 100 \
            updateKvConfig -n "$NS" -s "$KVNS" -k authKey -v "by-$who"
        compat_check "kv_unchanged_after_$who" kv_code 22 "$KVNS" authKey
    done
fi
compat_check kv_put_admin compat_expect -e 'create or update kv config to namespace success' \
    mqadmin_as admin updateKvConfig -n "$NS" -s "$KVNS" -k authKey -v by-admin
compat_check kv_get_admin compat_expect -e '"value":"by-admin"' kv_get "$KVNS" authKey
if ours; then
    # the read itself (101) is an admin request
    compat_check kv_get_refused_client kv_code 16 "$KVNS" authKey -Dcompat.accessKey=$CLIENT_AK \
        -Dcompat.secretKey=$CLIENT_SK
    compat_check kv_get_refused_anonymous kv_code 16 "$KVNS" authKey ""
    compat_check kv_put_refused_client_after mqadmin_refused client 100 \
        updateKvConfig -n "$NS" -s "$KVNS" -k authKey -v by-client
    compat_check kv_still_admin_value compat_expect -e '"value":"by-admin"' kv_get "$KVNS" authKey
fi

# wipeWritePerm (205): refused for the others, the perm stays 6; the admin's makes it 4
if ours; then
    for who in client none; do
        compat_check "wipe_refused_$who" mqadmin_refused "$who" 205 wipeWritePerm -b "$B" -n "$NS"
        compat_check "perm_unchanged_after_$who" route_has "$T" '"perm":6' "${ADMIN_PROPS[@]}"
    done
fi
compat_check wipe_admin compat_tries 3 wipe_then_check
compat_check add_perm_admin compat_tries 2 add_then_check

# updateNamesrvConfig (318) and getNamesrvConfig (319)
if ours; then
    for who in client none; do
        compat_check "config_put_refused_$who" mqadmin_refused "$who" 318 \
            updateNamesrvConfig -n "$NS" -k productEnvName -v "by-$who"
        compat_check "config_get_refused_$who" mqadmin_refused "$who" 319 getNamesrvConfig -n "$NS"
    done
    compat_check config_unchanged config_has productEnvName center
fi
compat_check config_put_admin compat_expect -e 'update name server config success' \
    mqadmin_as admin updateNamesrvConfig -n "$NS" -k productEnvName -v auth-peers
compat_check config_changed config_has productEnvName auth-peers
compat_check config_has_no_secret compat_expect -v "$SECRETS_RE" -e '^listenPort ' \
    mqadmin_as admin getNamesrvConfig -n "$NS"

# ------------------------------------------------------------------ 4. signed clients only

SIGNED=(-Dcompat.accessKey=$CLIENT_AK -Dcompat.secretKey=$CLIENT_SK)
compat_check config_anonymous_route_read_off compat_expect -e 'update name server config success' \
    mqadmin_as admin updateNamesrvConfig -n "$NS" -k anonymousRouteRead -v false
ours && compat_check config_shows_anonymous_route_read_off config_has anonymousRouteRead false
if ours; then
    compat_check unsigned_route_refused route_code 16 "$T"
    compat_check unsigned_producer_no_route producer_no_route
fi
compat_check signed_route compat_expect -e "\"brokerAddrs\":\\{\"0\":\"$BARE\"\\}" -e '"perm":6' \
    compat_java5 "${SIGNED[@]}" RouteDump "$NS" "$T"
compat_check signed_produce compat_tries 2 compat_expect -e "^SENT $N\$" \
    compat_java5 "${SIGNED[@]}" Producer "$NS" "$T" "$N" compat_auth_pg_signed signed
compat_check signed_consume compat_expect -e "^RECEIVED $N\$" \
    compat_java5 "${SIGNED[@]}" PushConsumer "$NS" "$T" compat_auth_cg_signed "$N" 60 signed

# ------------------------------------------------------------------ 5. Go client

GO_CREDS=(-ak "$CLIENT_AK" -sk "$CLIENT_SK")
compat_check go_signed_produce compat_expect -e "^SENT $N\$" \
    compat_go produce -n "$NS" -t "$T" -c "$N" -g compat_auth_go_pg -prefix go "${GO_CREDS[@]}"
compat_check go_signed_consume compat_expect -e "^RECEIVED $N\$" \
    compat_go consume -n "$NS" -t "$T" -g compat_auth_go_cg -c "$N" -timeout 60 -prefix go "${GO_CREDS[@]}"
ours && compat_check go_unsigned_no_route go_no_route

# ------------------------------------------------------------------ 6. counter and log

if ours; then
    compat_check denied_reasons denied_reasons_seen no_access_key
    # the client account's six mqadmin and KvGet requests above (100 twice, 101, 205, 318, 319)
    compat_check denied_not_admin_6 denied_exactly not_admin 6
    compat_check denied_bad_signature_only_bad_broker denied_exactly bad_signature "$BAD_SIGNATURES"
    compat_check denied_unknown_access_key_0 denied_exactly unknown_access_key 0
    compat_check denied_address_not_allowed_0 denied_exactly address_not_allowed 0
    compat_check log_has_no_secret compat_expect -x -v "$SECRETS_RE" grep -a -c . "$NAMESRV_LOG"
fi

compat_finish
