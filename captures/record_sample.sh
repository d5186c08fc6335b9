#!/usr/bin/env bash
# Records captures/sample.pcap: real DNS, HTTP and HTTPS traffic between two
# network namespaces (curl + dig in "sift-cli", nginx + dnsmasq in "sift-srv").
#
# Usage (as root):  bash captures/record_sample.sh [OUTPUT.pcap]
#
# Self-contained and idempotent: installs what it needs with apt-get, removes
# any namespaces left over from an earlier run, and tears everything down on
# exit (also on failure).  No packet ever leaves the two namespaces: the client
# namespace has no route other than the veth link to the server namespace.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${1:-$HERE/sample.pcap}"
EXPECTED="$HERE/sample.expected"

NS_CLI=sift-cli
NS_SRV=sift-srv
IF_CLI=sift-c0
IF_SRV=sift-s0
CLI4=10.201.0.1
SRV4=10.201.0.2
CLI6=fd00:5f17::1
SRV6=fd00:5f17::2
UA="sift-sample/1.0 (curl; +https://www.example.test/)"
MAX_BYTES=$((300 * 1024))

log() { printf '[record_sample] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (network namespaces, tcpdump)"
export PATH="$PATH:/usr/sbin:/sbin"

# --------------------------------------------------------------------------
# 1. Packages
# --------------------------------------------------------------------------
wait_for_apt() {
    local i=0
    while pgrep -x apt-get >/dev/null || pgrep -x dpkg >/dev/null || pgrep -x apt >/dev/null; do
        [ $i -eq 0 ] && log "waiting for another apt-get/dpkg to finish"
        i=$((i + 1)); sleep 5
        [ $i -lt 360 ] || die "apt-get/dpkg still busy after 30 minutes"
    done
}

ensure_packages() {
    # command -> Debian package
    local -A need=(
        [nginx]=nginx [curl]=curl [tcpdump]=tcpdump [openssl]=openssl
        [dnsmasq]=dnsmasq-base [dig]=dnsutils [ethtool]=ethtool [ip]=iproute2
        [tshark]=tshark
    )
    local missing=() cmd
    for cmd in "${!need[@]}"; do
        command -v "$cmd" >/dev/null 2>&1 || missing+=("${need[$cmd]}")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing: ${missing[*]}"
        wait_for_apt
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}
ensure_packages

# --------------------------------------------------------------------------
# 2. Cleanup (runs at start for leftovers, and on EXIT)
# --------------------------------------------------------------------------
WORK=""
PIDS=()

kill_ns_procs() {
    local ns=$1 pid
    ip netns list 2>/dev/null | grep -qw "^$ns" || return 0
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null || true; done
    sleep 0.5
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
}

teardown() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    PIDS=()
    kill_ns_procs "$NS_CLI"
    kill_ns_procs "$NS_SRV"
    ip netns del "$NS_CLI" 2>/dev/null || true
    ip netns del "$NS_SRV" 2>/dev/null || true
    rm -rf "/etc/netns/$NS_CLI" "/etc/netns/$NS_SRV"
    rmdir /etc/netns 2>/dev/null || true
    if [ -n "$WORK" ] && [ -d "$WORK" ]; then rm -rf "$WORK"; fi
}
on_exit() {
    local rc=$?
    trap - EXIT INT TERM
    teardown
    [ $rc -eq 0 ] || log "failed (exit $rc); namespaces and processes cleaned up"
    exit $rc
}

# Only one recording at a time (both capture scripts use the same namespaces).
exec 9>/run/sift-captures.lock
flock -w 300 9 || die "another capture script is running"

teardown                       # leftovers from an interrupted earlier run
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

WORK="$(mktemp -d /tmp/sift-sample.XXXXXX)"
chmod 755 "$WORK"

# --------------------------------------------------------------------------
# 3. Network namespaces
# --------------------------------------------------------------------------
# Foreground helpers.  Background processes are started with a direct
# "ip netns exec ... &" so that $! is the daemon itself (ip execs it).
cli() { ip netns exec "$NS_CLI" "$@"; }
srv() { ip netns exec "$NS_SRV" "$@"; }

