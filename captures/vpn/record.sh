#!/usr/bin/env bash
# Record small, real VPN captures (OpenVPN, WireGuard, strongSwan IKE/ESP)
# between two network namespaces, verify them with tshark and write
# expected.csv / verify.txt next to this script.
#
#   bash captures/vpn/record.sh            # record everything
#   bash captures/vpn/record.sh 'openvpn'  # only captures whose name matches the regex
#   WG_REKEY=0 bash captures/vpn/record.sh # skip the ~2.5 min WireGuard rekey capture
#
# Needs root. All traffic stays inside the namespaces vpn-cli / vpn-srv
# (veth vc0 10.202.0.1 <-> vs0 10.202.0.2); everything the script creates
# (namespaces, daemons, temp dir) is removed on exit, also on failure.
set -Eeuo pipefail

OUT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ONLY="${1:-.}"
WG_REKEY="${WG_REKEY:-1}"

NS_C=vpn-cli
NS_S=vpn-srv
VETH_C=vc0
VETH_S=vs0
C_IP=10.202.0.1
S_IP=10.202.0.2
# inner (tunnel) addresses; they only exist inside the two namespaces
OVPN_NET=10.202.1.0
OVPN_S=10.202.1.1
OVPN_C=10.202.1.2
IPSEC_C=10.202.2.1
IPSEC_S=10.202.3.1
WG_S=10.202.4.1
WG_C=10.202.4.2
HTTP_PORT=8080
BLOB_SIZE=16384

WORK=""
TCPDUMP_PID=""
CAP_NAME=""
CAP_SUB=""
declare -A META=()      # capture name -> "kind|decode-as|tshark prefs|details"
ORDER=()                # capture names in recording order
FAILED=()

log() { printf '[record] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- setup ----
[ "$(id -u)" = 0 ] || die "must run as root"

wait_apt() {
	local said=0
	while pgrep -x apt-get >/dev/null || pgrep -x dpkg >/dev/null; do
		[ $said = 1 ] || log "waiting for a running apt-get/dpkg to finish"
		said=1
		sleep 3
	done
}

ensure_packages() {
	# strongswan-charon (not the 'strongswan' metapackage) so no init script
	# starts a charon in the host namespace.
	local pkgs=(openvpn openssl wireguard-tools wireguard-go strongswan-charon
		strongswan-swanctl libstrongswan-standard-plugins libcharon-extra-plugins
		tcpdump tshark iproute2 iputils-ping curl python3 util-linux procps ethtool)
	local missing=() p
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} = 0 ] && return 0
	log "installing: ${missing[*]}"
	wait_apt
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"; then
		wait_apt
		apt-get update
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
	fi
}

ensure_tun() {
	if [ ! -c /dev/net/tun ]; then
		mkdir -p /dev/net
		mknod /dev/net/tun c 10 200
		chmod 0666 /dev/net/tun
	fi
}

# Kill whatever runs in our namespaces (only processes this script started
# live there) and delete them. Safe to call any time.
teardown() {
	(
		set +e
		for ns in "$NS_C" "$NS_S"; do
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
		done
		rm -f /var/run/wireguard/wgc.sock /var/run/wireguard/wgs.sock
	) || true
}

on_exit() {
	local rc=$?
	trap - EXIT
	teardown
	[ -n "$WORK" ] && rm -rf "$WORK"
	if [ $rc != 0 ]; then log "FAILED (exit $rc); namespaces and temp files removed"; fi
	exit $rc
}
on_signal() {
	[ -n "$CAP_SUB" ] && kill "$CAP_SUB" 2>/dev/null
	exit 130
}
trap on_exit EXIT
trap on_signal INT TERM HUP

wait_for() { # seconds description command...
	local secs=$1 what=$2 i
	shift 2
	for ((i = 0; i < secs * 10; i++)); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.1
	done
	log "timeout after ${secs}s waiting for $what"
	return 1
}

setup_ns() {
	teardown
	ip netns add "$NS_C"
	ip netns add "$NS_S"
	local ns
	for ns in "$NS_C" "$NS_S"; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
		ip netns exec "$ns" ip link set lo up
	done
	ip link add "$VETH_C" netns "$NS_C" type veth peer name "$VETH_S" netns "$NS_S"
	ip netns exec "$NS_C" ip addr add "$C_IP/24" dev "$VETH_C"
	ip netns exec "$NS_S" ip addr add "$S_IP/24" dev "$VETH_S"
	# no checksum/segmentation offload: the pcap then holds real checksums and
	# wire-sized segments
	ip netns exec "$NS_C" ethtool -K "$VETH_C" tx off tso off gso off gro off >/dev/null 2>&1 || true
	ip netns exec "$NS_S" ethtool -K "$VETH_S" tx off tso off gso off gro off >/dev/null 2>&1 || true
	ip netns exec "$NS_C" ip link set "$VETH_C" up
	ip netns exec "$NS_S" ip link set "$VETH_S" up
	# small HTTP server for the TCP transfer through the tunnels
	ip netns exec "$NS_S" /usr/bin/python3 -m http.server "$HTTP_PORT" --bind 0.0.0.0 \
		--directory "$WORK/www" >"$WORK/http.log" 2>&1 &
	wait_for 10 "http server" ip netns exec "$NS_S" bash -c "exec 3<>/dev/tcp/127.0.0.1/$HTTP_PORT"
	ip netns exec "$NS_C" ping -c 1 -W 2 "$S_IP" >/dev/null
	sleep 0.3
}

