#!/usr/bin/env bash
# Record small, real captures of userspace VPN / tunnel families between
# network namespaces and write expected.csv (one row per flow, client ports
# read back from the pcaps with tshark), verify.txt (tshark conversations)
# and summary.md (first payload / TLS record sizes, via summarize.py) next to
# this script. See README.md for what each capture holds.
#
#   bash captures/vpn/userspace/record.sh               # record everything
#   bash captures/vpn/userspace/record.sh 'openconnect' # only families matching the regex
#        families: openconnect softether tor tinc n2n iodine dns proxy
#
# Needs root on Debian 12 (installs what it lacks with apt-get). All traffic
# stays inside namespaces this script creates and removes again on exit (also
# on failure / Ctrl-C):
#   vf-cli  vfc0  10.213.0.1/24 fd00:213::1/64   client; capture runs here on vfc0
#   vf-srv  vfs0  10.213.0.2/24 fd00:213::2/64   servers (VPN servers, proxies)
#           vfsw0 10.213.1.1/24                  link to vf-web
#   vf-web  vfw0  10.213.1.2/24, 10.213.1.3/24   destinations behind the proxies
# No namespace has a default route, so nothing can leave the machine.
# Every capture is written to a temp dir, its expected flows are looked up
# with tshark (a missing one is logged as WARNING), then it is moved into
# place (<name>.pcap; for TLS clients that honour SSLKEYLOGFILE also
# <name>.keys = NSS key log, so tshark can show the tunnelled HTTP).
# A family that fails is reported at the end (exit 1); the others still run.
# Takes about 5 minutes.
set -Eeuo pipefail

OUT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ONLY="${1:-.}"

NS_C=vf-cli; NS_S=vf-srv; NS_W=vf-web
C_IP=10.213.0.1; S_IP=10.213.0.2; C_IP6=fd00:213::1; S_IP6=fd00:213::2
SW_IP=10.213.1.1; W_IP=10.213.1.2
HTTP_PORT=8080

WORK=""
TCPDUMP_PID=""
CAP=""
CAP_EXTRA=""
FAILED=()

log() { printf '[vf] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
want() { [[ "$1" =~ $ONLY ]]; }
inC() { ip netns exec "$NS_C" "$@"; }
inS() { ip netns exec "$NS_S" "$@"; }
inW() { ip netns exec "$NS_W" "$@"; }

[ "$(id -u)" = 0 ] || die "must run as root"

# ---------------------------------------------------------------- setup ----
ensure_packages() {
	local pkgs=(ocserv openconnect softether-vpnserver softether-vpnclient softether-vpncmd
		tor tinc n2n iodine tinyproxy microsocks openvpn bind9-dnsutils dnsmasq-base
		openssh-server openssh-client netcat-openbsd tshark tcpdump curl gnutls-bin openssl
		ethtool iproute2 iputils-ping python3 procps gcc libc6-dev libssl-dev)
	local missing=() p
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} = 0 ] && return 0
	log "installing: ${missing[*]}"
	# policy-rc.d keeps the package scripts from starting daemons (tor!) in
	# the host namespace; restore whatever was there before.
	local prc=/usr/sbin/policy-rc.d had=0
	[ -e $prc ] && had=1 && cp -p $prc "$WORK/policy-rc.d.bak"
	printf '#!/bin/sh\nexit 101\n' >$prc; chmod 755 $prc
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=1200 install -y \
		--no-install-recommends "${missing[@]}" ||
		{ apt-get -o DPkg::Lock::Timeout=1200 update &&
		  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=1200 install -y \
			--no-install-recommends "${missing[@]}"; }
	if [ $had = 1 ]; then cp -p "$WORK/policy-rc.d.bak" $prc; else rm -f $prc; fi
}

teardown() {
	(
		set +e
		for ns in "$NS_C" "$NS_S" "$NS_W"; do
			[ -e "/run/netns/$ns" ] || continue
			pids=$(ip netns pids "$ns" 2>/dev/null)
			if [ -n "$pids" ]; then
				kill $pids 2>/dev/null
				for _ in $(seq 30); do
					pids=$(ip netns pids "$ns" 2>/dev/null)
					[ -z "$pids" ] && break
					sleep 0.1
				done
				[ -n "$pids" ] && kill -9 $pids 2>/dev/null && sleep 0.2
			fi
			ip netns del "$ns" 2>/dev/null
			rm -rf "/etc/netns/$ns"
		done
	) || true
}

on_exit() {
	local rc=$?
	trap - EXIT
	[ -n "$TCPDUMP_PID" ] && kill "$TCPDUMP_PID" 2>/dev/null
	teardown
	if [ -n "$WORK" ]; then
		for f in "$WORK/se-created-dirs" "$WORK/created-dirs"; do
			[ -f "$f" ] && xargs -r rmdir <"$f" 2>/dev/null
		done
		rm -rf "$WORK"
	fi
	[ $rc != 0 ] && log "FAILED (exit $rc); namespaces and temp files removed"
	exit $rc
}
trap on_exit EXIT
trap 'exit 130' INT TERM

offload_off() { ip netns exec "$1" ethtool -K "$2" tso off gso off gro off tx off rx off >/dev/null 2>&1 || true; }

make_netns() {
	teardown
	ip netns add $NS_C; ip netns add $NS_S; ip netns add $NS_W
	ip link add vfc0 netns $NS_C type veth peer name vfs0 netns $NS_S
	ip link add vfw0 netns $NS_W type veth peer name vfsw0 netns $NS_S
	for ns in $NS_C $NS_S $NS_W; do ip -n $ns link set lo up; done
	inC ip addr add $C_IP/24 dev vfc0
	inC ip addr add $C_IP6/64 dev vfc0 nodad
	inS ip addr add $S_IP/24 dev vfs0
	inS ip addr add $S_IP6/64 dev vfs0 nodad
	inS ip addr add $SW_IP/24 dev vfsw0
	inW ip addr add $W_IP/24 dev vfw0
	for d in "$NS_C vfc0" "$NS_S vfs0" "$NS_S vfsw0" "$NS_W vfw0"; do
		set -- $d; offload_off "$1" "$2"; ip -n "$1" link set "$2" up
	done
	# no router advertisements / autoconf noise
	for ns in $NS_C $NS_S; do
		ip netns exec $ns sysctl -qw net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 \
			net.ipv6.conf.vfc0.accept_ra=0 2>/dev/null || true
	done
	# static neighbours: no ARP / ND on the capture link
	local cmac smac
	cmac=$(inC cat /sys/class/net/vfc0/address); smac=$(inS cat /sys/class/net/vfs0/address)
	inC ip neigh replace $S_IP lladdr "$smac" dev vfc0 nud permanent
	inC ip neigh replace $S_IP6 lladdr "$smac" dev vfc0 nud permanent
	inS ip neigh replace $C_IP lladdr "$cmac" dev vfs0 nud permanent
	inS ip neigh replace $C_IP6 lladdr "$cmac" dev vfs0 nud permanent
	mkdir -p /etc/netns/$NS_S /etc/netns/$NS_C /etc/netns/$NS_W
	printf '127.0.0.1 localhost\n%s web.example.test\n%s srv.example.test\n' $W_IP $S_IP >/etc/netns/$NS_S/hosts
	printf '127.0.0.1 localhost\n%s srv.example.test\n' $S_IP >/etc/netns/$NS_C/hosts
	printf '127.0.0.1 localhost\n' >/etc/netns/$NS_W/hosts
	for ns in $NS_C $NS_S $NS_W; do : >/etc/netns/$ns/resolv.conf; done
	inC ping -c1 -W2 $S_IP >/dev/null || die "veth link does not work"
}

