#!/usr/bin/env bash
# TLS with real Java 5.5.0 peers (issue 13, item 1):
#
#   compat/scenarios/tls_peers.sh java   # the Java NameServer (validates the scenario)
#   compat/scenarios/tls_peers.sh ours   # our namesrv
#
# The Java NameServer reads its TLS keys as JVM system properties (TlsSystemConfig), ours
# from its -c file; `tls_namesrv` below passes the same keys either way. Certificates (a
# CA, two server certificates, a client certificate of that CA and one of another CA) are
# made with openssl in the temp dir; keys are PKCS#8 PEM, as TlsHelper wants them.
#
# Steps:
#  1. ENF: tls.server.mode=enforcing with the configured certificate (serial 1001). PERM:
#     the default (permissive, a self-signed certificate). A 5.5.0 broker with useTLS=true
#     (NettyClientConfig: its name-server client speaks TLS) registers with both: ENF only
#     accepts it over TLS.
#  2. On ENF, with -Dtls.enable=true: mqadmin clusterList and topicRoute (exact fields),
#     updateTopic, a 5.x producer and push consumer exchange messages, RouteDump. A
#     plaintext mqadmin and a plaintext raw request fail: ENF closes the connection.
#  3. On PERM: TLS and plaintext clients both get the same route on the same port.
#  4. ENF's certificate and key files are replaced: a new connection sees serial 2002
#     (openssl s_client), without a restart, and TLS clients still work.
#  5. REQ: tls.server.need.client.auth=require, trusting the CA: a TLS client without a
#     certificate is refused, one with the CA's client certificate is served, one whose
#     certificate another CA signed is refused (also when a raw client presents it); a
#     plaintext client is still served (the mode is permissive: need.client.auth only
#     concerns TLS clients).
#  6. DIS: tls.server.mode=disabled: a TLS client gets no reply, a plaintext one does.
set -uo pipefail

KIND=${1:-${NAMESRV_KIND:-java}}
case "$KIND" in java | ours) ;; *) echo "usage: $0 java|ours" >&2; exit 2 ;; esac

# shellcheck source=SCRIPTDIR/../lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"
compat_init "tls_peers-$KIND" "$@"
command -v openssl >/dev/null || compat_die "openssl not on PATH (needed for the certificates)"

N=${COMPAT_MSGS:-100}
T=CompatTls
CERTS=$COMPAT_TMP/certs
# No /etc/rocketmq/tls.properties of the machine may leak in: both sides read tls.config.file.
NOFILE=$COMPAT_TMP/no-tls.properties
qre() { printf '%s' "$1" | sed 's/[][\.*^$+?(){}|/]/\\&/g'; }

# ------------------------------------------------------------------ certificates

mkdir -p "$CERTS"
# ca NAME: a self-signed CA certificate NAME.pem with key NAME.key
ca() {
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$CERTS/$1.key" -out "$CERTS/$1.pem" -days 2 \
        -subj "/CN=$1" -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>>"$CERTS/openssl.log"
}
# leaf NAME SERIAL EKU CA: NAME.pem (serial SERIAL, hex) signed by CA, PKCS#8 key NAME.key
leaf() {
    local name=$1 serial=$2 eku=$3 ca=$4
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$CERTS/$name.key" 2>>"$CERTS/openssl.log" &&
        openssl req -new -key "$CERTS/$name.key" -subj "/CN=$name" -out "$CERTS/$name.csr" 2>>"$CERTS/openssl.log" &&
        printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=%s\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n' \
            "$eku" >"$CERTS/$name.ext" &&
        openssl x509 -req -in "$CERTS/$name.csr" -CA "$CERTS/$ca.pem" -CAkey "$CERTS/$ca.key" \
            -set_serial "0x$serial" -days 2 -extfile "$CERTS/$name.ext" -out "$CERTS/$name.pem" 2>>"$CERTS/openssl.log"
}
{ ca compat-ca && ca rogue-ca && leaf server1 1001 serverAuth compat-ca && leaf server2 2002 serverAuth compat-ca &&
    leaf client 3003 clientAuth compat-ca && leaf rogue 4004 clientAuth rogue-ca; } ||
    { cat "$CERTS/openssl.log" >&2; compat_die "openssl could not make the certificates"; }