cap_start() { # file-name
	CAP_NAME=$1
	rm -f "$WORK/cap.pcap" "$WORK/tcpdump.log"
	ip netns exec "$NS_C" tcpdump -U -s0 -Z root -i "$VETH_C" -w "$WORK/cap.pcap" 2>"$WORK/tcpdump.log" &
	TCPDUMP_PID=$!
	wait_for 10 tcpdump grep -q 'listening on' "$WORK/tcpdump.log"
	sleep 0.2
}

cap_stop() {
	sleep 0.5
	kill -INT "$TCPDUMP_PID"
	wait "$TCPDUMP_PID" || true
	TCPDUMP_PID=""
	mv -f "$WORK/cap.pcap" "$OUT/$CAP_NAME"
	log "$CAP_NAME: $(stat -c %s "$OUT/$CAP_NAME") bytes"
}

stop_pid() { # pid -- SIGTERM and wait
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

tunnel_traffic() { # server-inner-ip [client-inner-source-ip] [ping-count]
	local dst=$1 src=${2:-} n=${3:-5}
	local pingsrc=() cursrc=()
	[ -n "$src" ] && pingsrc=(-I "$src") && cursrc=(--interface "$src")
	ip netns exec "$NS_C" ping -n -c "$n" -i 0.5 -W 2 "${pingsrc[@]}" "$dst" >>"$WORK/ping.log"
	rm -f "$WORK/got.bin"
	ip netns exec "$NS_C" curl -sS --noproxy '*' --max-time 20 "${cursrc[@]}" \
		-o "$WORK/got.bin" "http://$dst:$HTTP_PORT/blob.bin"
	cmp -s "$WORK/got.bin" "$WORK/www/blob.bin" || die "HTTP transfer through tunnel corrupted"
}

want() { [[ $1 =~ $ONLY ]]; }

run_capture() { # name function args... ; records failures, keeps going
	local name=$1
	shift
	want "$name" || return 0
	log "=== $name"
	local rc
	set +e
	# in the background so that a signal to this script is handled at once
	(
		set -e
		"$@"
	) &
	CAP_SUB=$!
	wait "$CAP_SUB"
	rc=$?
	CAP_SUB=""
	set -e
	if [ $rc = 0 ]; then
		ORDER+=("$name")
	else
		log "!!! $name FAILED"
		FAILED+=("$name")
		rm -f "$OUT/$name"
		teardown
	fi
}

# -------------------------------------------------------------- OpenVPN ----
make_pki() {
	local d=$WORK/pki
	mkdir -p "$d"
	cd "$d"
	cat >ext.cnf <<-'EOF'
		[ca]
		basicConstraints = critical,CA:TRUE
		keyUsage = critical,keyCertSign,cRLSign
		subjectKeyIdentifier = hash
		[server]
		basicConstraints = CA:FALSE
		keyUsage = critical,digitalSignature
		extendedKeyUsage = serverAuth
		[client]
		basicConstraints = CA:FALSE
		keyUsage = critical,digitalSignature
		extendedKeyUsage = clientAuth
	EOF
	local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
	openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.crt -days 3650 \
		-subj /CN=sift-test-ca -config /dev/null -extensions ca -extfile ext.cnf 2>/dev/null ||
		openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.crt -days 3650 -subj /CN=sift-test-ca 2>/dev/null
	local who
	for who in server client; do
		openssl req "${ec[@]}" -keyout $who.key -out $who.csr -subj "/CN=sift-$who" 2>/dev/null
		openssl x509 -req -in $who.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
			-out $who.crt -days 3650 -extfile ext.cnf -extensions $who 2>/dev/null
	done
	openssl verify -CAfile ca.crt server.crt client.crt >/dev/null
	openvpn --genkey secret ta.key
	openvpn --genkey secret static.key
	openvpn --genkey tls-crypt-v2-server tc2-server.key
	openvpn --tls-crypt-v2 tc2-server.key --genkey tls-crypt-v2-client tc2-client.key
	cd - >/dev/null
}

# ovpn_run NAME PROTO PORT TRAFFIC_SECONDS  (extra args in SX / CX arrays)
ovpn_run() {
	local name=$1 proto=$2 port=$3 extra_secs=$4
	local k=$WORK/pki srv cli
	setup_ns
	srv=(openvpn --dev tun --proto "$proto" --port "$port" --local "$S_IP"
		--server "$OVPN_NET" 255.255.255.0 --topology subnet
		--ca "$k/ca.crt" --cert "$k/server.crt" --key "$k/server.key" --dh none
		--keepalive 10 60 --disable-dco --verb 3 --log "$WORK/ovpn-srv.log" "${SX[@]}")
	cli=(openvpn --client --dev tun --proto "$proto" --remote "$S_IP" "$port" --nobind
		--ca "$k/ca.crt" --cert "$k/client.crt" --key "$k/client.key" --remote-cert-tls server
		--connect-retry 1 --disable-dco --verb 3 --log "$WORK/ovpn-cli.log" "${CX[@]}")
	[ "$proto" = udp ] && cli+=(--explicit-exit-notify 1)
	ovpn_go "$name" "$extra_secs" "$OVPN_S"
}

ovpn_go() { # name extra_secs server-inner-ip  (uses srv / cli arrays)
	local name=$1 extra_secs=$2 dst=$3 spid cpid ready=${SRV_READY:-Initialization Sequence Completed}
	rm -f "$WORK/ovpn-srv.log" "$WORK/ovpn-cli.log"
	ip netns exec "$NS_S" "${srv[@]}" &
	spid=$!
	wait_for 15 "openvpn server" grep -qE "$ready" "$WORK/ovpn-srv.log" ||
		{ tail -20 "$WORK/ovpn-srv.log" >&2; return 1; }
	cap_start "$name"
	ip netns exec "$NS_C" "${cli[@]}" &
	cpid=$!
	if ! wait_for 30 "openvpn client" grep -q 'Initialization Sequence Completed' "$WORK/ovpn-cli.log"; then
		tail -20 "$WORK/ovpn-cli.log" >&2
		tail -20 "$WORK/ovpn-srv.log" >&2
		return 1
	fi
	tunnel_traffic "$dst"
	if [ "$extra_secs" -gt 0 ]; then
		ip netns exec "$NS_C" ping -n -c "$extra_secs" -i 1 -W 2 "$dst" >>"$WORK/ping.log"
		tunnel_traffic "$dst" "" 3
	fi
	stop_pid "$cpid"
	sleep 1
	cap_stop
	stop_pid "$spid"
	grep -E 'Data Channel: cipher|Outgoing Data Channel|Incoming Data Channel|Control Channel:|soft reset|DEPRECATED|WARNING' \
		"$WORK/ovpn-cli.log" "$WORK/ovpn-srv.log" | sed "s|$WORK/||" >"$OUT/.log-$name" || true
	teardown
}

ovpn() { # name proto port secs SX... -- CX...
	local name=$1 proto=$2 port=$3 secs=$4
	shift 4
	SX=()
	CX=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do SX+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	CX=("$@")
	ovpn_run "$name" "$proto" "$port" "$secs"
}

ovpn_static() { # name: point-to-point static key mode (--secret)
	local name=$1 k=$WORK/pki srv cli
	setup_ns
	srv=(openvpn --dev tun --proto udp --port 1194 --local "$S_IP"
		--secret "$k/static.key" 0 --cipher AES-256-CBC --auth SHA256
		--ifconfig "$OVPN_S" "$OVPN_C" --ping 2 --disable-dco --verb 3 --log "$WORK/ovpn-srv.log")
	cli=(openvpn --dev tun --proto udp --remote "$S_IP" 1194 --nobind
		--secret "$k/static.key" 1 --cipher AES-256-CBC --auth SHA256
		--ifconfig "$OVPN_C" "$OVPN_S" --ping 2 --explicit-exit-notify 1
		--disable-dco --verb 3 --log "$WORK/ovpn-cli.log")
	SRV_READY="link local \\(bound\\)" ovpn_go "$name" 0 "$OVPN_S"
}

# ------------------------------------------------------------ WireGuard ----
wg_run() { # name server-port extra-idle-seconds
	local name=$1 port=$2 idle=$3 spid cpid
	setup_ns
	local d=$WORK/wg
	mkdir -p "$d"
	(umask 077 && wg genkey >"$d/s.key" && wg genkey >"$d/c.key")
	wg pubkey <"$d/s.key" >"$d/s.pub"
	wg pubkey <"$d/c.key" >"$d/c.pub"
	mkdir -p /var/run/wireguard
	ip netns exec "$NS_S" env WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 \
		wireguard-go -f wgs >"$WORK/wgs.log" 2>&1 &
	spid=$!
	ip netns exec "$NS_C" env WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 \
		wireguard-go -f wgc >"$WORK/wgc.log" 2>&1 &
	cpid=$!
	wait_for 10 "wireguard-go sockets" test -S /var/run/wireguard/wgs.sock -a -S /var/run/wireguard/wgc.sock
	ip netns exec "$NS_S" wg set wgs listen-port "$port" private-key "$d/s.key" \
		peer "$(cat "$d/c.pub")" allowed-ips "$WG_C/32"
	ip netns exec "$NS_S" ip addr add "$WG_S/24" dev wgs
	ip netns exec "$NS_S" ip link set wgs up
	ip netns exec "$NS_C" ip addr add "$WG_C/24" dev wgc
	ip netns exec "$NS_C" ip link set wgc up
	cap_start "$name"
	ip netns exec "$NS_C" wg set wgc private-key "$d/c.key" \
		peer "$(cat "$d/s.pub")" endpoint "$S_IP:$port" allowed-ips "$WG_S/32" persistent-keepalive 1
	tunnel_traffic "$WG_S"
	sleep "$idle" # keepalives every second
	ip netns exec "$NS_C" wg show wgc >"$OUT/.log-$name" 2>&1 || true
	cap_stop
	stop_pid "$cpid"
	stop_pid "$spid"
	teardown
}

# ----------------------------------------------------- strongSwan IKE/ESP --
sw_files() { # side(cli|srv) version encap
	local side=$1 ver=$2 encap=$3 d=$WORK/sw-$1
	local me peer myin peerin
	if [ "$side" = cli ]; then
		me=$C_IP peer=$S_IP myin=$IPSEC_C peerin=$IPSEC_S
	else
		me=$S_IP peer=$C_IP myin=$IPSEC_S peerin=$IPSEC_C
	fi
	mkdir -p "$d"
	cat >"$d/strongswan.conf" <<-EOF
		charon {
		  # kernel-libipsec first: the kernel has no ESP (xfrm) transform,
		  # so ESP is done in userspace over a TUN device (ipsec0)
		  load = random nonce openssl pem pkcs1 x509 pubkey revocation constraints hmac sha1 sha2 aes gmp kdf kernel-libipsec kernel-netlink socket-default vici updown
		  install_routes = yes
		  install_virtual_ip = no
		  retransmit_tries = 3
		  plugins {
		    vici {
		      socket = unix://$d/charon.vici
		    }
		  }
		  filelog {
		    main {
		      path = $d/charon.log
		      default = 1
		      ike = 2
		      esp = 2
		      net = 1
		    }
		  }
		}
		swanctl {
		  load = pem pkcs1 x509 revocation constraints pubkey openssl random
		}
	EOF
	cat >"$d/swanctl.conf" <<-EOF
		connections {
		  sift {
		    version = $ver
		    local_addrs = $me
		    remote_addrs = $peer
		    encap = $encap
		    proposals = aes128-sha256-modp2048
		    local {
		      auth = psk
		      id = $me
		    }
		    remote {
		      auth = psk
		      id = $peer
		    }
		    children {
		      net {
		        local_ts = $myin/32
		        remote_ts = $peerin/32
		        mode = tunnel
		        esp_proposals = aes128-sha256
		        start_action = none
		      }
		    }
		  }
		}
		secrets {
		  ike-sift {
		    id-1 = $C_IP
		    id-2 = $S_IP
		    secret = "sift-test-psk-not-secret"
		  }
		}
	EOF
}

sw_start() { # side ns  -> echoes pid
	local side=$1 ns=$2 d=$WORK/sw-$1
	# charon's pid file is hard-wired to /var/run/charon.pid: give each
	# daemon a private mount namespace with its own tmpfs on /run
	STRONGSWAN_CONF=$d/strongswan.conf ip netns exec "$ns" \
		unshare --mount --propagation private \
		/bin/sh -c 'mount -t tmpfs -o size=1m,mode=0755 tmpfs /run && exec /usr/lib/ipsec/charon' \
		>"$d/charon.out" 2>&1 &
	SW_PID=$!
	wait_for 15 "charon $side vici socket" test -S "$d/charon.vici"
	STRONGSWAN_CONF=$d/strongswan.conf swanctl --load-conns --file "$d/swanctl.conf" --uri "unix://$d/charon.vici" >>"$d/swanctl.out" 2>&1
	STRONGSWAN_CONF=$d/strongswan.conf swanctl --load-creds --file "$d/swanctl.conf" --uri "unix://$d/charon.vici" >>"$d/swanctl.out" 2>&1
}

sw_ctl() { # side args...
	local side=$1 d=$WORK/sw-$1
	shift
	STRONGSWAN_CONF=$d/strongswan.conf swanctl "$@" --uri "unix://$d/charon.vici"
}

ipsec_run() { # name ike-version encap(yes|no)
	local name=$1 ver=$2 encap=$3 spid cpid
	setup_ns
	ip netns exec "$NS_C" ip addr add "$IPSEC_C/32" dev lo
	ip netns exec "$NS_S" ip addr add "$IPSEC_S/32" dev lo
	rm -rf "$WORK/sw-cli" "$WORK/sw-srv"
	sw_files cli "$ver" "$encap"
	sw_files srv "$ver" "$encap"
	sw_start srv "$NS_S"
	spid=$SW_PID
	sw_start cli "$NS_C"
	cpid=$SW_PID
	cap_start "$name"
	sw_ctl cli --initiate --child net --timeout 20 >"$WORK/sw-cli/initiate.out" 2>&1 ||
		{ cat "$WORK/sw-cli/initiate.out" >&2; tail -30 "$WORK/sw-cli/charon.log" >&2; return 1; }
	wait_for 10 "ipsec0 route" ip netns exec "$NS_C" bash -c "ip route show table all | grep -q $IPSEC_S"
	tunnel_traffic "$IPSEC_S" "$IPSEC_C"
	sw_ctl cli --list-sas >"$OUT/.log-$name" 2>&1 || true
	sw_ctl cli --terminate --ike sift --timeout 10 >/dev/null 2>&1 || true
	sleep 0.5
	cap_stop
	grep -hE 'NAT|UDP encap|kernel-libipsec|established|CHILD_SA' "$WORK/sw-cli/charon.log" |
		head -30 >>"$OUT/.log-$name" || true
	stop_pid "$cpid"
	stop_pid "$spid"
	teardown
}

# ------------------------------------------------------------- verify ------
# META[name]="kind|decode-as|tshark -o prefs|details"
tsh() { tshark -n "$@" 2>/dev/null; }

flows() { # pcap -> transport,client_ip,client_port,server_ip,server_port (first-seen order)
	tsh -r "$1" -Y '(udp or tcp or esp) and not icmp' -T fields -E separator=, -E occurrence=f \
		-e ip.src -e ip.dst -e ip.proto -e udp.srcport -e udp.dstport -e tcp.srcport -e tcp.dstport |
		awk -F, -v c="$C_IP" '
			{ if ($3 == 17) { t = "udp"; sp = $4; dp = $5 }
			  else if ($3 == 6) { t = "tcp"; sp = $6; dp = $7 }
			  else if ($3 == 50) { t = "esp"; sp = 0; dp = 0 }
			  else next
			  if ($1 == c) k = t "," $1 "," sp "," $2 "," dp
			  else k = t "," $2 "," dp "," $1 "," sp
			  if (!(k in seen)) { seen[k] = 1; print k } }'
}

uniq_vals() { tr ',' '\n' | sort -u | grep -v '^$' | paste -sd' ' -; }

exch_names() { # isakmp.exchangetype numbers -> names, first-seen order
	awk 'BEGIN { n[2] = "MainMode"; n[4] = "Aggressive"; n[5] = "Informational"; n[32] = "QuickMode"
	             n[34] = "IKE_SA_INIT"; n[35] = "IKE_AUTH"; n[36] = "CREATE_CHILD_SA"; n[37] = "INFORMATIONAL" }
	     $1 != "" && !($1 in s) { s[$1] = 1; o = o (o == "" ? "" : "+") ($1 in n ? n[$1] : $1) }
	     END { print o }'
}