# small web content for the in-tunnel HTTP fetches
make_www() {
	mkdir -p "$WORK/www"
	python3 - "$WORK/www/index.html" <<'EOF'
import sys
body = "<html><body><h1>sift tunnel test</h1>\n" + "".join(
    "<p>line %03d of the in-tunnel test page</p>\n" % i for i in range(40)) + "</body></html>\n"
open(sys.argv[1], "w").write(body)
EOF
}
start_http() { # ns
	ip netns exec "$1" python3 -m http.server $HTTP_PORT --bind 0.0.0.0 --directory "$WORK/www" \
		>"$WORK/http-$1.log" 2>&1 &
	sleep 0.5
}

# ------------------------------------------------------------- capturing --
# Capture everything on vfc0 except IPv6 multicast (MLD reports) and
# neighbour discovery (static neighbours are set anyway).
CAP_FILTER='not arp and not (ip6 and ip6 multicast) and not (icmp6 and (ip6[40] == 133 or ip6[40] == 134 or ip6[40] == 135 or ip6[40] == 136))'
start_cap() { # name
	CAP="$1"
	log "=== capture $CAP"
	rm -f "$WORK/$CAP.pcap"
	ip netns exec $NS_C tcpdump -i vfc0 -s 0 -U -Z root -w "$WORK/$CAP.pcap" "$CAP_FILTER${CAP_EXTRA:+ and $CAP_EXTRA}" \
		>"$WORK/tcpdump-$CAP.log" 2>&1 &
	TCPDUMP_PID=$!
	for _ in $(seq 50); do grep -q 'listening on' "$WORK/tcpdump-$CAP.log" 2>/dev/null && break; sleep 0.1; done
	sleep 0.3
}
stop_cap() {
	sleep 1
	kill -INT "$TCPDUMP_PID" 2>/dev/null || true
	wait "$TCPDUMP_PID" 2>/dev/null || true
	TCPDUMP_PID=""
	local n
	n=$(tshark -r "$WORK/$CAP.pcap" -q -z io,stat,0 2>/dev/null | awk '/<>/ {print $6}' | head -1)
	log "$CAP: ${n:-?} packets, $(stat -c %s "$WORK/$CAP.pcap") bytes"
	mkdir -p "$WORK/exp"; : >"$WORK/exp/$CAP.csv"
}
# expect TRANSPORT SERVER_IP SERVER_PORT LABEL DETAILS [CLIENT_IP]
# Adds one expected.csv row per flow found in the current capture that goes
# to SERVER_IP:SERVER_PORT (TCP: per SYN; UDP: per distinct client ip:port).
expect() {
	local tr=$1 sip=$2 sport=$3 label=$4 details=$5 cip=${6:-} f="$WORK/$CAP.pcap" ipf rows
	if [[ $sip == *:* ]]; then ipf=ipv6; else ipf=ip; fi
	if [ "$tr" = tcp ]; then
		rows=$(tshark -r "$f" -Y "$ipf.dst==$sip && tcp.dstport==$sport && tcp.flags.syn==1 && tcp.flags.ack==0 ${cip:+&& $ipf.src==$cip}" \
			-T fields -e $ipf.src -e tcp.srcport 2>/dev/null | sort -u)
	else
		rows=$(tshark -r "$f" -Y "$ipf.dst==$sip && udp.dstport==$sport && !icmp && !icmpv6 ${cip:+&& $ipf.src==$cip}" \
			-T fields -e $ipf.src -e udp.srcport 2>/dev/null | sort -u)
	fi
	if [ -z "$rows" ]; then
		log "WARNING: $CAP: no $tr flow to $sip:$sport ($label)"
		return 0
	fi
	local a p
	while read -r a p; do
		echo "$CAP.pcap,$tr,$a,$p,$sip,$sport,$label,$details" >>"$WORK/exp/$CAP.csv"
	done <<<"$rows"
}
# expect_icmp SERVER_IP LABEL DETAILS: one row (no ports) if the client sent
# non-error ICMP (echo / echo reply / information request) to SERVER_IP
expect_icmp() {
	local n
	n=$(tshark -r "$WORK/$CAP.pcap" -Y "icmp && ip.src==$C_IP && ip.dst==$1 && (icmp.type==0 || icmp.type==8 || icmp.type==15)" \
		-T fields -e frame.number 2>/dev/null | wc -l)
	if [ "$n" -gt 0 ]; then
		echo "$CAP.pcap,icmp,$C_IP,,$1,,$2,$3" >>"$WORK/exp/$CAP.csv"
	else
		log "WARNING: $CAP: no ICMP from $C_IP to $1 ($2)"
	fi
}
# keep the capture (move it into $OUT)
keep_cap() {
	mv -f "$WORK/$CAP.pcap" "$OUT/$CAP.pcap"
	if [ -s "$WORK/$CAP.keys" ]; then mv -f "$WORK/$CAP.keys" "$OUT/$CAP.keys"; else rm -f "$OUT/$CAP.keys"; fi
}
# run a family function; on failure note it and go on
run_family() { # name func
	want "$1" || return 0
	log "##### family $1"
	local rc
	set +e
	( set -Eeuo pipefail; "$2" )
	rc=$?
	set -e
	if [ $rc != 0 ]; then log "family $1 FAILED (rc $rc)"; FAILED+=("$1"); fi
	make_netns   # kills everything the family left running, fresh link
}

# ============================================================ OpenConnect ==
# ocserv 1.1.6 (GnuTLS) <-> openconnect 9.01 (GnuTLS), password auth (ocpasswd),
# self-signed RSA certificate pinned on the client with --servercert.
OC_NET=10.213.5
oc_conf() { # tcp-port udp-port(0 = no DTLS) dtls-psk dtls-legacy
	local d="$WORK/oc" udp=""
	[ "$2" != 0 ] && udp="udp-port = $2"
	cat >"$d/ocserv.conf" <<CONF
auth = "plain[passwd=$d/ocpasswd]"
tcp-port = $1
$udp
run-as-user = nobody
run-as-group = nogroup
socket-file = $d/ocserv.sock
pid-file = $d/ocserv.pid
server-cert = $d/cert.pem
server-key = $d/key.pem
isolate-workers = false
max-clients = 16
max-same-clients = 4
keepalive = 32400
dpd = 90
mobile-dpd = 1800
switch-to-tcp-timeout = 25
try-mtu-discovery = false
tls-priorities = "NORMAL:%SERVER_PRECEDENCE"
auth-timeout = 240
min-reauth-time = 1
cookie-timeout = 300
deny-roaming = false
rekey-time = 172800
rekey-method = ssl
use-occtl = false
device = vpns
predictable-ips = true
default-domain = example.test
ipv4-network = $OC_NET.0
ipv4-netmask = 255.255.255.0
route = $OC_NET.0/255.255.255.0
ping-leases = false
cisco-client-compat = true
dtls-psk = $3
dtls-legacy = $4
CONF
}
oc_prepare() {
	local d="$WORK/oc"
	mkdir -p "$d"; chmod 755 "$WORK" "$d"
	openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=srv.example.test" \
		-addext "subjectAltName=DNS:srv.example.test,IP:$S_IP,IP:$S_IP6" \
		-keyout "$d/key.pem" -out "$d/cert.pem" 2>/dev/null
	printf 'test123\ntest123\n' | ocpasswd -c "$d/ocpasswd" alice
	OC_PIN="pin-sha256:$(openssl x509 -in "$d/cert.pem" -pubkey -noout | openssl pkey -pubin -outform der |
		openssl dgst -sha256 -binary | base64)"
	# minimal vpnc-script replacement: address + route on the tun device
	cat >"$d/oc-script" <<'SCR'
