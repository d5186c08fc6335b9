#!/usr/bin/env bash
# Records captures/emulated/reality-like.pcap: an EMULATION of a Reality-like
# switch (Xray REALITY cannot be recorded here: the PyPI sing-box is built
# without uTLS, which REALITY's client needs). Every packet is real traffic
# between network namespaces made here; what is emulated is the server:
#
#   www.claimed.test at 10.212.0.2:443 — the "real site": nginx (OpenSSL),
#     TLS 1.3, an RSA-2048 leaf and an RSA-2048 intermediate under a test
#     root (the shape of a public site's chain), session tickets on (OpenSSL
#     sends two after each full handshake).
#   www.claimed.test at 10.212.0.3:443 — the "Reality-like" server: what a
#     REALITY server shows a client it accepts — a TLS 1.3 handshake for the
#     claimed name with a throw-away self-signed Ed25519 certificate and no
#     session tickets (REALITY requires SessionTicketsDisabled) — emulated by
#     reality_like_server.py (Python ssl/OpenSSL), which then relays the
#     tunnel to an HTTP proxy (tinyproxy) in its namespace. Not emulated: a
#     REALITY release that pads its records to the real site's lengths.
#
# Order of the sessions (one client, curl): 3 to the real site, 3 through the
# Reality-like server carrying HTTPS (an inner TLS handshake), 2 to the real
# site, 3 through it carrying plain HTTP (no inner handshake), 1 to the real
# site.  Usage (root): bash captures/emulated/record_reality_like.sh
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export PATH="$PATH:/usr/sbin:/sbin"
NC=rl-cli NS=rl-srv
CLI=10.212.0.1 REAL=10.212.0.2 FAKE=10.212.0.3
NAME=www.claimed.test
PY=${PYTHON:-python3}
log() { printf '[reality-like] %s\n' "$*" >&2; }
[ "$(id -u)" -eq 0 ] || { log "must run as root"; exit 1; }
for p in nginx tinyproxy tcpdump curl openssl ethtool; do
    command -v $p >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=1200 install -y -qq \
        nginx tinyproxy tcpdump curl openssl ethtool >/dev/null; break; }
done
WORK=""
cleanup() {
    set +e
    for ns in $NC $NS; do
        for p in $(ip netns pids $ns 2>/dev/null); do kill $p 2>/dev/null; done
    done
    sleep 0.5
    for ns in $NC $NS; do
        for p in $(ip netns pids $ns 2>/dev/null); do kill -9 $p 2>/dev/null; done
        ip netns del $ns 2>/dev/null; rm -rf /etc/netns/$ns
    done
    [ -n "$WORK" ] && rm -rf "$WORK"
}
cleanup; trap cleanup EXIT
WORK=$(mktemp -d /tmp/rl.XXXXXX); chmod 755 "$WORK"; cd "$WORK"