log "creating namespaces $NS_CLI <-> $NS_SRV"
ip netns add "$NS_CLI"
ip netns add "$NS_SRV"
for ns in "$NS_CLI" "$NS_SRV"; do
    # No router solicitations / RA / DAD on the new link: keeps the capture to
    # the traffic we make (ARP and neighbour discovery still show, as on a LAN).
    for scope in all default; do
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.$scope.accept_ra=0 \
            net.ipv6.conf.$scope.router_solicitations=0 net.ipv6.conf.$scope.accept_dad=0 \
            net.ipv6.conf.$scope.dad_transmits=0
    done
    ip netns exec "$ns" ip link set lo up
done
ip link add "$IF_CLI" netns "$NS_CLI" type veth peer name "$IF_SRV" netns "$NS_SRV"
cli ip addr add "$CLI4/24" dev "$IF_CLI"
srv ip addr add "$SRV4/24" dev "$IF_SRV"
cli ip -6 addr add "$CLI6/64" dev "$IF_CLI" nodad
srv ip -6 addr add "$SRV6/64" dev "$IF_SRV" nodad
# Software segmentation and checksums, so the capture shows what a real
# 1500-byte-MTU wire carries (no 64 KB GSO super-packets, valid checksums).
for pair in "$NS_CLI:$IF_CLI" "$NS_SRV:$IF_SRV"; do
    ip netns exec "${pair%%:*}" ethtool -K "${pair#*:}" tx off rx off tso off gso off gro off >/dev/null
done
cli ip link set "$IF_CLI" up
srv ip link set "$IF_SRV" up

# The client resolves through the server namespace's dnsmasq only.
mkdir -p "/etc/netns/$NS_CLI"
printf 'nameserver %s\noptions timeout:2 attempts:2\n' "$SRV4" > "/etc/netns/$NS_CLI/resolv.conf"
printf '127.0.0.1 localhost\n::1 localhost\n' > "/etc/netns/$NS_CLI/hosts"

# --------------------------------------------------------------------------
# 4. Certificate, web content, nginx
# --------------------------------------------------------------------------
log "creating self-signed certificate"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj "/O=sift sample/CN=www.example.test" \
    -addext "subjectAltName=DNS:example.test,DNS:*.example.test" \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1

mkdir -p "$WORK/www" "$WORK/api/v1" "$WORK/logs" "$WORK/tmp"
cat > "$WORK/www/index.html" <<'EOF'
<!doctype html>
<html><head><title>sift sample</title></head>
<body><h1>It works</h1><p>Served by nginx inside the sift-srv network namespace.</p></body></html>
EOF
printf '{"status":"ok","service":"api.example.test","version":1}\n' > "$WORK/api/v1/status"
# A slightly larger object so one response spans several full-size segments.
head -c 6000 /dev/zero | tr '\0' 'x' | fold -w 72 > "$WORK/www/asset.txt"

cat > "$WORK/nginx.conf" <<EOF
user root root;
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/logs/error.log warn;
events { worker_connections 64; }
http {
    access_log $WORK/logs/access.log;
    client_body_temp_path $WORK/tmp/body;
    proxy_temp_path $WORK/tmp/proxy;
    fastcgi_temp_path $WORK/tmp/fastcgi;
    uwsgi_temp_path $WORK/tmp/uwsgi;
    scgi_temp_path $WORK/tmp/scgi;
    types { text/html html; text/plain txt; }
    default_type application/octet-stream;
    server_tokens off;
    keepalive_timeout 5;
    ssl_certificate $WORK/cert.pem;
    ssl_certificate_key $WORK/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_tickets off;

    server {
        listen $SRV4:80 default_server;
        listen [$SRV6]:80 default_server;
        listen $SRV4:443 ssl http2 default_server;
        listen [$SRV6]:443 ssl http2 default_server;
        server_name www.example.test cdn.example.test v6.example.test;
        root $WORK/www;
    }
    server {
        listen $SRV4:80;
        listen $SRV4:443 ssl http2;
        server_name api.example.test;
        root $WORK/api;
        default_type application/json;
        location = /v1/items {
            if (\$request_method = POST) { return 201 '{"created":true}\n'; }
            return 405;
        }
    }
    server {
        listen $SRV4:8443 ssl;
        server_name secure.example.test;
        root $WORK/www;
    }
}
EOF

log "starting nginx and dnsmasq in $NS_SRV"
srv nginx -t -q -c "$WORK/nginx.conf" -e "$WORK/logs/error.log"
ip netns exec "$NS_SRV" nginx -c "$WORK/nginx.conf" -e "$WORK/logs/error.log" -g 'daemon off;' &
PIDS+=($!)