#!/bin/sh
case "$reason" in
connect)
	ip link set dev "$TUNDEV" up mtu "${INTERNAL_IP4_MTU:-1300}"
	ip addr add "$INTERNAL_IP4_ADDRESS/24" dev "$TUNDEV"
	;;
esac
exit 0
SCR
	chmod 755 "$d/oc-script"
}
oc_server() { # conf args...
	oc_conf "$@"
	inS ocserv -f -d 1 -c "$WORK/oc/ocserv.conf" >>"$WORK/oc/ocserv.log" 2>&1 &
	sleep 1.5
}
# one client session: connect, ping + HTTP through the tunnel, disconnect
oc_session() { # url extra openconnect args...
	local url=$1; shift
	printf 'test123\n' | SSLKEYLOGFILE="$WORK/$CAP.keys" GNUTLS_KEYLOGFILE="$WORK/$CAP.keys" \
		ip netns exec $NS_C openconnect --non-inter --user=alice --passwd-on-stdin \
		--servercert "$OC_PIN" --script "$WORK/oc/oc-script" --interface oc0 \
		"$@" "$url" >>"$WORK/oc/client.log" 2>&1 &
	local pid=$! ok=0
	for _ in $(seq 100); do
		inC ip -4 addr show dev oc0 2>/dev/null | grep -q "inet $OC_NET" && { ok=1; break; }
		sleep 0.1
	done
	[ $ok = 1 ] || { tail -20 "$WORK/oc/client.log" >&2; die "openconnect did not come up"; }
	sleep 2     # let DTLS come up (if any)
	inC ping -c 3 -i 0.3 -W 2 $OC_NET.1 >/dev/null
	inC curl -sS -o /dev/null --max-time 10 "http://$OC_NET.1:$HTTP_PORT/"
	sleep 0.5
	kill -INT $pid; wait $pid 2>/dev/null || true
	sleep 0.5
}
fam_openconnect() {
	oc_prepare
	start_http $NS_S
	local ver="ocserv 1.1.6 / openconnect 9.01 (GnuTLS 3.7.9)"

	# (a1) DTLS enabled, default negotiation: PSK-NEGOTIATE -> DTLS 1.2 (PSK)
	oc_server 443 443 true true
	start_cap openconnect-tcp443-dtls12-psk
	oc_session "https://$S_IP/"
	oc_session "https://srv.example.test/"
	stop_cap
	expect tcp $S_IP 443 openconnect-tls "CSTP over TLS 1.3; $ver; default (dtls-psk)"
	expect udp $S_IP 443 openconnect-dtls "DTLS 1.2 PSK-NEGOTIATE (X-DTLS-CipherSuite: PSK-NEGOTIATE); $ver"
	keep_cap
	kill "$(cat "$WORK/oc/ocserv.pid")"; sleep 1

	# (a2) legacy Cisco DTLS 0x0100 (dtls-psk = false on the server, client asks AES128-SHA)
	oc_server 443 443 false true
	start_cap openconnect-tcp443-dtls-legacy
	oc_session "https://$S_IP/" --dtls-ciphers=AES128-SHA
	stop_cap
	expect tcp $S_IP 443 openconnect-tls "CSTP over TLS; $ver; legacy DTLS negotiated in CONNECT headers"
	expect udp $S_IP 443 openconnect-dtls "legacy pre-draft DTLS (version 0x0100) AES128-SHA, session resumption from X-DTLS-Master-Secret; $ver"
	keep_cap
	kill "$(cat "$WORK/oc/ocserv.pid")"; sleep 1

	# (a3) legacy negotiation, client default ciphers (DTLS 1.2 via X-DTLS12-CipherSuite)
	oc_server 443 443 false true
	start_cap openconnect-tcp443-dtls12-legacy
	oc_session "https://$S_IP/"
	stop_cap
	expect tcp $S_IP 443 openconnect-tls "CSTP over TLS; $ver; dtls-psk off on server"
	expect udp $S_IP 443 openconnect-dtls "DTLS 1.2 with session resumption (X-DTLS12-CipherSuite), dtls-psk off; $ver"
	keep_cap
	kill "$(cat "$WORK/oc/ocserv.pid")"; sleep 1

	# (b) TLS only (--no-dtls), non-standard port 4443, IPv4 + IPv6
	oc_server 4443 0 true true
	start_cap openconnect-tcp4443-tls-only
	oc_session "https://$S_IP:4443/" --no-dtls
	oc_session "https://[$S_IP6]:4443/" --no-dtls --useragent "AnyConnect Linux_64 4.10.07061"
	stop_cap
	expect tcp $S_IP 4443 openconnect-tls "TLS only (--no-dtls, no udp-port), IPv4; $ver"
	expect tcp $S_IP6 4443 openconnect-tls "TLS only (--no-dtls, no udp-port), IPv6; $ver"
	keep_cap
}

# ============================================================== SoftEther ==
# softether-vpnserver / -vpnclient / -vpncmd 5.01 build 9674 (Debian,
# OpenSSL 3). The Debian build has its state dirs compiled in
# (/var/lib/softether, /var/log/softether, /run/softether), so each daemon
# runs in its own mount namespace (ip netns exec makes one) with private
# directories from $WORK bind-mounted over these paths.
SE_NET=10.213.6
SE_DIRS=(/var/lib/softether /var/log/softether /run/softether)
se_daemon() { # ns name(server|client)
	local ns=$1 kind=$2 d="$WORK/se-$2" m="" i=0 x
	mkdir -p "$d"/{db,log,run}
	for x in db log run; do m+="mount --bind $d/$x ${SE_DIRS[$i]} && "; i=$((i + 1)); done
	# the client gets keylog.so preloaded (SSLKEYLOGFILE support for OpenSSL 3)
	local pre=""
	[ "$kind" = client ] && [ -f "$WORK/keylog.so" ] && pre="LD_PRELOAD=$WORK/keylog.so SSLKEYLOGFILE=$WORK/se-keys"
	ip netns exec "$ns" sh -c "$m exec env $pre /usr/libexec/softether/vpn$kind/vpn$kind execsvc" \
		>>"$d/daemon.log" 2>&1 &
	sleep 3
}
# vpncmd (it writes lang.config into /var/lib/softether too, so it also gets
# a private directory). Every argument that starts with "/" is an option to
# vpncmd, so no absolute paths are passed to it.
se_vpncmd() { # ns host args...
	local ns=$1 d="$WORK/se-cmd"; shift
	mkdir -p "$d"
	timeout 30 ip netns exec "$ns" sh -c "mount --bind $d ${SE_DIRS[0]} && exec /usr/libexec/softether/vpncmd/vpncmd \"\$@\"" \
		vpncmd "$@" </dev/null
}
se_srv() { se_vpncmd $NS_S localhost:5555 /SERVER /PASSWORD:adminpw "$@" >>"$WORK/se-vpncmd.log" 2>&1 ||
	{ tail -5 "$WORK/se-vpncmd.log" >&2; return 1; }; }