verify_one() { # name -> appends to verify.txt and expected.csv
	local name=$1 f=$OUT/$1 kind da details
	local prefs
	IFS='|' read -r kind da prefs details <<<"${META[$name]}"
	local dargs=() p
	[ -n "$da" ] && dargs=(-d "$da")
	for p in $prefs; do dargs+=(-o "$p"); done
	{
		echo "=== $name ($(stat -c %s "$f") bytes, $(tsh -r "$f" -T fields -e frame.number | wc -l) packets)"
		tsh -r "$f" -q -z conv,udp -z conv,tcp | grep -E '<->' | sed 's/^/  /'
		case $kind in
		openvpn)
			local filt=openvpn
			echo "  openvpn packets: $(tsh -r "$f" "${dargs[@]}" -Y openvpn | wc -l)"
			echo "  opcodes: $(tsh -r "$f" "${dargs[@]}" -Y openvpn -T fields -e openvpn.opcode | uniq_vals)"
			echo "  key ids: $(tsh -r "$f" "${dargs[@]}" -Y openvpn -T fields -e openvpn.keyid | uniq_vals)"
			echo "  malformed: $(tsh -r "$f" "${dargs[@]}" -Y _ws.malformed | wc -l), TLS ClientHello/ServerHello decoded: $(tsh -r "$f" "${dargs[@]}" -Y 'tls.handshake.type == 1 || tls.handshake.type == 2' | wc -l)"
			local n1 n1bad
			n1=$(tsh -r "$f" -d "$da" -Y 'openvpn.keyid > 0 && openvpn.opcode != 9 && openvpn.opcode != 6' | wc -l)
			if [ "$n1" -gt 0 ]; then
				n1bad=$(tsh -r "$f" -d "$da" -o openvpn.tls_crypt:TRUE -Y 'openvpn.keyid > 0 && openvpn.opcode != 9 && _ws.malformed' | wc -l)
				echo "  renegotiation control packets (key id > 0): $n1, of which $((n1 - n1bad)) parse cleanly as tls-crypt (2.6 dynamic tls-crypt)"
			fi
			if [[ $name == *cbc-sha1* ]]; then
				echo "  P_DATA_V2 payloads of form 4+20(HMAC-SHA1)+16(IV)+16*n: $(tsh -r "$f" -d "$da" -Y 'openvpn.opcode == 9' -T fields -e udp.length | awk '{ l = $1 - 8; if ((l - 40) % 16 == 0) ok++ } END { print ok + 0 }') of $(tsh -r "$f" -d "$da" -Y 'openvpn.opcode == 9' | wc -l)"
			fi
			echo "  first packets:"
			tsh -r "$f" "${dargs[@]}" -Y "$filt" | head -4 | sed 's/^/    /'
			;;
		openvpn-static)
			# static key, --auth SHA256 --cipher AES-256-CBC: HMAC(32) | IV(16) | CBC blocks
			echo "  udp payload sizes: $(tsh -r "$f" -Y udp -T fields -e udp.length | awk '{print $1 - 8}' | uniq_vals)"
			echo "  payloads of form 32+16+16*n: $(tsh -r "$f" -Y udp -T fields -e udp.length | awk '{ l = $1 - 8; if (l >= 64 && (l - 48) % 16 == 0) ok++ } END { print ok + 0 }') of $(tsh -r "$f" -Y udp | wc -l)"
			;;
		wireguard)
			echo "  wg packets: $(tsh -r "$f" "${dargs[@]}" -Y wg | wc -l)"
			echo "  wg types: $(tsh -r "$f" "${dargs[@]}" -Y wg -T fields -e wg.type | sort | uniq -c | awk '{printf "%s x%s  ", $2, $1}')"
			echo "  malformed: $(tsh -r "$f" "${dargs[@]}" -Y _ws.malformed | wc -l)"
			echo "  handshake initiations: $(tsh -r "$f" "${dargs[@]}" -Y 'wg.type == 1' | wc -l), keepalives: $(tsh -r "$f" "${dargs[@]}" -Y wg.keepalive | wc -l)"
			;;
		ipsec)
			echo "  isakmp packets: $(tsh -r "$f" -Y isakmp | wc -l), esp packets: $(tsh -r "$f" -Y esp | wc -l)"
			echo "  isakmp exchanges: $(tsh -r "$f" -Y isakmp -T fields -e isakmp.exchangetype | exch_names)"
			echo "  malformed: $(tsh -r "$f" -Y _ws.malformed | wc -l)"
			echo "  esp spis: $(tsh -r "$f" -Y esp -T fields -e esp.spi | uniq_vals)"
			echo "  transports of esp: $(tsh -r "$f" -Y esp -T fields -e frame.protocols | sed 's/:esp.*//' | uniq_vals)"
			;;
		esac
		[ -f "$OUT/.log-$name" ] && sed 's/^/  | /' "$OUT/.log-$name"
	} >>"$VERIFY_TXT"
	rm -f "$OUT/.log-$name"
	local kids inits
	kids=$(tsh -r "$f" "${dargs[@]}" -Y openvpn -T fields -e openvpn.keyid | uniq_vals)
	inits=$(tsh -r "$f" "${dargs[@]}" -Y 'wg.type == 1' | wc -l)
	details=${details//%KEYIDS%/$kids}
	details=${details//%WGINIT%/$inits}
	local t cip cp sip sp app d
	while IFS=, read -r t cip cp sip sp; do
		app=${kind%-static} d=$details
		case $kind in
		ipsec)
			local spis
			spis=$(tsh -r "$f" -Y "esp and udp.port == $sp" -T fields -e esp.spi | uniq_vals | sed 's/ / \/ /g')
			if [ "$t" = esp ]; then
				spis=$(tsh -r "$f" -Y "esp and not udp" -T fields -e esp.spi | uniq_vals | sed 's/ / \/ /g')
				app=esp d="raw ESP (IP proto 50) SPIs $spis"
			elif [ "$sp" = 500 ]; then
				app=ike d="$details; IKE on 500 ($(tsh -r "$f" -Y "isakmp and udp.port == 500" -T fields -e isakmp.exchangetype | exch_names))"
			elif [ -n "$spis" ]; then
				app=esp d="ESP-in-UDP SPIs $spis; IKE ($(tsh -r "$f" -Y "isakmp and udp.port == $sp" -T fields -e isakmp.exchangetype | exch_names)) shares this flow behind the non-ESP marker"
			else
				app=ike
			fi
			;;
		esac
		printf '%s,%s,%s,%s,%s,%s,%s,%s\n' "$name" "$t" "$cip" "$cp" "$sip" "$sp" "$app" "${d//,/;}" >>"$EXPECTED_CSV"
	done < <(flows "$f")
}