ip netns add $NC; ip netns add $NS
ip -n $NC link set lo up; ip -n $NS link set lo up
ip link add rlc0 netns $NC type veth peer name rls0 netns $NS
ip -n $NC addr add $CLI/24 dev rlc0; ip -n $NS addr add $REAL/24 dev rls0; ip -n $NS addr add $FAKE/24 dev rls0
ip -n $NC link set rlc0 up; ip -n $NS link set rls0 up
for ns in $NC $NS; do ip netns exec $ns ethtool -K rl${ns#rl-}0 tso off gso off gro off tx off rx off >/dev/null 2>&1 || true; done
ip netns exec $NC ethtool -K rlc0 tso off gso off gro off tx off rx off >/dev/null 2>&1 || true
ip netns exec $NS ethtool -K rls0 tso off gso off gro off tx off rx off >/dev/null 2>&1 || true
mkdir -p /etc/netns/$NC /etc/netns/$NS
printf '127.0.0.1 localhost\n%s %s\n' $FAKE $NAME > /etc/netns/$NC/hosts
printf '127.0.0.1 localhost\n%s inner.test\n' $REAL > /etc/netns/$NS/hosts

# Certificates: the real site's chain (root -> intermediate -> leaf, RSA),
# an inner site's, and the Reality-like server's throw-away Ed25519 one.
openssl req -x509 -newkey rsa:4096 -nodes -days 3650 -keyout root.key -out root.crt -subj "/CN=Test Root R1" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout int.key -out int.csr -subj "/CN=Test Issuing CA 01" 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' > int.ext
openssl x509 -req -in int.csr -CA root.crt -CAkey root.key -CAcreateserial -days 1825 -extfile int.ext -out int.crt 2>/dev/null
leaf() {
    openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$2" 2>/dev/null
    printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n' "$2" > "$1.ext"
    openssl x509 -req -in "$1.csr" -CA int.crt -CAkey int.key -CAcreateserial -days 398 -extfile "$1.ext" -out "$1.crt" 2>/dev/null
    cat "$1.crt" int.crt > "$1.chain"
}
leaf real $NAME; leaf inner inner.test
openssl genpkey -algorithm ed25519 -out fake.key
openssl req -x509 -key fake.key -days 1 -subj "/" -out fake.crt 2>/dev/null || \
    openssl req -x509 -key fake.key -days 1 -subj "/CN=." -out fake.crt
chmod 644 ./*.key

mkdir -p www; head -c 1200 /dev/urandom | base64 > www/page.html; head -c 60000 /dev/urandom > www/big.bin
cat > nginx.conf <<NGX
worker_processes 1; pid $WORK/nginx.pid; error_log $WORK/nginx.err;
events { worker_connections 64; }
http { access_log off; default_type application/octet-stream;
  server { listen $REAL:443 ssl http2; server_name $NAME; root $WORK/www;
           ssl_certificate $WORK/real.chain; ssl_certificate_key $WORK/real.key;
           ssl_protocols TLSv1.3; ssl_session_tickets on; }
  server { listen $REAL:8443 ssl; server_name inner.test; root $WORK/www;
           ssl_certificate $WORK/inner.chain; ssl_certificate_key $WORK/inner.key; ssl_protocols TLSv1.3; }
  server { listen $REAL:80; server_name inner.test; root $WORK/www; } }
NGX
ip netns exec $NS nginx -c $WORK/nginx.conf
printf 'Port 8888\nListen 127.0.0.1\nTimeout 60\nAllow 127.0.0.1\nConnectPort 8443\nMaxClients 20\n' > tinyproxy.conf
ip netns exec $NS tinyproxy -d -c $WORK/tinyproxy.conf >/dev/null 2>&1 &
ip netns exec $NS $PY "$HERE/reality_like_server.py" $FAKE 443 fake.crt fake.key 127.0.0.1 8888 >rl.log 2>&1 &
sleep 1.5

ip netns exec $NC tcpdump -i rlc0 -s 0 -U -n -w "$WORK/cap.pcap" tcp >/dev/null 2>&1 &
TD=$!; sleep 1
CURL="ip netns exec $NC curl -s -o /dev/null --max-time 20"
real()   { $CURL --cacert root.crt --resolve $NAME:443:$REAL "$@"; sleep 0.4; }
tunnel() { $CURL --proxy https://$NAME:443 --proxy-insecure --cacert root.crt "$@"; sleep 0.4; }
real https://$NAME/page.html
real --http1.1 https://$NAME/page.html
real https://$NAME/big.bin
tunnel https://inner.test:8443/page.html
tunnel https://inner.test:8443/big.bin
tunnel --http1.1 https://inner.test:8443/page.html
real --http1.1 https://$NAME/big.bin
real https://$NAME/page.html
tunnel http://inner.test/page.html
tunnel http://inner.test/big.bin
tunnel http://inner.test/page.html
real https://$NAME/page.html
sleep 1; kill $TD; wait $TD 2>/dev/null || true
cp "$WORK/cap.pcap" "$HERE/reality-like.pcap"
log "wrote $HERE/reality-like.pcap ($(stat -c %s "$HERE/reality-like.pcap") bytes)"
cat rl.log >&2 || true