se_cli() { se_vpncmd $NS_C localhost /CLIENT "$@" >>"$WORK/se-vpncmd.log" 2>&1 ||
	{ tail -5 "$WORK/se-vpncmd.log" >&2; return 1; }; }
se_status() { se_vpncmd $NS_C localhost /CLIENT /CMD AccountStatusGet "$1" 2>&1 || true; }
se_prepare() {
	gcc -shared -fPIC -O2 -o "$WORK/keylog.so" "$OUT/keylog.c" -ldl -lssl ||
		log "WARNING: keylog.so not built, SoftEther captures get no .keys"
	for x in "${SE_DIRS[@]}"; do
		[ -d "$x" ] || { mkdir -p "$x"; echo "$x" >>"$WORK/se-created-dirs"; }
	done
	se_daemon $NS_S server
	# no password yet on a fresh server
	se_vpncmd $NS_S localhost:5555 /SERVER /CMD ServerPasswordSet adminpw >>"$WORK/se-vpncmd.log" 2>&1
	se_srv /CMD VpnAzureSetEnable no
	se_srv /CMD KeepDisable
	se_srv /CMD ListenerCreate 4433
	se_srv /ADMINHUB:DEFAULT /CMD UserCreate alice /GROUP:none /REALNAME:none /NOTE:none
	se_srv /ADMINHUB:DEFAULT /CMD UserPasswordSet alice /PASSWORD:test123
	se_srv /CMD BridgeCreate DEFAULT /DEVICE:se /TAP:yes
	# switch off the dynamic DNS client (it could only fail here anyway: no route)
	local pid
	pid=$(ip netns pids $NS_S | xargs -r ps -o pid=,comm= -p | awk '$2=="vpnserver"{print $1}' | head -1)
	kill "$pid"; sleep 2
	sed -i '/declare DDnsClient/,/}/ s/bool Disabled false/bool Disabled true/' "$WORK/se-server/db/vpn_server.config"
	se_daemon $NS_S server
	for _ in $(seq 50); do inS ip link show tap_se >/dev/null 2>&1 && break; sleep 0.2; done
	inS ip addr add $SE_NET.1/24 dev tap_se
	inS ip link set tap_se up
	se_daemon $NS_C client
	se_cli /CMD NicCreate vpn
	for _ in $(seq 50); do inC ip link show vpn_vpn >/dev/null 2>&1 && break; sleep 0.2; done
	inC ip addr add $SE_NET.2/24 dev vpn_vpn
	inC ip link set vpn_vpn up
}
se_account() { # name host:port
	se_cli /CMD AccountCreate "$1" /SERVER:"$2" /HUB:DEFAULT /USERNAME:alice /NICNAME:vpn
	se_cli /CMD AccountPasswordSet "$1" /PASSWORD:test123 /TYPE:standard
}
# connect, wait for the session (and optionally UDP acceleration), traffic, disconnect
se_session() { # account wait-udp(0|1)
	local a=$1 ok=0
	se_cli /CMD AccountConnect "$a"
	for _ in $(seq 60); do
		se_status "$a" | grep -q 'Session Established' && { ok=1; break; }
		sleep 0.5
	done
	[ $ok = 1 ] || { se_status "$a" >&2; die "softether session $a not established"; }
	inC ping -c 3 -i 0.3 -W 2 $SE_NET.1 >/dev/null
	inC curl -sS -o /dev/null --max-time 10 "http://$SE_NET.1:$HTTP_PORT/"
	if [ "$2" = 1 ]; then
		ok=0
		for _ in $(seq 60); do
			se_status "$a" | grep -q 'UDP Acceleration is Active *|Yes' && { ok=1; break; }
			sleep 0.5
		done
		[ $ok = 1 ] || log "WARNING: UDP acceleration did not become active"
		se_status "$a" | grep -E 'UDP Acceleration|Encryption|Number of TCP' >&2
		inC ping -c 3 -i 0.3 -W 2 $SE_NET.1 >/dev/null
		inC curl -sS -o /dev/null --max-time 10 "http://$SE_NET.1:$HTTP_PORT/"
	fi
	sleep 0.5
	se_cli /CMD AccountDisconnect "$a"
	sleep 1.5
}
fam_softether() {
	se_prepare
	start_http $NS_S
	local ver="SoftEther VPN 5.01 build 9674 (Debian, OpenSSL 3.0)"
	se_account a443 $S_IP:443
	se_account a992 $S_IP:992
	se_account a5555 $S_IP:5555
	se_account a4433 $S_IP:4433

	: >"$WORK/se-keys"
	start_cap softether-tcp443-udpaccel
	se_session a443 1
	stop_cap
	cp "$WORK/se-keys" "$WORK/$CAP.keys"
	expect tcp $S_IP 443 softether "SSL-VPN session over TLS 1.3, UDP acceleration on (default); $ver"
	expect udp $S_IP 53 softether-probe "client's parallel VPN-over-DNS probe: UDP to server port 53, DNS-like header (tshark: malformed DNSKEY query), answered with ICMP port unreachable; $ver"
	expect udp $C_IP 137 nbns "not VPN: the SoftEther server asks the connecting client's NetBIOS name (NBSTAT *, default DisableGetHostNameWhenAcceptTcp=false); ICMP port unreachable; $ver"
	expect_icmp $S_IP softether-probe "client's parallel VPN-over-ICMP probe: echo request + echo replies / information request (type 15) with random payload, same id/seq; $ver"
	local p
	for p in $(tshark -r "$WORK/$CAP.pcap" -Y "udp && ip.src==$S_IP && !(udp.srcport==53) && !icmp && !(udp.dstport==137)" \
		-T fields -e udp.srcport 2>/dev/null | sort -u); do
		expect udp $S_IP "$p" softether-udp "UDP acceleration (server port chosen at random, negotiated inside TLS); $ver"
	done
	# the server keeps sending UDP-acceleration keepalives to the old client
	# port for a while after the disconnect: keep them out of the next capture
	local oldp
	oldp=$(tshark -r "$WORK/$CAP.pcap" -Y "udp && ip.src==$C_IP && !(udp.dstport==53) && !icmp" \
		-T fields -e udp.srcport 2>/dev/null | sort -u | head -1)
	keep_cap
	CAP_EXTRA=${oldp:+"not (udp and port $oldp)"}

	# TCP-only: UDP acceleration off on the hub; ports 992, 5555, 4433
	se_srv /ADMINHUB:DEFAULT /CMD ExtOptionSet DisableUdpAcceleration /VALUE:1
	: >"$WORK/se-keys"
	start_cap softether-tcp992-5555-4433
	se_session a992 0
	se_session a5555 0
	se_session a4433 0
	stop_cap
	cp "$WORK/se-keys" "$WORK/$CAP.keys"
	CAP_EXTRA=""
	expect tcp $S_IP 992 softether "SSL-VPN session over TLS 1.3 on 992, UDP acceleration off on hub; $ver"
	expect tcp $S_IP 5555 softether "SSL-VPN session over TLS 1.3 on 5555, UDP acceleration off on hub; $ver"
	expect tcp $S_IP 4433 softether "SSL-VPN session over TLS 1.3 on extra listener 4433, UDP acceleration off on hub; $ver"
	expect udp $S_IP 53 softether-probe "client's parallel VPN-over-DNS probe (see above); $ver"
	expect_icmp $S_IP softether-probe "client's parallel VPN-over-ICMP probes (see above); $ver"
	keep_cap
}

