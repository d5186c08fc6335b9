#!/usr/bin/env bash
# Records captures/tls-pq-chromium.pcap: one real post-quantum (hybrid ML-KEM)
# TLS 1.3 ClientHello from Debian's Chromium, sent to nginx over TCP between two
# network namespaces ("sift-cli" runs headless Chromium, "sift-srv" runs nginx).
#
# Usage (as root):  bash captures/record_tls_pq.sh [OUTPUT.pcap]
#
# Self-contained and idempotent: installs what it needs with apt-get, removes
# any namespaces left over from an earlier run, and tears everything down on
# exit (also on failure).  No packet leaves the two namespaces: the client
# namespace has no route but the veth link, and Chromium's resolver maps every
# name except pq.example.test to NOTFOUND.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${1:-$HERE/tls-pq-chromium.pcap}"
EXPECTED="${OUT%.pcap}.expected"

NS_CLI=sift-cli
NS_SRV=sift-srv
IF_CLI=sift-c0
IF_SRV=sift-s0
CLI4=10.201.0.1
SRV4=10.201.0.2
CLI6=fd00:5f17::1
SRV6=fd00:5f17::2
SNI=pq.example.test
# QUIC is off by default (TCP TLS is what we want; Debian 12's nginx has no
# HTTP/3 anyway).  SIFT_CHROMIUM_QUIC=1 leaves Chromium's QUIC setting alone.
QUIC_FLAGS=(--disable-quic)
[ "${SIFT_CHROMIUM_QUIC:-0}" = 1 ] && QUIC_FLAGS=()
MAX_BYTES=$((300 * 1024))
# TLS NamedGroup code points of hybrid post-quantum key shares
PQ_GROUPS_RE='^(0x11ec|4588|0x6399|25497)$'   # X25519MLKEM768, X25519Kyber768Draft00

log() { printf '[record_tls_pq] %s\n' "$*" >&2; }
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
    local -A need=(
        [nginx]=nginx [tcpdump]=tcpdump [openssl]=openssl [chromium]=chromium
        [ethtool]=ethtool [ip]=iproute2 [tshark]=tshark
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

exec 9>/run/sift-captures.lock
flock -w 300 9 || die "another capture script is running"

teardown
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

WORK="$(mktemp -d /tmp/sift-tls-pq.XXXXXX)"
chmod 755 "$WORK"
mkdir -p "$WORK/logs" "$WORK/tmp" "$WORK/www"

# --------------------------------------------------------------------------
# 3. Network namespaces
# --------------------------------------------------------------------------
cli() { ip netns exec "$NS_CLI" "$@"; }
srv() { ip netns exec "$NS_SRV" "$@"; }

log "creating namespaces $NS_CLI <-> $NS_SRV"
ip netns add "$NS_CLI"
ip netns add "$NS_SRV"
for ns in "$NS_CLI" "$NS_SRV"; do
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
# Software segmentation (MSS-sized segments as on a real 1500-byte wire, so the
# large ClientHello really is split in two) and valid checksums in the capture.
for pair in "$NS_CLI:$IF_CLI" "$NS_SRV:$IF_SRV"; do
    ip netns exec "${pair%%:*}" ethtool -K "${pair#*:}" tx off rx off tso off gso off gro off >/dev/null
done
cli ip link set "$IF_CLI" up
srv ip link set "$IF_SRV" up
# Any name lookup that slips past Chromium's resolver rules goes to the
# server namespace (where nothing answers on port 53), never outside.
mkdir -p "/etc/netns/$NS_CLI"
printf 'nameserver %s\n' "$SRV4" > "/etc/netns/$NS_CLI/resolv.conf"

# --------------------------------------------------------------------------
# 4. nginx with TLS on 443 for pq.example.test
# --------------------------------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj "/O=sift sample/CN=$SNI" -addext "subjectAltName=DNS:$SNI" \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1
cat > "$WORK/www/index.html" <<'EOF'
<!doctype html>
<html><head><title>pq</title></head><body><p id="pq">post-quantum ClientHello sample</p></body></html>
EOF
# Chromium asks for /favicon.ico after the page; answer it without an error log line.
printf '' > "$WORK/www/favicon.ico"
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
    types { text/html html; image/x-icon ico; }
    server_tokens off;
    server {
        listen $SRV4:443 ssl http2 default_server;
        server_name $SNI;
        ssl_certificate $WORK/cert.pem;
        ssl_certificate_key $WORK/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_tickets off;
        root $WORK/www;
    }
}
EOF
log "starting nginx in $NS_SRV"
srv nginx -t -q -c "$WORK/nginx.conf" -e "$WORK/logs/error.log"
ip netns exec "$NS_SRV" nginx -c "$WORK/nginx.conf" -e "$WORK/logs/error.log" -g 'daemon off;' &
PIDS+=($!)
for i in $(seq 1 50); do srv ss -tln 'sport = :443' | grep -q ':443' && break; sleep 0.1; done
srv ss -tln 'sport = :443' | grep -q ':443' || die "nginx did not come up"