DNS_ARGS=()
for name in www api cdn secure v6; do
    DNS_ARGS+=("--address=/$name.example.test/$SRV4" "--address=/$name.example.test/$SRV6")
done
ip netns exec "$NS_SRV" dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --no-poll \
    --bind-interfaces --listen-address="$SRV4" --listen-address="$SRV6" --port=53 \
    --pid-file="$WORK/dnsmasq.pid" --log-queries --log-facility="$WORK/logs/dnsmasq.log" \
    "${DNS_ARGS[@]}" &
PIDS+=($!)

wait_listen() {   # wait_listen PORT PROTO(t|u)
    local i
    for i in $(seq 1 50); do
        srv ss -"${2}"ln "sport = :$1" | grep -q ":$1" && return 0
        sleep 0.1
    done
    die "server port $1/$2 did not come up"
}
wait_listen 80 t; wait_listen 443 t; wait_listen 8443 t; wait_listen 53 u; wait_listen 53 t

# --------------------------------------------------------------------------
# 5. Capture + traffic
# --------------------------------------------------------------------------
PCAP_TMP="$WORK/capture.pcap"
sleep 2   # let link-up chatter (IPv6 MLD reports) pass before the capture starts
log "starting tcpdump in $NS_CLI"
ip netns exec "$NS_CLI" tcpdump -i "$IF_CLI" -s 0 -U -n -w "$PCAP_TMP" 2>"$WORK/logs/tcpdump.log" &
TCPDUMP_PID=$!
PIDS+=($TCPDUMP_PID)
for i in $(seq 1 50); do grep -q 'listening on' "$WORK/logs/tcpdump.log" && break; sleep 0.1; done
grep -q 'listening on' "$WORK/logs/tcpdump.log" || die "tcpdump did not start"
sleep 0.5

CURL=(curl -sS -o /dev/null --max-time 10 -A "$UA" -w '%{http_code} %{http_version} %{remote_ip}:%{remote_port} %{url_effective}\n')
CA=(--cacert "$WORK/cert.pem")
step() { log "traffic: $*"; }

step "DNS over UDP (dig)"
cli dig +short +tries=1 +time=2 @"$SRV4" www.example.test A
cli dig +short +tries=1 +time=2 @"$SRV4" api.example.test AAAA
step "DNS over UDP/IPv6 (dig)"
cli dig +short +tries=1 +time=2 @"$SRV6" v6.example.test AAAA
step "DNS over TCP (dig +tcp)"
cli dig +short +tcp +tries=1 +time=2 @"$SRV4" cdn.example.test A

step "HTTP: name resolved through DNS (getaddrinfo), GET /"
cli "${CURL[@]}" -4 http://www.example.test/
step "HTTP: Host header on a bare IP"
cli "${CURL[@]}" -H 'Host: api.example.test' -H 'Accept: application/json' "http://$SRV4/v1/status"
step "HTTP: POST with a JSON body"
cli "${CURL[@]}" -X POST -H 'Content-Type: application/json' --data '{"name":"sift","kind":"sample"}' \
    --resolve "api.example.test:80:$SRV4" http://api.example.test/v1/items
step "HTTP: larger response (several segments)"
cli "${CURL[@]}" --resolve "www.example.test:80:$SRV4" http://www.example.test/asset.txt

step "HTTPS TLS 1.3, h2 (ALPN)"
cli "${CURL[@]}" "${CA[@]}" --resolve "www.example.test:443:$SRV4" https://www.example.test/
step "HTTPS TLS 1.2 forced (--tls-max 1.2)"
cli "${CURL[@]}" "${CA[@]}" --tls-max 1.2 --http1.1 --resolve "api.example.test:443:$SRV4" https://api.example.test/v1/status
step "HTTPS TLS 1.3, http/1.1 only"
cli "${CURL[@]}" "${CA[@]}" --http1.1 --resolve "cdn.example.test:443:$SRV4" https://cdn.example.test/asset.txt
step "HTTPS on a non-standard port (8443)"
cli "${CURL[@]}" "${CA[@]}" --resolve "secure.example.test:8443:$SRV4" https://secure.example.test:8443/

step "IPv6: HTTP and HTTPS"
cli "${CURL[@]}" -g -H 'Host: v6.example.test' "http://[$SRV6]/"
cli "${CURL[@]}" "${CA[@]}" -g --resolve "v6.example.test:443:[$SRV6]" https://v6.example.test/