# ==================================================================== Tor ==
# tor 0.4.9.11 (Debian 12 security update, OpenSSL 3.0) as a bridge relay in
# vf-srv and as a bridge client in vf-cli. Without the internet the bridge has
# no consensus, so the client gets the bridge descriptor (over BEGIN_DIR) and
# then asks for a consensus and gets 404 - but the TLS link handshake and the
# cell traffic (fixed 514-byte cells) are the real thing.
tor_client() { # name bridge-line seconds
	local d="$WORK/tor-$1"
	mkdir -p "$d/data"; chmod 700 "$d/data"
	cat >"$d/torrc" <<CONF
DataDirectory $d/data
UseBridges 1
Bridge $2
SocksPort 9050
Log notice file $d/tor.log
CONF
	ip netns exec $NS_C tor -f "$d/torrc" >>"$d/stdout.log" 2>&1 &
	local pid=$!
	sleep "$3"
	kill $pid 2>/dev/null || { tail -5 "$d/stdout.log" >&2; die "tor client $1 died"; }
	wait $pid 2>/dev/null || true
	sleep 0.5
}
fam_tor() {
	local d="$WORK/tor-bridge" fp ver="tor 0.4.9.11 (OpenSSL 3.0.x)"
	mkdir -p "$d/data"; chmod 700 "$d/data"
	cat >"$d/torrc" <<CONF
DataDirectory $d/data
ORPort $S_IP:9001
ORPort [$S_IP6]:9001
ORPort $S_IP:443
Address $S_IP
BridgeRelay 1
PublishServerDescriptor 0
AssumeReachable 1
ExitRelay 0
SocksPort 0
Nickname siftbridge
ContactInfo none
Log notice file $d/tor.log
CONF
	inS tor -f "$d/torrc" --quiet &
	for _ in $(seq 100); do [ -s "$d/data/fingerprint" ] && grep -q 'Opened OR listener.*443' "$d/tor.log" 2>/dev/null && break; sleep 0.2; done
	fp=$(awk '{print $2}' "$d/data/fingerprint")
	[ -n "$fp" ] || die "tor bridge did not start"
	sleep 1

	start_cap tor-bridge-9001
	tor_client c1 "$S_IP:9001 $fp" 5    # first start: fresh data dir
	tor_client c1 "$S_IP:9001 $fp" 4    # restart with the cached state
	tor_client c1 "$S_IP:9001 $fp" 4
	stop_cap
	expect tcp $S_IP 9001 tor "link handshake to a bridge (UseBridges, no PT): TLS 1.3, random SNI www.<random>.com|net, then 514-byte cells; client restarted; $ver"
	keep_cap

	start_cap tor-bridge-443-ipv6
	tor_client c2 "$S_IP:443 $fp" 5
	tor_client c3 "[$S_IP6]:9001 $fp" 5
	stop_cap
	expect tcp $S_IP 443 tor "link handshake to a bridge ORPort 443; $ver"
	expect tcp $S_IP6 9001 tor "link handshake to a bridge over IPv6; $ver"
	keep_cap
}

# =================================================================== tinc ==
# tinc 1.0.36 (Debian; tinc 1.1 is not packaged for Debian 12). Two nodes,
# "srv" in vf-srv and "cli" in vf-cli (ConnectTo = srv), router mode,
# RSA-2048 keys, default cipher/digest (aes-256-cbc / sha256, MACLength 4).
TINC_NET=10.213.7
tinc_node() { # name ns inner-ip extra-tinc.conf-lines
	local d="$WORK/tinc/$1"
	rm -rf "$d"; mkdir -p "$d/hosts"
	printf 'Name = %s\nMode = router\nInterface = tinc0\nDevice = /dev/net/tun\n%b' "$1" "$4" >"$d/tinc.conf"
	printf 'Subnet = %s/32\n' "$3" >"$d/hosts/$1"
	cat >"$d/tinc-up" <<SCR
#!/bin/sh
ip addr add $3/24 dev \$INTERFACE
ip link set \$INTERFACE up
SCR
	chmod 755 "$d/tinc-up"
}
tinc_keys() { # name host-file-extra
	local d="$WORK/tinc/$1"
	printf '%b' "$2" >>"$d/hosts/$1"
	printf '\n\n' | tincd -c "$d" -K 2048 >/dev/null 2>&1
	[ -s "$d/rsa_key.priv" ] || die "tinc key generation failed"
}
tinc_run() { # srv-host-extra srv-conf-extra cli-conf-extra
	tinc_node srv $NS_S $TINC_NET.1 "$2"
	tinc_node cli $NS_C $TINC_NET.2 "ConnectTo = srv\n$3"
	tinc_keys srv "$1"
	tinc_keys cli ""
	cp "$WORK/tinc/srv/hosts/srv" "$WORK/tinc/cli/hosts/srv"
	cp "$WORK/tinc/cli/hosts/cli" "$WORK/tinc/srv/hosts/cli"
	ip netns exec $NS_S tincd -c "$WORK/tinc/srv" -D -d1 --pidfile="$WORK/tinc/srv.pid" \
		>>"$WORK/tinc/srv.log" 2>&1 &
	local spid=$!
	sleep 1
	ip netns exec $NS_C tincd -c "$WORK/tinc/cli" -D -d1 --pidfile="$WORK/tinc/cli.pid" \
		>>"$WORK/tinc/cli.log" 2>&1 &
	local cpid=$! ok=0
	for _ in $(seq 100); do
		inC ping -c1 -W1 $TINC_NET.1 >/dev/null 2>&1 && { ok=1; break; }
		sleep 0.2
	done
	[ $ok = 1 ] || { tail -20 "$WORK/tinc/cli.log" >&2; die "tinc tunnel did not come up"; }
	sleep 1
	inC ping -c 3 -i 0.3 -W 2 $TINC_NET.1 >/dev/null
	inC curl -sS -o /dev/null --max-time 10 "http://$TINC_NET.1:$HTTP_PORT/"
	sleep 0.5
	kill $cpid; wait $cpid 2>/dev/null || true
	kill $spid; wait $spid 2>/dev/null || true
	sleep 0.5
}
fam_tinc() {
	start_http $NS_S
	local ver="tinc 1.0.36 (Debian 12, OpenSSL 3), RSA-2048, aes-256-cbc/sha256"
	start_cap tinc10-655
	tinc_run "Address = $S_IP\n" "" ""
	stop_cap
	expect tcp $S_IP 655 tinc-tcp "meta connection (ID/METAKEY/CHALLENGE... lines, RSA-encrypted then cipher-encrypted); $ver"
	expect udp $S_IP 655 tinc-udp "data packets + PMTU probes (seqno+cipher+4-byte MAC), both sides port 655; $ver"
	keep_cap

	start_cap tinc10-7655-ipv6
	tinc_run "Address = $S_IP6 7655\nPort = 7655\n" "AddressFamily = ipv6\n" "AddressFamily = ipv6\nPort = 7656\n"
	stop_cap
	expect tcp $S_IP6 7655 tinc-tcp "meta connection over IPv6, non-standard port 7655; $ver"
	expect udp $S_IP6 7655 tinc-udp "data over IPv6, server port 7655, client port 7656; $ver"
	keep_cap

	start_cap tinc10-tcponly-655
	tinc_run "Address = $S_IP\nTCPOnly = yes\n" "" ""
	stop_cap
	expect tcp $S_IP 655 tinc-tcp "TCPOnly = yes: meta connection also carries the data packets (PACKET requests); $ver"
	keep_cap
}