# ------------------------------------------------------------- main --------
ensure_packages
ensure_tun
teardown
WORK=$(mktemp -d /tmp/vpn-record.XXXXXX)
chmod 755 "$WORK"
mkdir -p "$WORK/www"
head -c "$BLOB_SIZE" /dev/urandom >"$WORK/www/blob.bin"
make_pki

K=$WORK/pki
META[openvpn-udp-1194-tlsauth-sha256.pcap]="openvpn|udp.port==1194,openvpn|openvpn.tls_auth_detection_override:TRUE openvpn.tls_auth:TRUE openvpn.tls_auth_hmac_size:32|tls-auth sha256 hmac 32; data AES-256-GCM"
run_capture openvpn-udp-1194-tlsauth-sha256.pcap ovpn openvpn-udp-1194-tlsauth-sha256.pcap udp 1194 0 \
	--tls-auth "$K/ta.key" 0 --auth SHA256 -- --tls-auth "$K/ta.key" 1 --auth SHA256
META[openvpn-udp-1194-tlsauth-sha1.pcap]="openvpn|udp.port==1194,openvpn|openvpn.tls_auth_detection_override:TRUE openvpn.tls_auth:TRUE openvpn.tls_auth_hmac_size:20|tls-auth sha1 hmac 20; data AES-256-GCM"
run_capture openvpn-udp-1194-tlsauth-sha1.pcap ovpn openvpn-udp-1194-tlsauth-sha1.pcap udp 1194 0 \
	--tls-auth "$K/ta.key" 0 --auth SHA1 -- --tls-auth "$K/ta.key" 1 --auth SHA1