# --------------------------------------------------------------------------
# 5. Capture + headless Chromium
# --------------------------------------------------------------------------
PCAP_TMP="$WORK/capture.pcap"
sleep 2   # let link-up chatter pass before the capture starts
log "starting tcpdump in $NS_CLI"
ip netns exec "$NS_CLI" tcpdump -i "$IF_CLI" -s 0 -U -n -w "$PCAP_TMP" 2>"$WORK/logs/tcpdump.log" &
TCPDUMP_PID=$!
PIDS+=($TCPDUMP_PID)
for i in $(seq 1 50); do grep -q 'listening on' "$WORK/logs/tcpdump.log" && break; sleep 0.1; done
grep -q 'listening on' "$WORK/logs/tcpdump.log" || die "tcpdump did not start"
sleep 0.5

log "chromium $(chromium --version 2>/dev/null | awk '{print $2}') -> https://$SNI/"
CHROME_HOME="$WORK/home"
mkdir -p "$CHROME_HOME"
# HOME and XDG dirs in the temp dir: nothing is written to root's real profile.
rc=0
HOME="$CHROME_HOME" XDG_CONFIG_HOME="$CHROME_HOME/.config" XDG_CACHE_HOME="$CHROME_HOME/.cache" \
timeout -k 5 60 ip netns exec "$NS_CLI" chromium \
    --headless --no-sandbox --disable-gpu --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    "${QUIC_FLAGS[@]}" --disable-features=MediaRouter,OptimizationHints \
    --user-data-dir="$(mktemp -d "$WORK/profile.XXXXXX")" \
    --host-resolver-rules="MAP $SNI $SRV4, MAP * ~NOTFOUND" \
    --ignore-certificate-errors \
    --dump-dom "https://$SNI/" >"$WORK/dom.html" 2>"$WORK/logs/chromium.log" || rc=$?
[ $rc -eq 0 ] || { tail -20 "$WORK/logs/chromium.log" >&2; die "chromium exited with $rc"; }
grep -q 'post-quantum ClientHello sample' "$WORK/dom.html" || die "page not loaded: $(head -c 300 "$WORK/dom.html")"
log "page loaded: $(grep -o '<p id="pq">[^<]*' "$WORK/dom.html")"

sleep 1   # let the connection close (FIN/ACK) land in the capture
log "stopping tcpdump"
kill -TERM "$TCPDUMP_PID"   # (SIGINT is ignored by background jobs of a script)
wait "$TCPDUMP_PID" || true
kill_ns_procs "$NS_CLI"     # any Chromium helper process still around
cat "$WORK/logs/tcpdump.log" >&2

log "nginx access log:"
sed 's/^/    /' "$WORK/logs/access.log" >&2

# --------------------------------------------------------------------------
# 6. Verify the ClientHello with tshark and install the capture
# --------------------------------------------------------------------------
size=$(stat -c %s "$PCAP_TMP")
[ "$size" -gt 0 ] || die "empty capture"
[ "$size" -le "$MAX_BYTES" ] || die "capture is $size bytes, above the $MAX_BYTES limit"

tshark -r "$PCAP_TMP" -Y 'tls.handshake.type == 1' -T fields -E separator='|' -E aggregator=',' \
    -e frame.number -e tcp.stream -e tcp.len -e tcp.segment.count -e tcp.segment \
    -e tls.handshake.extensions_server_name -e tls.handshake.extensions_key_share_group \
    -e tls.handshake.extensions_supported_group -e tls.handshake.extensions.supported_version \
    2>/dev/null > "$WORK/ch.txt"
[ -s "$WORK/ch.txt" ] || die "no TLS ClientHello in the capture"
log "ClientHello(s): frame|stream|tcp.len|segments|segment frames|SNI|key_share groups|supported_groups|versions"
sed 's/^/    /' "$WORK/ch.txt" >&2