# ==================================================================== n2n ==
# n2n 1.3.2 (Debian package 1.3.1~svn3789: protocol v1). supernode in
# vf-srv, edge A in vf-cli, edge B also in vf-srv (registers with the
# supernode over the same link address, so A<->B peer-to-peer packets cross
# vfc0 too). Twofish with the shared key, TAP (L2) device.
N2N_NET=10.213.8
n2n_run() { # supernode-port edge-extra-args
	ip netns exec $NS_S supernode -l "$1" -v >>"$WORK/n2n-sn.log" 2>&1 &
	local sn=$!
	sleep 0.5
	ip netns exec $NS_S edge -d n2nb -a $N2N_NET.2 -c siftnet -k s3cretkey -l $S_IP:"$1" -p 50002 $2 \
		>>"$WORK/n2n-b.log" 2>&1 &
	local eb=$!
	sleep 0.5
	ip netns exec $NS_C edge -d n2na -a $N2N_NET.1 -c siftnet -k s3cretkey -l $S_IP:"$1" -p 50001 $2 \
		>>"$WORK/n2n-a.log" 2>&1 &
	local ea=$! ok=0
	for _ in $(seq 75); do
		inC ping -c1 -W1 $N2N_NET.2 >/dev/null 2>&1 && { ok=1; break; }
		sleep 0.2
	done
	[ $ok = 1 ] || { tail -20 "$WORK/n2n-a.log" >&2; die "n2n did not come up"; }
	inC ping -c 3 -i 0.3 -W 2 $N2N_NET.2 >/dev/null
	inC curl -sS -o /dev/null --max-time 10 "http://$N2N_NET.2:$HTTP_PORT/"
	sleep 1
	kill $ea $eb; wait $ea $eb 2>/dev/null || true
	kill $sn; wait $sn 2>/dev/null || true
	sleep 0.5
}
fam_n2n() {
	start_http $NS_S
	local ver="n2n v1.3.2 (Debian 1.3.1~svn3789-7), community siftnet, twofish"
	start_cap n2n-v1-udp7654
	n2n_run 7654 ""
	stop_cap
	expect udp $S_IP 7654 n2n "edge <-> supernode (REGISTER / packets relayed via supernode); $ver"
	expect udp $S_IP 50002 n2n "edge <-> edge peer-to-peer (other edge, local port 50002); $ver"
	keep_cap

	# edge -t ("http tunneling", experimental): the edge talks to the
	# supernode over TCP ("GET / HTTP/1.0" preamble, then 4-digit ASCII length
	# + v1 packet). In this build the -t edge segfaults as soon as it gets
	# a relayed packet, so the tunnel never carries replies: the capture
	# holds registration + the edge's first packets only (pings fail).
	start_cap n2n-v1-tcp80-t-register
	ip netns exec $NS_S supernode -l 80 -v >>"$WORK/n2n-sn.log" 2>&1 &
	sleep 0.5
	ip netns exec $NS_S edge -d n2nb -a $N2N_NET.2 -c siftnet -k s3cretkey -l $S_IP:80 -p 50002 \
		>>"$WORK/n2n-b.log" 2>&1 &
	sleep 0.5
	ip netns exec $NS_C edge -d n2na -a $N2N_NET.1 -c siftnet -k s3cretkey -l $S_IP:80 -p 50001 -t \
		>>"$WORK/n2n-at.log" 2>&1 &
	local ea=$!
	sleep 1.5
	inC ping -c 2 -W 1 $N2N_NET.2 >/dev/null 2>&1 || true
	sleep 1
	kill $ea 2>/dev/null || true
	wait $ea 2>/dev/null || true
	stop_cap
	expect tcp $S_IP 80 n2n "edge -t: 'GET / HTTP/1.0' + length-prefixed n2n v1 packets over TCP to the supernode; edge crashes (segfault) on the first relayed packet, no working tunnel; $ver"
	keep_cap
}