grep -q 'BEGIN PRIVATE KEY' "$CERTS/client.key" || compat_die "openssl did not write a PKCS#8 key"
# the files the servers are configured with; step 4 replaces them
cp "$CERTS/server1.pem" "$CERTS/server.pem"
cp "$CERTS/server1.key" "$CERTS/server.key"
compat_log "certificates made in $CERTS"

# ------------------------------------------------------------------ helpers

# tls_namesrv KEY=VALUE...: start a NameServer of $KIND with these TLS keys (Java: -D
# system properties; ours: -c file lines). Sets what compat_start_namesrv sets.
tls_namesrv() {
    local kv
    if [[ $KIND == java ]]; then
        local opts="-Dtls.config.file=$NOFILE"
        for kv in "$@"; do opts+=" -D$kv"; done
        NAMESRV_JAVA_OPTS=$opts compat_start_namesrv java
    else
        compat_start_namesrv ours "tls.config.file=$NOFILE" "$@"
    fi
}
# the configured-certificate keys (Java uses the files only with test mode off)
SERVER_CERT_KEYS=(tls.test.mode.enable=false "tls.server.certPath=$CERTS/server.pem"
    "tls.server.keyPath=$CERTS/server.key")

# client TLS settings (TlsSystemConfig, TlsHelper#buildSslContext(true)): test mode trusts
# any server and presents no certificate; with it off, the given certificate is presented
# (tls.client.authServer stays false: the server's certificate is not checked).
TLS_ANON=(-Dtls.enable=true "-Dtls.config.file=$NOFILE")
tls_with_cert() { # NAME: the -D flags of a client presenting $CERTS/NAME.pem
    echo -Dtls.enable=true "-Dtls.config.file=$NOFILE" -Dtls.test.mode.enable=false \
        "-Dtls.client.certPath=$CERTS/$1.pem" "-Dtls.client.keyPath=$CERTS/$1.key"
}
read -r -a TLS_CLIENT <<<"$(tls_with_cert client)"
read -r -a TLS_ROGUE <<<"$(tls_with_cert rogue)"

# mqadmin_with [-Dprop...] SUBCOMMAND ARGS...: the 5.x mqadmin with system properties
mqadmin_with() {
    local p=()
    while [[ "${1:-}" == -D* ]]; do p+=("$1"); shift; done
    _compat_java_client "$PEERS_LIB5" "$PEERS_CLASSES5" "${p[@]}" org.apache.rocketmq.tools.command.MQAdminStartup "$@"
}

# serial_is ADDR HEX: a new TLS connection to ADDR is served the certificate with that serial
serial_is() {
    local got
    got=$(timeout 10 openssl s_client -connect "$1" -servername localhost </dev/null 2>/dev/null |
        openssl x509 -noout -serial 2>/dev/null)
    echo "$1: ${got:-no certificate}"
    [[ "$got" == "serial=$2" ]]
}

# plain_closed ADDR: a plaintext GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206) frame gets no
# reply: the server closes the connection
plain_closed() {
    python3 - "$1" "$COMPAT_DIR/differential" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
import rmq
c = rmq.Conn(sys.argv[1])
c.send(rmq.request(206))
f = c.recv_frame(5.0)
print("reply:", "none, closed by the server" if f == b"" else ("timeout" if f is None else repr(f[:80])))
sys.exit(0 if f == b"" else 1)
PY
}

# tls_frame ADDR CERT_NAME|-: a 206 request over TLS (Python ssl, no server verification),
# presenting $CERTS/CERT_NAME.pem whatever CA the server asks for (a JDK client sends only
# a certificate of an issuer the server lists). Prints "reply code N" or "refused: why";
# exits 0 on a reply.
tls_frame() {
    python3 - "$1" "$2" "$CERTS" "$COMPAT_DIR/differential" <<'PY'
import socket, ssl, sys
sys.path.insert(0, sys.argv[4])
import rmq
host, port = sys.argv[1].rsplit(":", 1)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
if sys.argv[2] != "-":
    ctx.load_cert_chain(f"{sys.argv[3]}/{sys.argv[2]}.pem", f"{sys.argv[3]}/{sys.argv[2]}.key")
try:
    s = ctx.wrap_socket(socket.create_connection((host, int(port)), timeout=5))
    # TLS 1.3: the server judges the client's certificate after the client's handshake ends
    s.sendall(rmq.request(206, opaque=7))
    buf = b""
    while True:
        frames, _ = rmq.split_frames(buf)
        if frames:
            break
        chunk = s.recv(65536)
        if not chunk:
            sys.exit("refused: closed without a reply")
        buf += chunk
except (ssl.SSLError, OSError) as e:
    sys.exit(f"refused: {e.__class__.__name__}: {e}")
ty, header, _ = rmq.parts(frames[0])
print("reply code", rmq.decode_header(ty, header)["code"])
PY
}
# tls_frame_refused ADDR CERT_NAME|-
tls_frame_refused() {
    local out
    out=$(tls_frame "$@" 2>&1) && { echo "served: $out"; return 1; }
    echo "$out"
    [[ "$out" == refused:* ]]
}