META[openvpn-udp-1194-tlsauth-sha512.pcap]="openvpn|udp.port==1194,openvpn|openvpn.tls_auth_detection_override:TRUE openvpn.tls_auth:TRUE openvpn.tls_auth_hmac_size:64|tls-auth sha512 hmac 64; data AES-256-GCM"
run_capture openvpn-udp-1194-tlsauth-sha512.pcap ovpn openvpn-udp-1194-tlsauth-sha512.pcap udp 1194 0 \
	--tls-auth "$K/ta.key" 0 --auth SHA512 -- --tls-auth "$K/ta.key" 1 --auth SHA512
META[openvpn-udp-1194-plain.pcap]="openvpn|udp.port==1194,openvpn||no tls-auth (plain control channel); data AES-256-GCM"
run_capture openvpn-udp-1194-plain.pcap ovpn openvpn-udp-1194-plain.pcap udp 1194 0 --
META[openvpn-udp-53-tlscrypt.pcap]="openvpn|udp.port==53,openvpn|openvpn.tls_crypt:TRUE|tls-crypt on port 53; data AES-256-GCM"
run_capture openvpn-udp-53-tlscrypt.pcap ovpn openvpn-udp-53-tlscrypt.pcap udp 53 0 \
	--tls-crypt "$K/ta.key" -- --tls-crypt "$K/ta.key"