# ================================================================= iodine ==
# iodine / iodined 0.7.0 (Debian). iodined in vf-srv is authoritative for
# t.example.test; the client talks to it directly (10.213.0.2:53, no
# recursive resolver in between).
IOD_NET=10.213.9
iodine_run() { # client-extra-args
	ip netns exec $NS_S iodined -f -c -P s3cretpw -l $S_IP $IOD_NET.1/24 t.example.test \
		>>"$WORK/iodined.log" 2>&1 &
	local sp=$!
	sleep 1
	: >"$WORK/iodine.log"
	ip netns exec $NS_C iodine -f -P s3cretpw $1 $S_IP t.example.test >>"$WORK/iodine.log" 2>&1 &
	local cp=$! ok=0
	for _ in $(seq 150); do
		grep -q 'Connection setup complete' "$WORK/iodine.log" && { ok=1; break; }
		sleep 0.2
	done
	[ $ok = 1 ] || { tail -20 "$WORK/iodine.log" >&2; die "iodine did not come up"; }
	sleep 0.5
	inC ping -c 3 -i 0.3 -W 3 $IOD_NET.1 >/dev/null
	inC curl -sS -o /dev/null --max-time 20 "http://$IOD_NET.1:$HTTP_PORT/"
	sleep 0.5
	kill $cp; wait $cp 2>/dev/null || true
	kill $sp; wait $sp 2>/dev/null || true
	sleep 0.5
}
fam_iodine() {
	start_http $NS_S
	local ver="iodine 0.7.0 (Debian 0.7.0-10), domain t.example.test, password auth"
	start_cap iodine-dns-mode
	iodine_run "-r"
	stop_cap
	expect udp $S_IP 53 iodine "iodine -r (raw mode skipped): all data in DNS queries/answers for *.t.example.test (autodetected query type/encoding); $ver"
	keep_cap

	start_cap iodine-default-raw
	iodine_run ""
	stop_cap
	expect udp $S_IP 53 iodine "iodine default: DNS login handshake, then raw UDP mode to port 53 ('IOD' header, no DNS) because the server is reachable directly; $ver"
	keep_cap
}
fam_dns() {
	# negative: ordinary DNS lookups with dig against dnsmasq 2.90 (port 53)
	mkdir -p "$WORK/dns"
	ip netns exec $NS_S dnsmasq --no-daemon --no-resolv --no-hosts --port=53 --listen-address=$S_IP --listen-address=$S_IP6 \
		--bind-interfaces --address=/example.test/$S_IP --address=/example.test/$S_IP6 \
		--txt-record=txt.example.test,"v=spf1 -all" --txt-record=_dmarc.example.test,"v=DMARC1; p=none" \
		--mx-host=example.test,mail.example.test,10 --log-facility=- >>"$WORK/dns/dnsmasq.log" 2>&1 &
	sleep 1
	start_cap dns-dig-negative
	local q
	for q in "www.example.test A" "www.example.test AAAA" "txt.example.test TXT" "example.test MX" \
		"_dmarc.example.test TXT" "a-rather-long-label-0123456789abcdef.sub.example.test A" \
		"nonexistent.invalid A" "example.test NULL" "example.test ANY"; do
		set -- $q
		inC dig +tries=1 +time=2 @$S_IP "$1" "$2" >/dev/null || true
	done
	inC dig +tries=1 +time=2 +tcp @$S_IP www.example.test A >/dev/null || true
	inC dig +tries=1 +time=2 @$S_IP6 www.example.test AAAA >/dev/null || true
	stop_cap
	expect udp $S_IP 53 dns "plain DNS lookups by dig 9.18 (bind9-dnsutils) to dnsmasq 2.90: A, AAAA, TXT, MX, NULL, ANY, long label, NXDOMAIN"
	expect tcp $S_IP 53 dns "plain DNS over TCP (dig +tcp)"
	expect udp $S_IP6 53 dns "plain DNS over IPv6"
	keep_cap
}

# ================================================================= proxies ==
# tinyproxy 1.11.1 (HTTP CONNECT, port 8888) and microsocks 1.0.3 (SOCKS5,
# 1080 without auth, 9999 with username/password) in vf-srv; the real
# destinations live in vf-web behind vf-srv:
#   10.213.1.2: OpenVPN TCP server 1194, HTTPS (python ssl) 443, sshd 22
#   10.213.1.3: second OpenVPN TCP server on 443
# vfc0 (the capture) only sees client <-> proxy.
W_IP2=10.213.1.3
px_pki() {
	local d="$WORK/pki"
	mkdir -p "$d"
	cd "$d"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
		-subj "/CN=sift test CA" -keyout ca.key -out ca.crt 2>/dev/null
	local n eku
	for n in server client; do
		eku=serverAuth; [ $n = client ] && eku=clientAuth
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-subj "/CN=$n" -keyout $n.key -out $n.csr 2>/dev/null
		printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyAgreement\nextendedKeyUsage=%s\nsubjectAltName=DNS:web.example.test,IP:%s\n' \
			$eku $W_IP >$n.ext
		openssl x509 -req -in $n.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
			-extfile $n.ext -out $n.crt 2>/dev/null
	done
	cd - >/dev/null
}
px_servers() {
	local d="$WORK/pki" i=0 ip port
	inW ip addr add $W_IP2/24 dev vfw0
	inW ip route add 10.213.0.0/24 via $SW_IP
	# OpenVPN TCP servers in vf-web
	for ip_port in "$W_IP 1194" "$W_IP2 443"; do
		set -- $ip_port
		ip netns exec $NS_W openvpn --mode server --tls-server --dev tun --proto tcp-server \
			--local "$1" --port "$2" --topology subnet --server 10.213.1$i.0 255.255.255.0 \
			--ca $d/ca.crt --cert $d/server.crt --key $d/server.key --dh none \
			--keepalive 10 60 --verb 3 --log "$WORK/ovpn-srv$i.log" &
		i=$((i + 1))
	done
	# HTTPS (TLS 1.3, python ssl / OpenSSL 3) and plain HTTP in vf-web
	cat >"$WORK/https.py" <<'PY'
import http.server, ssl, sys, functools
d, cert, key, ip = sys.argv[1:5]
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=d)
s = http.server.ThreadingHTTPServer((ip, 443), h)
c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); c.load_cert_chain(cert, key)
s.socket = c.wrap_socket(s.socket, server_side=True)
s.serve_forever()
PY
	ip netns exec $NS_W python3 "$WORK/https.py" "$WORK/www" $d/server.crt $d/server.key $W_IP \
		>"$WORK/https.log" 2>&1 &
	start_http $NS_W
	# sshd in vf-web (key auth for root)
	mkdir -p "$WORK/ssh"
	[ -d /run/sshd ] || { mkdir -p /run/sshd; chmod 755 /run/sshd; echo /run/sshd >>"$WORK/created-dirs"; }
	ssh-keygen -q -t ed25519 -N '' -f "$WORK/ssh/host_ed25519" </dev/null
	ssh-keygen -q -t ed25519 -N '' -f "$WORK/ssh/id_ed25519" </dev/null
	cp "$WORK/ssh/id_ed25519.pub" "$WORK/ssh/authorized_keys"
	cat >"$WORK/ssh/sshd_config" <<CONF
Port 22
ListenAddress $W_IP
HostKey $WORK/ssh/host_ed25519
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile $WORK/ssh/authorized_keys
StrictModes no
UsePAM no
PidFile $WORK/ssh/sshd.pid
CONF
	ip netns exec $NS_W /usr/sbin/sshd -D -e -f "$WORK/ssh/sshd_config" >>"$WORK/ssh/sshd.log" 2>&1 &
	# proxies in vf-srv
	chmod 755 "$WORK"
	cat >"$WORK/tinyproxy.conf" <<CONF