# route_of ADDR TOPIC [-Dprop...]: RouteDump's one-line route
route_of() {
    local ns=$1 topic=$2
    shift 2
    compat_java5 "$@" RouteDump "$ns" "$topic"
}
# wait_registered_tls ADDR: the broker's own-name topic shows its address (TLS RouteDump)
wait_registered_tls() {
    local i
    for ((i = 0; i < 60; i++)); do
        route_of "$1" "$BROKER_NAME" "${TLS_ANON[@]}" 2>/dev/null | grep -qF "\"$BROKER_ADDR\"" && return 0
        sleep 1
    done
    compat_log "WARNING: broker not visible on $1 over TLS after 60s"
    return 1
}

# ------------------------------------------------------------------ 1. servers and broker

tls_namesrv tls.server.mode=enforcing "${SERVER_CERT_KEYS[@]}"
ENF=$NAMESRV_ADDR ENF_PORT=$NAMESRV_PORT ENF_PID=$NAMESRV_PID
tls_namesrv
PERM=$NAMESRV_ADDR PERM_PID=$NAMESRV_PID

BROKER_WAIT_REGISTERED=0 BROKER_NAMESRV_ADDR="$ENF;$PERM" compat_start_broker compat-tls-b useTLS=true
B=$BROKER_NAME C=$BROKER_CLUSTER BA=$BROKER_ADDR
BARE=$(qre "$BA")
wait_registered_tls "$ENF"
wait_registered_tls "$PERM"

# ------------------------------------------------------------------ 2. enforcing

compat_check enf_serial_1001 serial_is "$ENF" 1001
compat_check enf_clusterList_tls compat_until 30 \
    compat_expect -e "^$C +$B +0 +$BARE +V5_5_0 " mqadmin_with "${TLS_ANON[@]}" clusterList -n "$ENF"
compat_check enf_updateTopic_tls compat_expect -e "create topic to $BARE success" \
    mqadmin_with "${TLS_ANON[@]}" updateTopic -n "$ENF" -c "$C" -t "$T" -r 4 -w 4
compat_check enf_topicRoute_tls compat_until 30 \
    compat_expect -e "^\s*0:\"$BARE\"\$" -e '"writeQueueNums":4$' -e '"readQueueNums":4,$' \
    -e '"perm":6,$' -e "\"brokerName\":\"$B\",\$" -e "\"cluster\":\"$C\",\$" -e '"topicSysFlag":0,$' \
    -e '"enableActingMaster":false$' \
    mqadmin_with "${TLS_ANON[@]}" topicRoute -n "$ENF" -t "$T"
compat_check enf_routeDump_tls compat_expect \
    -e "\"brokerAddrs\":\\{\"0\":\"$BARE\"\\}" -e '"readQueueNums":4,"writeQueueNums":4,"perm":6' \
    route_of "$ENF" "$T" "${TLS_ANON[@]}"
# Two tries: on a loaded 2-core host a cold client JVM's first TLS route lookup can outlast
# its 3 s request timeout, which loses a send or two. A second run sends the same N bodies
# again; the consumer counts distinct bodies.
compat_check enf_produce_tls compat_tries 2 compat_expect -e "^SENT $N\$" \
    compat_java5 "${TLS_ANON[@]}" Producer "$ENF" "$T" "$N" compat_tls_pg mtls
compat_check enf_consume_tls compat_expect -e "^RECEIVED $N\$" \
    compat_java5 "${TLS_ANON[@]}" PushConsumer "$ENF" "$T" compat_tls_cg "$N" 60 mtls