META[openvpn-udp-443-tlscryptv2.pcap]="openvpn|udp.port==443,openvpn|openvpn.tls_crypt:TRUE|tls-crypt-v2 (HARD_RESET_CLIENT_V3 with wrapped client key) on port 443; data AES-256-GCM"
run_capture openvpn-udp-443-tlscryptv2.pcap ovpn openvpn-udp-443-tlscryptv2.pcap udp 443 0 \
	--tls-crypt-v2 "$K/tc2-server.key" -- --tls-crypt-v2 "$K/tc2-client.key"
META[openvpn-tcp-443-tlsauth.pcap]="openvpn|tcp.port==443,openvpn|openvpn.tls_auth_detection_override:TRUE openvpn.tls_auth:TRUE openvpn.tls_auth_hmac_size:32|TCP (2-byte length prefix) on port 443; tls-auth sha256 hmac 32; data AES-256-GCM"
run_capture openvpn-tcp-443-tlsauth.pcap ovpn openvpn-tcp-443-tlsauth.pcap tcp 443 0 \
	--tls-auth "$K/ta.key" 0 --auth SHA256 -- --tls-auth "$K/ta.key" 1 --auth SHA256
META[openvpn-tcp-1194-tlscrypt.pcap]="openvpn|tcp.port==1194,openvpn|openvpn.tls_crypt:TRUE|TCP (2-byte length prefix); tls-crypt; data AES-256-GCM"
run_capture openvpn-tcp-1194-tlscrypt.pcap ovpn openvpn-tcp-1194-tlscrypt.pcap tcp 1194 0 \
	--tls-crypt "$K/ta.key" -- --tls-crypt "$K/ta.key"
