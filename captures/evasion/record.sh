#!/usr/bin/env bash
# Records the REAL captures of captures/evasion/ (base conversations, tiny-MSS,
# socket-level techniques done by a real Linux stack, negative controls), then
# runs make_evasion.py, which rewrites the base-*.pcap conversations into the
# emulated evasion captures (emu-*.pcap) and writes expected.csv.
#
# Usage (as root):   bash captures/evasion/record.sh            # record + generate
#                    bash captures/evasion/record.sh --no-generate
#
# Network: namespaces ev-cli (client: 10.214.0.1, fd00:214::1) and ev-srv
# (server: 10.214.0.2, fd00:214::2), veth evc0 (client side, captured) <-> evs0.
# No route but the veth link exists, so nothing leaves the two namespaces.
# Offloads are off on both veths (valid checksums, wire-sized segments) except
# for the one control capture that records with checksum offload on.
#
# Software: Debian 12 nginx 1.22.1 (OpenSSL 3.0), curl 7.88.1, Debian Chromium,
# aioquic (PyPI) for HTTP/3, tcpdump, tshark.  Installs what is missing
# (apt-get waits for the dpkg lock; pip for dpkt + aioquic).
# Idempotent: removes leftovers of an earlier run first; tears everything down
# on exit, also on failure (trap EXIT).  Each capture is written to a temp dir
# and moved into place only when the whole recording succeeded.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NS_C=ev-cli; NS_S=ev-srv; IF_C=evc0; IF_S=evs0
C4=10.214.0.1; S4=10.214.0.2; C6=fd00:214::1; S6=fd00:214::2
REAL=blocked.example.test
GENERATE=1; [ "${1:-}" = "--no-generate" ] && GENERATE=0
PY=${PYTHON:-python3}