User nobody
Group nogroup
Port 8888
Listen $S_IP
Timeout 600
MaxClients 20
Allow 10.213.0.0/16
ConnectPort 443
ConnectPort 1194
ConnectPort 22
ViaProxyName "tinyproxy"
LogLevel Info
CONF
	ip netns exec $NS_S tinyproxy -d -c "$WORK/tinyproxy.conf" >>"$WORK/tinyproxy.log" 2>&1 &
	ip netns exec $NS_S microsocks -i $S_IP -p 1080 >>"$WORK/microsocks.log" 2>&1 &
	ip netns exec $NS_S microsocks -i $S_IP -p 9999 -u sift -P s0cks >>"$WORK/microsocks2.log" 2>&1 &
	sleep 2
}
# openvpn client through a proxy: ping + HTTP through the tunnel
px_openvpn() { # name remote-ip remote-port inner-net proxy-args...
	local n=$1 rip=$2 rport=$3 net=$4 d="$WORK/pki"; shift 4
	: >"$WORK/ovpn-$n.log"
	ip netns exec $NS_C openvpn --client --dev tun --proto tcp-client --remote "$rip" "$rport" \
		--ca $d/ca.crt --cert $d/client.crt --key $d/client.key --remote-cert-tls server \
		--nobind --verb 3 --connect-retry-max 1 --log "$WORK/ovpn-$n.log" "$@" &
	local pid=$! ok=0
	for _ in $(seq 100); do
		grep -q 'Initialization Sequence Completed' "$WORK/ovpn-$n.log" && { ok=1; break; }
		sleep 0.2
	done
	[ $ok = 1 ] || { tail -20 "$WORK/ovpn-$n.log" >&2; die "openvpn $n did not come up"; }
	inC ping -c 3 -i 0.3 -W 2 $net.1 >/dev/null
	inC curl -sS -o /dev/null --max-time 10 "http://$net.1:$HTTP_PORT/"
	sleep 0.5
	kill $pid; wait $pid 2>/dev/null || true
	sleep 0.5
}
px_curl() { # curl args...
	SSLKEYLOGFILE="$WORK/$CAP.keys" ip netns exec $NS_C curl -sS -o /dev/null --max-time 10 \
		--cacert "$WORK/pki/ca.crt" "$@"
	sleep 0.3
}
px_ssh() { # proxycommand
	ip netns exec $NS_C ssh -i "$WORK/ssh/id_ed25519" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o BatchMode=yes -o LogLevel=ERROR -o ProxyCommand="$1" root@$W_IP 'uname -sr; head -c 1500 /etc/services' >/dev/null
	sleep 0.3
}
fam_proxy() {
	px_pki
	px_servers
	local ov="OpenVPN 2.6.14 TLS mode (EC P-256 certs), TCP" tp="tinyproxy 1.11.1" ms="microsocks 1.0.3"

	start_cap openvpn-via-http-connect
	px_openvpn h1 $W_IP 1194 10.213.10 --http-proxy $S_IP 8888
	px_openvpn h2 $W_IP2 443 10.213.11 --http-proxy $S_IP 8888
	stop_cap
	expect tcp $S_IP 8888 openvpn-via-http-connect "CONNECT $W_IP:1194 and $W_IP2:443 through $tp, then OpenVPN TCP (2-byte length + P_CONTROL_HARD_RESET_CLIENT_V2 ...); $ov"
	keep_cap

	start_cap tls-via-http-connect
	px_curl -x http://$S_IP:8888 https://web.example.test/
	px_curl -x http://$S_IP:8888 https://$W_IP/
	px_curl -x http://$S_IP:8888 --tlsv1.2 --tls-max 1.2 https://web.example.test/
	stop_cap
	expect tcp $S_IP 8888 tls-via-http-connect "curl 7.88 -x http://proxy: CONNECT web.example.test:443 / $W_IP:443, then TLS (1.3, one flow 1.2) to python ssl server; $tp"
	keep_cap

	start_cap ssh-via-http-connect
	px_ssh "nc -X connect -x $S_IP:8888 %h %p"
	px_ssh "nc -X connect -x $S_IP:8888 %h %p"
	stop_cap
	expect tcp $S_IP 8888 ssh-via-http-connect "OpenSSH 9.2 client via ProxyCommand 'nc -X connect' (netcat-openbsd): CONNECT $W_IP:22 then SSH-2.0 banner; $tp"
	keep_cap

	start_cap openvpn-via-socks5
	px_openvpn s1 $W_IP 1194 10.213.10 --socks-proxy $S_IP 1080
	printf 'sift\ns0cks\n' >"$WORK/socks-auth"
	px_openvpn s2 $W_IP2 443 10.213.11 --socks-proxy $S_IP 9999 "$WORK/socks-auth"
	stop_cap
	expect tcp $S_IP 1080 openvpn-via-socks5 "SOCKS5 no-auth CONNECT $W_IP:1194 then OpenVPN TCP; $ms; $ov"
	expect tcp $S_IP 9999 openvpn-via-socks5 "SOCKS5 username/password auth (RFC 1929) CONNECT $W_IP2:443 then OpenVPN TCP; $ms; $ov"
	keep_cap

	start_cap tls-via-socks5
	px_curl --socks5 $S_IP:1080 https://$W_IP/
	px_curl --socks5-hostname $S_IP:1080 https://web.example.test/
	px_curl --socks5-hostname sift:s0cks@$S_IP:9999 https://web.example.test/
	stop_cap
	expect tcp $S_IP 1080 tls-via-socks5 "curl --socks5 (ATYP IPv4) / --socks5-hostname (ATYP domain) then TLS 1.3; $ms"
	expect tcp $S_IP 9999 tls-via-socks5 "curl --socks5-hostname with username/password auth then TLS 1.3; $ms"
	keep_cap

	start_cap ssh-via-socks5
	px_ssh "nc -X 5 -x $S_IP:1080 %h %p"
	stop_cap
	expect tcp $S_IP 1080 ssh-via-socks5 "OpenSSH 9.2 via 'nc -X 5' SOCKS5 CONNECT $W_IP:22; $ms"
	keep_cap
}

#MAIN
# (VF_LIB=1: only define the functions, for interactive debugging)
[ "${VF_LIB:-0}" = 1 ] && return 0

# ================================================================== main ==
WORK=$(mktemp -d /tmp/vf-record.XXXXXX)
exec 9>/run/vf-record.lock
flock -n 9 || die "another record.sh run is active"
ensure_packages
[ -c /dev/net/tun ] || die "/dev/net/tun missing"
make_netns
make_www

run_family openconnect fam_openconnect
run_family softether   fam_softether
run_family tor         fam_tor
run_family tinc        fam_tinc
run_family n2n         fam_n2n
run_family iodine      fam_iodine
run_family dns         fam_dns
run_family proxy       fam_proxy

# merge expected rows of the captures recorded in this run into expected.csv
HDR='capture,transport,client_ip,client_port,server_ip,server_port,label,details'
if [ -d "$WORK/exp" ]; then
	{
		[ -f "$OUT/expected.csv" ] && tail -n +2 "$OUT/expected.csv" | while IFS= read -r line; do
			c=${line%%,*}; [ -e "$WORK/exp/${c%.pcap}.csv" ] || echo "$line"; done
		for f in "$WORK"/exp/*.csv; do
			[ -e "$OUT/$(basename "${f%.csv}").pcap" ] && cat "$f"
		done
	} | sort -t, -k1,1 -s >"$WORK/expected.new"
	{ echo "$HDR"; cat "$WORK/expected.new"; } >"$OUT/expected.csv"
fi
python3 "$OUT/summarize.py" || log "WARNING: summarize.py failed"
# verify.txt: conversations of every capture in the directory
{
	echo "# tshark -q -z conv,tcp -z conv,udp for every capture (made by record.sh)"
	for f in "$OUT"/*.pcap; do
		echo; echo "################ $(basename "$f") ($(stat -c %s "$f") bytes)"
		tshark -r "$f" -q -z conv,tcp -z conv,udp 2>/dev/null | grep -v '^=*$' | grep -v '^Filter:<No Filter>' || true
	done
} >"$OUT/verify.txt"
if [ ${#FAILED[@]} != 0 ]; then log "failed families: ${FAILED[*]}"; exit 1; fi
log "done"