META[openvpn-udp-5000-cipher-chacha.pcap]="openvpn|udp.port==5000,openvpn||no tls-auth; data CHACHA20-POLY1305 on port 5000"
run_capture openvpn-udp-5000-cipher-chacha.pcap ovpn openvpn-udp-5000-cipher-chacha.pcap udp 5000 0 \
	--data-ciphers CHACHA20-POLY1305 -- --data-ciphers CHACHA20-POLY1305
META[openvpn-udp-1194-cipher-aes128cbc-sha1.pcap]="openvpn|udp.port==1194,openvpn||no tls-auth; data AES-128-CBC + HMAC-SHA1 (20-byte HMAC + IV per data packet)"
run_capture openvpn-udp-1194-cipher-aes128cbc-sha1.pcap ovpn openvpn-udp-1194-cipher-aes128cbc-sha1.pcap udp 1194 0 \
	--data-ciphers AES-128-CBC --auth SHA1 -- --data-ciphers AES-128-CBC --auth SHA1
META[openvpn-udp-1194-reneg.pcap]="openvpn|udp.port==1194,openvpn|openvpn.tls_auth_detection_override:TRUE openvpn.tls_auth:TRUE openvpn.tls_auth_hmac_size:32|tls-auth sha256 hmac 32 on key id 0; reneg-sec 10 (key ids seen: %KEYIDS%); control packets of the renegotiations use 2.6 dynamic tls-crypt wrapping (pid+time then 32-byte HMAC then encrypted)"
run_capture openvpn-udp-1194-reneg.pcap ovpn openvpn-udp-1194-reneg.pcap udp 1194 22 \
	--tls-auth "$K/ta.key" 0 --auth SHA256 --reneg-sec 10 -- --tls-auth "$K/ta.key" 1 --auth SHA256 --reneg-sec 10