log() { printf '[evasion/record] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root"
export PATH="$PATH:/usr/sbin:/sbin"

# ---------------------------------------------------------------- packages
need=()
for c in nginx:nginx tcpdump:tcpdump tshark:tshark chromium:chromium ethtool:ethtool \
         ip:iproute2 openssl:openssl iptables:iptables curl:curl; do
    command -v "${c%%:*}" >/dev/null 2>&1 || need+=("${c#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
    log "apt-get install ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=1200 update -qq
    apt-get -o DPkg::Lock::Timeout=1200 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
$PY -c 'import dpkt, aioquic' 2>/dev/null || $PY -m pip install -q dpkt aioquic

# ---------------------------------------------------------------- teardown
WORK=""; PIDS=()
kill_ns() {
    local ns=$1 p
    ip netns list 2>/dev/null | grep -qw "^$ns" || return 0
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$p" 2>/dev/null || true; done
    sleep 0.3
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
}
teardown() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    PIDS=()
    kill_ns $NS_C; kill_ns $NS_S
    ip netns del $NS_C 2>/dev/null || true
    ip netns del $NS_S 2>/dev/null || true
    if [ -n "$WORK" ] && [ -d "$WORK" ]; then rm -rf "$WORK"; fi
}
on_exit() { local rc=$?; trap - EXIT INT TERM; teardown; [ $rc -eq 0 ] || log "failed ($rc), cleaned up"; exit $rc; }
exec 8>/run/sift-evasion-captures.lock
flock -w 600 8 || die "another run of this script is active"
teardown
trap on_exit EXIT; trap 'exit 130' INT; trap 'exit 143' TERM
WORK="$(mktemp -d /tmp/sift-evasion.XXXXXX)"; chmod 755 "$WORK"
mkdir -p "$WORK/out" "$WORK/logs" "$WORK/tmp" "$WORK/www"

# ---------------------------------------------------------------- namespaces
cli() { ip netns exec $NS_C "$@"; }
srv() { ip netns exec $NS_S "$@"; }
ip netns add $NS_C; ip netns add $NS_S
for ns in $NS_C $NS_S; do
    for scope in all default; do
        ip netns exec $ns sysctl -qw net.ipv6.conf.$scope.accept_ra=0 \
            net.ipv6.conf.$scope.router_solicitations=0 net.ipv6.conf.$scope.accept_dad=0 \
            net.ipv6.conf.$scope.dad_transmits=0
    done
    ip netns exec $ns ip link set lo up
done
ip link add $IF_C netns $NS_C type veth peer name $IF_S netns $NS_S
cli ip addr add $C4/24 dev $IF_C; srv ip addr add $S4/24 dev $IF_S
cli ip -6 addr add $C6/64 dev $IF_C nodad; srv ip -6 addr add $S6/64 dev $IF_S nodad
offloads() {   # offloads on|off  (checksum offload on the client veth only)
    cli ethtool -K $IF_C tso off gso off gro off tx "$1" rx off >/dev/null 2>&1 || true
    srv ethtool -K $IF_S tso off gso off gro off tx off rx off >/dev/null 2>&1 || true
}
offloads off
cli ip link set $IF_C up; srv ip link set $IF_S up
# static neighbours: no ARP / NDP in the captures
MAC_C=$(cli cat /sys/class/net/$IF_C/address); MAC_S=$(srv cat /sys/class/net/$IF_S/address)
cli ip neigh replace $S4 lladdr "$MAC_S" dev $IF_C nud permanent
cli ip -6 neigh replace $S6 lladdr "$MAC_S" dev $IF_C nud permanent
srv ip neigh replace $C4 lladdr "$MAC_C" dev $IF_S nud permanent
srv ip -6 neigh replace $C6 lladdr "$MAC_C" dev $IF_S nud permanent

# ---------------------------------------------------------------- servers
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj "/O=sift evasion test/CN=$REAL" -addext "subjectAltName=DNS:$REAL" \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1
printf '<!doctype html>\n<html><head><title>blocked</title></head><body><p id="x">blocked.example.test test page</p></body></html>\n' > "$WORK/www/index.html"
: > "$WORK/www/favicon.ico"
cat > "$WORK/nginx.conf" <<EOF
user root root;
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/logs/nginx-error.log warn;
events { worker_connections 64; }
http {
    access_log $WORK/logs/access.log;
    client_body_temp_path $WORK/tmp/body; proxy_temp_path $WORK/tmp/proxy;
    fastcgi_temp_path $WORK/tmp/fcgi; uwsgi_temp_path $WORK/tmp/uwsgi; scgi_temp_path $WORK/tmp/scgi;
    types { text/html html; image/x-icon ico; }
    server_tokens off;
    keepalive_timeout 2s;
    server {
        listen $S4:443 ssl http2 default_server;  listen [$S6]:443 ssl http2 default_server;
        listen $S4:8443 ssl http2 default_server; listen [$S6]:8443 ssl http2 default_server;
        listen $S4:80 default_server;  listen [$S6]:80 default_server;
        listen $S4:8080 default_server; listen [$S6]:8080 default_server;
        server_name $REAL;
        ssl_certificate $WORK/cert.pem; ssl_certificate_key $WORK/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3; ssl_session_tickets off;
        root $WORK/www;
    }
}
EOF
srv nginx -t -q -c "$WORK/nginx.conf" -e "$WORK/logs/nginx-error.log"
srv nginx -c "$WORK/nginx.conf" -e "$WORK/logs/nginx-error.log" -g 'daemon off;' &
PIDS+=($!)
for ip in $S4 $S6; do
    srv $PY "$HERE/quic_h3.py" server --host $ip --port 443 --cert "$WORK/cert.pem" --key "$WORK/key.pem" \
        >"$WORK/logs/quic-server-$ip.log" 2>&1 &
    PIDS+=($!)
done
for i in $(seq 50); do srv ss -tln | grep -q ':443 ' && srv ss -uln | grep -c ':443 ' | grep -q 2 && break; sleep 0.2; done
srv ss -tln | grep -q ':443 ' || die "nginx not listening"
srv ss -uln | grep -q ':443 ' || die "aioquic server not listening"
sleep 1

# ---------------------------------------------------------------- capture
CAP_PID=""
cap_start() {   # cap_start NAME
    CAP_NAME=$1
    : > "$WORK/logs/tcpdump-$1.log"
    # started directly (not through the cli function) so that $! is tcpdump itself
    ip netns exec $NS_C tcpdump -i $IF_C -s 0 -U -n -w "$WORK/out/$1.pcap" 'tcp or udp' \
        2>"$WORK/logs/tcpdump-$1.log" &
    CAP_PID=$!
    for i in $(seq 50); do grep -q 'listening on' "$WORK/logs/tcpdump-$1.log" && break; sleep 0.1; done
    sleep 0.3
}
cap_stop() {
    sleep 0.7
    kill -TERM "$CAP_PID"; wait "$CAP_PID" || true
    log "$CAP_NAME: $(tshark -r "$WORK/out/$CAP_NAME.pcap" 2>/dev/null | wc -l) packets"
}
UA='sift-evasion/1.0 (curl)'
CURL=(curl -sS -o /dev/null -w '%{http_code} %{http_version} %{remote_ip}:%{remote_port}\n' -A "$UA" --max-time 10)
curl_tls() {  # curl_tls IP PORT extra...
    local ip=$1 port=$2; shift 2
    cli "${CURL[@]}" -k --resolve "$REAL:$port:$ip" "$@" "https://$REAL:$port/" >&2
}
curl_http() { # curl_http IP PORT extra...
    local ip=$1 port=$2; shift 2
    local host=$ip; [[ $ip == *:* ]] && host="[$ip]"
    cli "${CURL[@]}" "$@" "http://$host:$port/" >&2
}
chromium_get() {  # chromium_get IP
    local ip=$1 map=$1 prof
    [[ $ip == *:* ]] && map="[$ip]"
    prof=$(mktemp -d "$WORK/chrome.XXXXXX")
    HOME="$prof" XDG_CONFIG_HOME="$prof/.config" XDG_CACHE_HOME="$prof/.cache" \
    timeout -k 5 60 ip netns exec $NS_C chromium --headless --no-sandbox --disable-gpu --disable-quic \
        --no-first-run --disable-background-networking --disable-component-update --disable-sync \
        --disable-features=MediaRouter,OptimizationHints --user-data-dir="$prof/profile" \
        --host-resolver-rules="MAP $REAL $map, MAP * ~NOTFOUND" --ignore-certificate-errors \
        --dump-dom "https://$REAL/" >"$WORK/dom.html" 2>"$WORK/logs/chromium.log" || true
    grep -q 'blocked.example.test test page' "$WORK/dom.html" || { tail -5 "$WORK/logs/chromium.log" >&2; die "chromium did not load the page"; }
    log "chromium loaded https://$REAL/ via $ip"
}
quic_get() { cli $PY "$HERE/quic_h3.py" client --host "$1" --port 443 --sni $REAL >&2; }

# ---------------------------------------------------------------- 1. base recordings
cap_start base-tls12-v4;   curl_tls $S4 443 --tls-max 1.2 --http1.1; cap_stop
cap_start base-tls12-v6;   curl_tls $S6 443 --tls-max 1.2 --http1.1; cap_stop
cap_start base-tls13-v4;   curl_tls $S4 443 --tlsv1.3;               cap_stop
cap_start base-tls13-v6;   curl_tls $S6 8443 --tlsv1.3;              cap_stop
cap_start base-tls13pq-v4; chromium_get $S4;                          cap_stop
cap_start base-tls13pq-v6; chromium_get $S6;                          cap_stop
cap_start base-http-v4;    curl_http $S4 80 -H "Host: $REAL";         cap_stop
cap_start base-http-v6;    curl_http $S6 8080 -H "Host: $REAL";       cap_stop
cap_start base-quic-v4;    quic_get $S4;                              cap_stop
cap_start base-quic-v6;    quic_get $S6;                              cap_stop

# ---------------------------------------------------------------- 2. tiny MSS (real stack)
# The server namespace's routes to the client get advmss 48; the kernel raises
# that to its floor TCP_MIN_MSS = 88, so the SYN/ACK carries MSS 88 and the
# client's kernel cuts its data into 88 - 12 (timestamp option) = 76-byte segments.
srv ip route add $C4/32 dev $IF_S advmss 48
srv ip -6 route add $C6/128 dev $IF_S advmss 48
cap_start tiny-mss-tls13; curl_tls $S4 443 --tlsv1.3; curl_tls $S6 443 --tlsv1.3; cap_stop
cap_start tiny-mss-http;  curl_http $S4 80 -H "Host: $REAL"; curl_http $S6 80 -H "Host: $REAL"; cap_stop
srv ip route del $C4/32 dev $IF_S
srv ip -6 route del $C6/128 dev $IF_S

# ---------------------------------------------------------------- 3. socket-level techniques (real stack)
relay() {  # relay PORT TARGET TPORT MODE POS
    : > "$WORK/logs/relay-$1.log"
    cli $PY "$HERE/desync_relay.py" --listen-port "$1" --target "$2" --target-port "$3" \
        --mode "$4" --pos "$5" >"$WORK/logs/relay-$1.log" 2>&1 &
    PIDS+=($!)
    for i in $(seq 50); do grep -q 'relay listening' "$WORK/logs/relay-$1.log" && break; sleep 0.1; done
}
via() {  # via PORT TPORT -> curl https via the relay
    cli "${CURL[@]}" -k --tlsv1.3 --connect-to "$REAL:$2:127.0.0.1:$1" "https://$REAL:$2/" >&2
}
relay 7001 $S4 443 split sni+3;      relay 7002 $S6 443 split 1,sni+3,midsld
relay 7003 $S4 443 oob sni+4;        relay 7004 $S6 443 oob midsld
relay 7005 $S4 443 tlsrec sni+5;     relay 7006 $S4 443 tlsrec-split sni+5
relay 7007 $S6 443 tlsrec midsld
relay 7008 $S4 80 oob sni+2;         relay 7009 $S6 80 split 2,sni+3
cap_start real-split-tls13;  via 7001 443; via 7002 443; cap_stop
cap_start real-oob-tls13;    via 7003 443; via 7004 443; cap_stop
cap_start real-tlsrec-tls13; via 7005 443; via 7006 443; via 7007 443; cap_stop
cap_start real-oob-split-http
cli "${CURL[@]}" --connect-to "$REAL:80:127.0.0.1:7008" "http://$REAL/" >&2
cli "${CURL[@]}" --connect-to "$REAL:80:127.0.0.1:7009" "http://$REAL/" >&2
cap_stop
for f in "$WORK"/logs/relay-*.log; do sed "s|^|    $(basename "$f" .log): |" "$f" >&2; done
# HTTP Host header tricks (GoodbyeDPI -r/-s/-m/-a, tpws --hostcase/--hostnospace/
# --domcase/--methodeol, ByeDPI --mod-http) written byte for byte by a tiny raw
# socket client (curl normalises a custom "hOsT:" to "Host:", so it cannot
# send these); nginx answers each of them with 200.
raw_http() {  # raw_http IP PORT 'request with \r\n escapes'
    cli $PY - "$1" "$2" "$3" <<'PYEOF' >&2
import socket, sys
ip, port, req = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode().decode("unicode_escape").encode("latin1")
s = socket.create_connection((ip, port), timeout=5)
s.sendall(req)
resp = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    resp += d
print(resp.split(b"\r\n", 1)[0].decode(), "<-", repr(req[:60]))
PYEOF
}
R="GET / HTTP/1.1\\r\\n"; UAH="User-Agent: sift-evasion/1.0 (raw)\\r\\nAccept: */*\\r\\nConnection: close\\r\\n"
cap_start real-host-tricks-http
raw_http $S4 80 "${R}hOsT: $REAL\\r\\n${UAH}\\r\\n"                    # 1 Host spelled hOsT
raw_http $S4 80 "${R}Host:$REAL\\r\\n${UAH}\\r\\n"                      # 2 no space after the colon
raw_http $S4 80 "${R}Host: bLoCkEd.ExAmPlE.tEsT\\r\\n${UAH}\\r\\n"      # 3 mixed-case name
raw_http $S4 80 "${R}${UAH}Host: $REAL\\r\\n\\r\\n"                     # 4 Host as the last header
raw_http $S6 80 "GET  / HTTP/1.1\\r\\nHost:   $REAL  \\r\\n${UAH}\\r\\n"  # 5 extra spaces
raw_http $S6 80 "\\nGET / HTTP/1.1\\r\\nHOST:$REAL\\r\\n${UAH}\\r\\n"    # 6 newline before method, HOST, no space
raw_http $S6 8080 "${R}Host: $REAL\\t\\r\\n${UAH}\\r\\n"              # 7 tab after the name, port 8080
cap_stop

# Data in the SYN from a real stack: TCP Fast Open on the client without a
# cookie (net.ipv4.tcp_fastopen=5 = client on + send data without cookie), TFO
# off on the server: the SYN carries the real first message, the server's
# SYN/ACK acknowledges only the SYN, the client kernel sends the data again.
cli sysctl -qw net.ipv4.tcp_fastopen=5
srv sysctl -qw net.ipv4.tcp_fastopen=0
cap_start real-syndata-tfo
curl_tls $S4 443 --tlsv1.3 --tcp-fastopen
curl_http $S6 80 -H "Host: $REAL" --tcp-fastopen
cap_stop
cli sysctl -qw net.ipv4.tcp_fastopen=1

# ---------------------------------------------------------------- 4. negative controls
# (a) a genuine retransmission: the server's firewall drops the first
#     ClientHello (3rd client packet of the connection), the client kernel
#     resends the same bytes after its retransmission timeout.
srv iptables -A INPUT -p tcp --dport 443 -m connbytes --connbytes 3:3 --connbytes-dir original --connbytes-mode packets -j DROP
srv ip6tables -A INPUT -p tcp --dport 443 -m connbytes --connbytes 3:3 --connbytes-dir original --connbytes-mode packets -j DROP
cap_start ctrl-retrans-tls13; curl_tls $S4 443 --tlsv1.3; curl_tls $S6 443 --tlsv1.3; cap_stop
srv iptables -F INPUT; srv ip6tables -F INPUT
# (b) checksum offload: tx checksumming on for the client veth, so the
#     client's packets are captured before the checksum is filled in.
offloads on
cap_start ctrl-csum-offload; curl_tls $S4 443 --tlsv1.3; curl_http $S6 80 -H "Host: $REAL"; cap_stop
offloads off

log "nginx access log:"; sed 's/^/    /' "$WORK/logs/access.log" >&2

# ---------------------------------------------------------------- install + generate
for f in "$WORK"/out/*.pcap; do
    [ -s "$f" ] || die "empty capture $f"
    tshark -r "$f" -q -z conv,tcp -z conv,udp >/dev/null 2>&1 || die "tshark cannot read $f"
done
rm -f "$HERE"/base-*.pcap "$HERE"/tiny-mss-*.pcap "$HERE"/real-*.pcap "$HERE"/ctrl-*.pcap
mv "$WORK"/out/*.pcap "$HERE"/
chmod 644 "$HERE"/*.pcap
{ chromium --version 2>/dev/null; nginx -v 2>&1; curl --version | head -1; openssl version;
  $PY -c 'import aioquic, dpkt; print("aioquic", aioquic.__version__, "dpkt", dpkt.__version__)';
  tcpdump --version 2>&1 | head -1; tshark --version | head -1; uname -r; } > "$HERE/versions.txt" 2>/dev/null || true
log "recorded $(ls "$HERE"/base-*.pcap | wc -l) base captures"
if [ $GENERATE = 1 ]; then
    $PY "$HERE/make_evasion.py" --dir "$HERE"
    $PY "$HERE/verify.py" --dir "$HERE" || log "verify.py reported problems (see verify.txt)"
fi