step "closed port 8081 (expect RST)"
rc=0
cli "${CURL[@]}" --connect-timeout 3 "http://$SRV4:8081/" 2>"$WORK/logs/closed.log" || rc=$?
# curl exit 7 = could not connect (the server namespace answered the SYN with RST)
[ "$rc" -eq 7 ] || die "port 8081: expected curl exit 7, got $rc: $(cat "$WORK/logs/closed.log")"

sleep 1   # let the last FIN/ACKs and keep-alive closes land in the capture
log "stopping tcpdump"
kill -TERM "$TCPDUMP_PID"   # (SIGINT is ignored by background jobs of a script)
wait "$TCPDUMP_PID" || true
cat "$WORK/logs/tcpdump.log" >&2

log "nginx access log:"
sed 's/^/    /' "$WORK/logs/access.log" >&2

# --------------------------------------------------------------------------
# 6. Check and install the capture
# --------------------------------------------------------------------------
size=$(stat -c %s "$PCAP_TMP")
[ "$size" -gt 0 ] || die "empty capture"
[ "$size" -le "$MAX_BYTES" ] || die "capture is $size bytes, above the $MAX_BYTES limit"

# One line per flow, in order of the flow's first packet:
#   transport,ip_version,server_port,app_protocol,server_name
# (client ports and the order of the tshark columns are irrelevant).
summarize() {
    local f=$1
    tshark -r "$f" -o tcp.desegment_tcp_streams:TRUE \
        -Y 'tcp || udp' -T fields -E separator='|' -E occurrence=f \
        -e frame.number -e ip.version -e ipv6.src -e tcp.stream -e udp.stream \
        -e tcp.flags.syn -e tcp.flags.ack -e tcp.dstport -e udp.dstport -e tcp.srcport -e udp.srcport \
        -e dns.qry.name -e http.host -e tls.handshake.extensions_server_name -e tls.handshake.type \
        -e tcp.flags.reset -e tls.handshake.version -e tls.handshake.extensions.supported_version \
        2>/dev/null |
    awk -F'|' '
    function ver(v) { return (v == "0x0304") ? "1.3" : (v == "0x0303") ? "1.2" : v }
    {
        ipv = ($2 != "") ? $2 : (($3 != "") ? 6 : "?")
        if ($4 != "") { key = "tcp" $4; tr = "tcp" } else { key = "udp" $5; tr = "udp" }
        if (!(key in first)) {
            first[key] = NR; order[++n] = key; trans[key] = tr; ipver[key] = ipv
            app[key] = "-"; name[key] = "-"; extra[key] = ""
            port[key] = (tr == "tcp") ? $8 : $9
            if (tr == "udp" && $9 != 53 && $11 == 53) port[key] = 53
        }
        if (tr == "tcp" && $6 == "1" && $7 == "0") port[key] = $8
        if ($12 != "") { app[key] = "dns"; if (name[key] == "-") name[key] = $12 }
        if ($13 != "") { app[key] = "http"; if (name[key] == "-") name[key] = $13 }
        if ($15 ~ /(^|,)1(,|$)/) {
            app[key] = "tls"; if ($14 != "") name[key] = $14
            sv = $18; maxv = ""
            if (sv ~ /0x0304/) maxv = "1.3"; else if (sv ~ /0x0303/ || $17 == "0x0303") maxv = "1.2"
            if (maxv != "") extra[key] = "client_max_tls=" maxv
        }
        if ($16 == "1" && app[key] == "-") extra[key] = "rst"
    }
    END {
        for (i = 1; i <= n; i++) { k = order[i]
            printf "%s,%s,%s,%s,%s,%s\n", trans[k], ipver[k], port[k], app[k], name[k], extra[k] }
    }'
}

log "flows in the new capture:"
summarize "$PCAP_TMP" > "$WORK/summary.csv"
sed 's/^/    /' "$WORK/summary.csv" >&2

if [ -f "$EXPECTED" ]; then
    if diff <(grep -v '^#' "$EXPECTED" | sed 1d) "$WORK/summary.csv" >&2; then
        log "flows match $EXPECTED"
    else
        die "flows differ from $EXPECTED (see diff above); capture not installed"
    fi
fi

mv -f "$PCAP_TMP" "$OUT"
chown root:root "$OUT"; chmod 644 "$OUT"
log "wrote $OUT ($(stat -c %s "$OUT") bytes, $(tshark -r "$OUT" 2>/dev/null | wc -l) packets)"