ok=0
while IFS='|' read -r frame stream len segcount segs sni ks sg sv; do
    [ "$sni" = "$SNI" ] || continue
    pq=""
    IFS=',' read -ra groups <<<"$ks"
    for g in "${groups[@]}"; do [[ "$g" =~ $PQ_GROUPS_RE ]] && pq="$g"; done
    if [ -n "$pq" ] && [ "${segcount:-1}" -ge 2 ]; then
        log "OK: stream $stream: SNI $sni, PQ key share group $pq, ClientHello in $segcount TCP segments (frames $segs)"
        ok=1
    fi
done < "$WORK/ch.txt"
[ $ok -eq 1 ] || die "no ClientHello for $SNI with a post-quantum key share spanning >= 2 TCP segments"

# The ClientHello's exact size changes from run to run (Chromium permutes its
# extensions and pads its GREASE ECH extension), so the .expected file is
# written from this very capture.
group_name() {
    case "$1" in
        0x11ec) echo X25519MLKEM768 ;; 0x6399) echo X25519Kyber768Draft00 ;;
        0x001d) echo x25519 ;; 0x0017) echo secp256r1 ;; 0x0018) echo secp384r1 ;;
        0x?a?a) echo GREASE ;; *) echo unknown ;;
    esac
}
hexgroups() {   # "39578,4588,29" -> "0x9a9a(GREASE) 0x11ec(X25519MLKEM768) 0x001d(x25519)"
    local out=() g h
    IFS=',' read -ra gs <<<"$1"
    for g in "${gs[@]}"; do
        [ -n "$g" ] || continue
        if [[ "$g" == 0x* ]]; then h=$g; else h=$(printf '0x%04x' "$g"); fi
        out+=("$h($(group_name "$h"))")
    done
    echo "${out[*]}"
}
{
    echo "# tls-pq-chromium.pcap: TLS ClientHellos from headless Chromium to nginx"
    echo "# (written by record_tls_pq.sh from the capture with tshark; exact lengths"
    echo "# differ between recordings, the structure does not)."
    echo "# client: $(chromium --version 2>/dev/null | sed 's/ *$//')  server: nginx $(nginx -v 2>&1 | sed 's|.*nginx/||') + $(openssl version | awk '{print $1, $2}')"
    echo "# segment_tcp_lens: TCP payload bytes of each segment that carries the ClientHello"
    echo "# (tcp.segment / tcp.segment.count: the record is reassembled from these frames)."
    echo "tcp_stream,server_port,sni,alpn,clienthello_segments,segment_frames,segment_tcp_lens,tls_record_len,key_share_groups,server_selected_group,negotiated_version"
    while IFS='|' read -r frame stream len segcount segs sni ks sg sv; do
        lens=$(tshark -r "$PCAP_TMP" -Y "frame.number in {$segs}" -T fields -e tcp.len 2>/dev/null | paste -sd+)
        rec=$(tshark -r "$PCAP_TMP" -Y "frame.number == $frame" -T fields -E occurrence=f -e tls.record.length 2>/dev/null)
        alpn=$(tshark -r "$PCAP_TMP" -Y "frame.number == $frame" -T fields -E aggregator=' ' -e tls.handshake.extensions_alpn_str 2>/dev/null)
        port=$(tshark -r "$PCAP_TMP" -Y "frame.number == $frame" -T fields -e tcp.dstport 2>/dev/null)
        sh=$(tshark -r "$PCAP_TMP" -Y "tcp.stream == $stream && tls.handshake.type == 2" -T fields -E occurrence=f \
            -e tls.handshake.extensions_key_share_group -e tls.handshake.extensions.supported_version 2>/dev/null)
        sel=$(hexgroups "${sh%%$'\t'*}")
        ver=${sh##*$'\t'}; case "$ver" in 0x0304) ver=TLS1.3 ;; 0x0303) ver=TLS1.2 ;; esac
        echo "$stream,$port,$sni,$alpn,${segcount:-1},${segs//,/ },$lens,$rec,$(hexgroups "$ks"),$sel,$ver"
    done < "$WORK/ch.txt"
} > "$WORK/expected"
log "facts:"
sed 's/^/    /' "$WORK/expected" >&2

mv -f "$PCAP_TMP" "$OUT"
mv -f "$WORK/expected" "$EXPECTED"
chown root:root "$OUT" "$EXPECTED"; chmod 644 "$OUT" "$EXPECTED"
log "wrote $OUT ($(stat -c %s "$OUT") bytes, $(tshark -r "$OUT" 2>/dev/null | wc -l) packets) and $EXPECTED"