META[openvpn-udp-1194-static.pcap]="openvpn-static|||static-key mode (--secret; no TLS; no opcode byte); AES-256-CBC + HMAC-SHA256"
run_capture openvpn-udp-1194-static.pcap ovpn_static openvpn-udp-1194-static.pcap

META[wireguard-udp-51820.pcap]="wireguard|||handshake + data + persistent keepalive 1s"
run_capture wireguard-udp-51820.pcap wg_run wireguard-udp-51820.pcap 51820 5
META[wireguard-udp-443.pcap]="wireguard|udp.port==443,wg||listen port 443; handshake + data + persistent keepalive 1s"
run_capture wireguard-udp-443.pcap wg_run wireguard-udp-443.pcap 443 5
if [ "$WG_REKEY" = 1 ]; then
	META[wireguard-udp-51820-rekey.pcap]="wireguard|||~130 s with keepalive 1s: rekey after REKEY_AFTER_TIME (120 s); %WGINIT% handshake initiations"
	run_capture wireguard-udp-51820-rekey.pcap wg_run wireguard-udp-51820-rekey.pcap 51820 128
fi

META[ipsec-ikev2-natt.pcap]="ipsec|||IKEv2 PSK; encap=yes (forced UDP encapsulation)"
run_capture ipsec-ikev2-natt.pcap ipsec_run ipsec-ikev2-natt.pcap 2 yes
META[ipsec-ikev2.pcap]="ipsec|||IKEv2 PSK; encap=no (kernel-libipsec still forces UDP encapsulation)"
run_capture ipsec-ikev2.pcap ipsec_run ipsec-ikev2.pcap 2 no
META[ipsec-ikev1.pcap]="ipsec|||IKEv1 main mode PSK + quick mode; encap=no (kernel-libipsec still forces UDP encapsulation)"
run_capture ipsec-ikev1.pcap ipsec_run ipsec-ikev1.pcap 1 no

# expected.csv / verify.txt are rebuilt from all pcaps recorded in this run;
# a subset run only prints them
if [ "$ONLY" = . ]; then
	VERIFY_TXT=$OUT/verify.txt EXPECTED_CSV=$OUT/expected.csv
else
	VERIFY_TXT=$WORK/verify.txt EXPECTED_CSV=$WORK/expected.csv
fi
echo 'capture,transport,client_ip,client_port,server_ip,server_port,app_proto,details' >"$EXPECTED_CSV"
{
	echo "# tshark verification of the captures, written by record.sh on $(date -u +%F)"
	echo "# $(openvpn --version | head -1)"
	echo "# wireguard-go $(wireguard-go --version | head -1 | awk '{print $2}'), $(wg --version | awk '{print $1, $2}')"
	echo "# strongSwan $(/usr/lib/ipsec/charon --version 2>&1 | awk '{print $NF}') charon + kernel-libipsec"
	echo "# $(tshark --version 2>/dev/null | head -1), $(tcpdump --version 2>&1 | head -1)"
	echo
} >"$VERIFY_TXT"
for n in "${ORDER[@]}"; do (set +e +o pipefail; verify_one "$n"); done
if [ "$ONLY" != . ]; then
	cat "$VERIFY_TXT" "$EXPECTED_CSV"
fi

ls -l "$OUT"/*.pcap >&2
if [ ${#FAILED[@]} -gt 0 ]; then
	log "failed captures: ${FAILED[*]}"
	exit 1
fi
log "done"