# A plaintext mqadmin gets no answer: its clusterList prints no cluster table.
compat_check enf_clusterList_plain_fails compat_expect -x -v "^$C +$B " -v '^#Cluster Name' \
    mqadmin_with clusterList -n "$ENF"
compat_check enf_plain_frame_closed plain_closed "$ENF"

# ------------------------------------------------------------------ 3. permissive

compat_check perm_clusterList_tls compat_expect -e "^$C +$B +0 +$BARE " \
    mqadmin_with "${TLS_ANON[@]}" clusterList -n "$PERM"
compat_check perm_clusterList_plain compat_expect -e "^$C +$B +0 +$BARE " mqadmin_with clusterList -n "$PERM"
perm_same_route() {
    local a b
    a=$(route_of "$PERM" "$T" "${TLS_ANON[@]}") || { echo "tls: $a"; return 1; }
    b=$(route_of "$PERM" "$T") || { echo "plain: $b"; return 1; }
    echo "tls:   $a"
    echo "plain: $b"
    [[ "$a" == "$b" && "$a" == *"\"$BA\""* ]]
}
compat_check perm_route_tls_equals_plain perm_same_route

# ------------------------------------------------------------------ 4. certificate reload

# key first, then the certificate, each by an atomic rename (Java reloads once both changed)
cp "$CERTS/server2.key" "$CERTS/server.key.new" && mv "$CERTS/server.key.new" "$CERTS/server.key"
cp "$CERTS/server2.pem" "$CERTS/server.pem.new" && mv "$CERTS/server.pem.new" "$CERTS/server.pem"
compat_check enf_reload_serial_2002 compat_until 20 serial_is "$ENF" 2002
compat_check enf_after_reload_clusterList_tls compat_expect -e "^$C +$B +0 +$BARE " \
    mqadmin_with "${TLS_ANON[@]}" clusterList -n "$ENF"
compat_check enf_same_pid kill -0 "$ENF_PID"

compat_stop "$BROKER_PID" 20
compat_stop "$PERM_PID" 10
compat_stop "$ENF_PID" 10

# ------------------------------------------------------------------ 5. client certificates

# tls.server.authClient=true: the client certificate is checked against trustCertPath
# (without it, TlsHelper#buildSslContext trusts any client certificate)
REQ_KEYS=("${SERVER_CERT_KEYS[@]}" tls.server.need.client.auth=require tls.server.authClient=true
    "tls.server.trustCertPath=$CERTS/compat-ca.pem")
tls_namesrv "${REQ_KEYS[@]}"
REQ=$NAMESRV_ADDR REQ_PID=$NAMESRV_PID
# config_ok ADDR [-Dprop...]: mqadmin's getNamesrvConfig (319) got its reply: the
# server's own listenPort line
config_ok() {
    local ns=$1
    shift
    compat_expect -e "^============$(qre "$ns")============" -e "^listenPort +=  ${ns##*:}\$" \
        mqadmin_with "$@" getNamesrvConfig -n "$ns"
}
# config_refused ADDR [-Dprop...]: no reply reached mqadmin
config_refused() {
    local ns=$1
    shift
    compat_expect -x -v '^listenPort ' mqadmin_with "$@" getNamesrvConfig -n "$ns"
}
compat_check req_no_cert_refused config_refused "$REQ" "${TLS_ANON[@]}"
compat_check req_ca_cert_accepted config_ok "$REQ" "${TLS_CLIENT[@]}"
compat_check req_other_ca_refused config_refused "$REQ" "${TLS_ROGUE[@]}"
compat_check req_raw_other_ca_refused tls_frame_refused "$REQ" rogue
compat_check req_raw_no_cert_refused tls_frame_refused "$REQ" -
compat_check req_raw_ca_cert_served compat_expect -e '^reply code 0$' tls_frame "$REQ" client
# need.client.auth concerns TLS clients only: the permissive server still serves plaintext
compat_check req_plain_still_served config_ok "$REQ"
compat_check req_routeDump_ca_cert compat_expect -e '"code":17' -x route_of "$REQ" "$T" "${TLS_CLIENT[@]}"
compat_stop "$REQ_PID" 10

# ------------------------------------------------------------------ 6. disabled

tls_namesrv tls.server.mode=disabled
DIS=$NAMESRV_ADDR
compat_check dis_tls_refused config_refused "$DIS" "${TLS_ANON[@]}"
compat_check dis_plain_served config_ok "$DIS"

compat_finish
