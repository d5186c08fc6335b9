#!/bin/bash
# init (PID 1) of the user-mode-linux guest booted by record.sh - do not run
# this on the host. The guest's root file system is the host's / via hostfs;
# everything a daemon writes (/etc, /run, /tmp, /var/log, /dev) is overmounted
# with guest-local tmpfs first, so the host is only written to in $vk_run
# (pcaps, logs, status).
#
# Environment (from the kernel command line, see record.sh):
#   vk_run   host directory (seen through hostfs) for pcaps + logs
#   vk_only  extended regex; only captures whose name matches are recorded
#   vk_sstpd path of the sstpd entry point (python venv made by record.sh)
#
# All traffic stays inside two network namespaces of the guest kernel:
#   vkc (client) kc0 10.212.0.1/24 fd00:212::1/64  <->  vks (server) ks0 10.212.0.2/24 fd00:212::2/64
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C LC_ALL=C
RUN="${vk_run:?vk_run not set}"
ONLY="${vk_only:-.}"
SSTPD="${vk_sstpd:-}"
W=/tmp/vk                     # guest-local scratch (tmpfs)
STATUS="$RUN/status.txt"
C=vkc S=vks CD=kc0 SD=ks0
C_IP=10.212.0.1 S_IP=10.212.0.2 C_IP6=fd00:212::1 S_IP6=fd00:212::2
HTTP_PORT=8080

log() { echo "[uml $(date +%T)] $*"; }

# ------------------------------------------------------------ guest setup --
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs -o mode=1777 tmp /tmp
mount -t tmpfs -o mode=755 run /run
mountpoint -q /dev || mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm && mount -t devpts -o ptmxmode=666,newinstance devpts /dev/pts
[ -e /dev/ptmx ] || ln -s pts/ptmx /dev/ptmx
mount -t tmpfs shm /dev/shm
# guest-local copy of /etc (daemon configs are written there) and /var/log
mkdir -p /tmp/etc && cp -a /etc/. /tmp/etc/ && mount --bind /tmp/etc /etc
mount -t tmpfs log /var/log
mkdir -p /run/lock $W
hostname vk-uml

# watchdog: never let the guest (and so record.sh) hang
( sleep "${vk_timeout:-1500}"; echo "[uml] watchdog timeout, powering off"; echo "watchdog timeout" >>"$STATUS"; poweroff -f ) &

# kernel modules of the UML kernel live in /usr/lib/uml/modules/<ver>; give
# modprobe (and the kernel's request_module) a root that has lib/modules/<ver>.
mkdir -p /tmp/m/lib/modules && ln -s "/usr/lib/uml/modules/$(uname -r)" /tmp/m/lib/modules/
printf '#!/bin/sh\nexec /usr/sbin/modprobe -d /tmp/m "$@"\n' >/tmp/m/modprobe && chmod +x /tmp/m/modprobe
echo /tmp/m/modprobe >/proc/sys/kernel/modprobe
for m in veth ipv6 ppp_generic ppp_async ppp_synctty pppox l2tp_core l2tp_ppp ppp_mppe \
         gre ip_gre ip6_gre esp4 esp6 xfrm_user af_key \
         cbc hmac sha1_generic sha256_generic authenc echainiv seqiv gcm ctr ghash_generic libarc4; do
    /tmp/m/modprobe "$m" 2>/dev/null || log "modprobe $m failed (maybe built in)"
done
log "kernel $(uname -r), modules: $(lsmod | awk 'NR>1{print $1}' | tr '\n' ' ')"

# --------------------------------------------------------------- helpers --
cat >/etc/ppp/chap-secrets <<'EOF'
# client   server  secret    addresses
vpnuser    *       vpnpass   *
EOF
chmod 600 /etc/ppp/chap-secrets
: >/etc/ppp/options              # no host defaults
head -c 4096 /dev/urandom >$W/blob 2>/dev/null
mkdir -p $W/www && cp $W/blob $W/www/blob

NSPIDS=()
ns_up() {   # $1 = 1 to enable IPv6 on the outer link
    local v6="${1:-0}"
    ns_down
    ip netns add $C && ip netns add $S || return 1
    ip link add $CD type veth peer name $SD || return 1
    ip link set $CD netns $C && ip link set $SD netns $S
    local ns dev
    for ns in $C $S; do
        ip -n $ns link set lo up
        dev=$([ $ns = $C ] && echo $CD || echo $SD)
        ip netns exec $ns sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=$((1 - v6))"
        ip netns exec $ns sysctl -qw net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 2>/dev/null
        ip netns exec $ns ethtool -K $dev tso off gso off gro off tx off rx off >/dev/null 2>&1
    done
    ip -n $C addr add $C_IP/24 dev $CD
    ip -n $S addr add $S_IP/24 dev $SD
    if [ "$v6" = 1 ]; then
        ip -n $C addr add $C_IP6/64 dev $CD nodad
        ip -n $S addr add $S_IP6/64 dev $SD nodad
    fi
    ip -n $C link set $CD up && ip -n $S link set $SD up
    ip netns exec $C ping -c1 -W2 $S_IP >/dev/null || return 1
    if [ "$v6" = 1 ]; then ip netns exec $C ping -6 -c1 -W2 $S_IP6 >/dev/null || return 1; fi
}
ns_down() {
    local ns p
    for ns in $C $S; do
        [ -e /run/netns/$ns ] || continue
        for p in $(ip netns pids $ns 2>/dev/null); do kill -TERM $p 2>/dev/null; done
    done
    sleep 0.5
    for ns in $C $S; do
        [ -e /run/netns/$ns ] || continue
        for p in $(ip netns pids $ns 2>/dev/null); do kill -KILL $p 2>/dev/null; done
        ip netns del $ns 2>/dev/null
    done
    ip link del $CD 2>/dev/null
    return 0
}
http_up() {  # python http.server in the server namespace, all addresses
    ip netns exec $S python3 -m http.server $HTTP_PORT --bind :: --directory $W/www >$W/http.log 2>&1 &
    local i
    for i in $(seq 50); do
        ip netns exec $S curl -s -o /dev/null http://127.0.0.1:$HTTP_PORT/blob && return 0
        sleep 0.2
    done
    return 1
}
CAP_PID=""
cap_start() {  # $1 = capture name; client-side veth, ARP and ND filtered out
    CAP_FILE="$RUN/$1.pcap"; rm -f "$CAP_FILE"
    ip netns exec $C tcpdump -i $CD -s 0 -U -Z root -w "$CAP_FILE" \
        'not arp and not (icmp6 and (ip6[40] >= 133 and ip6[40] <= 137)) and not (ip6 and ip6[6] == 0)' \
        >$W/tcpdump.log 2>&1 &
    CAP_PID=$!
    local i; for i in $(seq 50); do grep -q listening $W/tcpdump.log && break; sleep 0.2; done
    sleep 0.5
}
cap_stop() {
    sleep 1
    [ -n "$CAP_PID" ] && kill -INT $CAP_PID 2>/dev/null && wait $CAP_PID 2>/dev/null
    CAP_PID=""
}
wait_ppp() {  # $1 = namespace; waits for a pppN with an IPv4 address, prints its name
    local i dev
    for i in $(seq 120); do
        dev=$(ip -n "$1" -o -4 addr show 2>/dev/null | awk '$2 ~ /^ppp/ {print $2; exit}')
        [ -n "$dev" ] && { echo "$dev"; return 0; }
        sleep 0.25
    done
    return 1
}
traffic() {   # $1 = server address inside the tunnel
    ip netns exec $C ping -c 4 -i 0.5 -W 2 "$1" || return 1
    rm -f $W/got
    ip netns exec $C curl -sS --max-time 20 -o $W/got "http://$1:$HTTP_PORT/blob" || return 1
    cmp -s $W/got $W/blob || { log "HTTP copy differs"; return 1; }
    log "ping + HTTP through the tunnel to $1 ok"
}

# ------------------------------------------------------------------ L2TP --
l2tp_conf() {   # $1 = server port, $2 = client port, $3 = dir
    local d=$3; mkdir -p $d
    cat >$d/xl2tpd-srv.conf <<EOF
[global]
listen-addr = $S_IP
port = $1

[lns default]
ip range = 10.212.1.10-10.212.1.20
local ip = 10.212.1.1
require chap = yes
refuse pap = yes
require authentication = yes
name = sift-lns
hostname = sift-lns
length bit = yes
pppoptfile = $d/options.srv
EOF
    cat >$d/options.srv <<EOF
name sift-lns
noccp
mtu 1400
mru 1400
nodefaultroute
lcp-echo-interval 20
lcp-echo-failure 4
logfile $W/pppd-l2tp-srv.log
debug
EOF
    local lns=$S_IP; [ "$1" != 1701 ] && lns="$S_IP:$1"
    cat >$d/xl2tpd-cli.conf <<EOF
[global]
port = $2

[lac sift]
lns = $lns
name = vpnuser
hostname = sift-lac
refuse pap = yes
require authentication = no
length bit = yes
autodial = no
pppoptfile = $d/options.cli
EOF
    cat >$d/options.cli <<EOF
name vpnuser
noauth
noccp
mtu 1400
mru 1400
nodefaultroute
ipcp-accept-local
ipcp-accept-remote
lcp-echo-interval 20
lcp-echo-failure 4
logfile $W/pppd-l2tp-cli.log
debug
EOF
}
l2tp_session() {   # $1 = conf dir, $2 = seconds to stay idle (hellos), $3 = ipsec 0/1
    local d=$1
    ip netns exec $S xl2tpd -D -c $d/xl2tpd-srv.conf -p $d/srv.pid -C $d/srv.ctl >$W/xl2tpd-srv.log 2>&1 &
    ip netns exec $C xl2tpd -D -c $d/xl2tpd-cli.conf -p $d/cli.pid -C $d/cli.ctl >$W/xl2tpd-cli.log 2>&1 &
    local i; for i in $(seq 40); do [ -p $d/cli.ctl ] && [ -p $d/srv.ctl ] && break; sleep 0.25; done
    sleep 0.5
    echo "c sift" >$d/cli.ctl
    local dev; dev=$(wait_ppp $C) || { log "no ppp device in client"; return 1; }
    log "client $dev up: $(ip -n $C -o -4 addr show dev $dev | awk '{print $4, $6}')"
    traffic 10.212.1.1 || return 1
    if [ "${2:-0}" -gt 0 ]; then log "idle $2 s (L2TP HELLO, LCP echo)"; sleep "$2"; fi
    # teardown as a user would: stop the client's pppd (LCP TermReq -> xl2tpd
    # sends CDN for the session), then disconnect the tunnel (StopCCN)
    local p; for p in $(ip netns pids $C); do
        [ "$(cat /proc/$p/comm 2>/dev/null)" = pppd ] && kill -TERM $p
    done
    sleep 3
    echo "d sift" >$d/cli.ctl
    sleep 3
    kill -TERM $(cat $d/cli.pid) 2>/dev/null
    sleep 1
}
cap_l2tp() {   # $1 = name, $2 = server port, $3 = client port, $4 = idle
    ns_up 0 && http_up || return 1
    l2tp_conf "$2" "$3" $W/l2tp
    cap_start "$1"
    l2tp_session $W/l2tp "$4"; local rc=$?
    cap_stop; return $rc
}

# ------------------------------------------------------- L2TP over IPsec --
sw_conf() {  # $1 = cli|srv, $2 = encap yes|no
    local who=$1 d=$W/sw-$1; mkdir -p $d/x509 $d/x509ca $d/private
    cat >$d/strongswan.conf <<EOF
charon {
    load = random nonce aes sha1 sha2 md5 hmac gmp kdf pem pkcs1 x509 pubkey kernel-netlink socket-default vici
    install_routes = no
    install_virtual_ip = no
    retransmit_tries = 3
    plugins {
        vici {
            socket = unix://$d/charon.vici
        }
    }
    filelog {
        vk {
            path = $W/charon-$who.log
            time_format = %T
            default = 1
            ike = 2
            knl = 2
        }
    }
}
swanctl {
    load = pem pkcs1 x509 pubkey random nonce aes sha1 sha2 gmp
}
EOF
    local me=$C_IP peer=$S_IP; [ $who = srv ] && { me=$S_IP; peer=$C_IP; }
    cat >$d/swanctl.conf <<EOF
connections {
    l2tp {
        version = 1
        local_addrs = $me
        $([ $who = cli ] && echo "remote_addrs = $peer")
        proposals = aes256-sha1-modp2048,aes128-sha1-modp2048,aes256-sha1-modp1024
        encap = $2
        dpd_delay = 0
        local {
            auth = psk
            id = $me
        }
        remote {
            auth = psk
            $([ $who = cli ] && echo "id = $peer")
        }
        children {
            l2tp {
                mode = transport
                local_ts = dynamic[udp/1701]
                remote_ts = dynamic[udp/1701]
                esp_proposals = aes256-sha1,aes128-sha1
            }
        }
    }
}
secrets {
    ike-l2tp {
        secret = "sift-l2tp-ipsec-psk"
    }
}
EOF
}
charon_up() {  # $1 = namespace, $2 = cli|srv ; private /run so both charons can run
    local d=$W/sw-$2
    ip netns exec $1 unshare -m --propagation private sh -c \
        "mount -t tmpfs swrun /run && exec env STRONGSWAN_CONF=$d/strongswan.conf /usr/lib/ipsec/charon" \
        >$W/charon-$2.stdout.log 2>&1 &
    local i; for i in $(seq 60); do [ -S $d/charon.vici ] && break; sleep 0.25; done
    sleep 1
    ps -eo pid,args | grep '[c]haron' || { log "charon ($2) is not running"; return 1; }
    STRONGSWAN_CONF=$d/strongswan.conf swanctl --load-all --file $d/swanctl.conf --uri unix://$d/charon.vici
}
cap_l2tp_ipsec() {  # $1 = name, $2 = encap yes|no
    ns_up 0 && http_up || return 1
    sw_conf cli "$2"; sw_conf srv "$2"
    charon_up $S srv && charon_up $C cli || return 1
    l2tp_conf 1701 1701 $W/l2tp
    cap_start "$1"
    STRONGSWAN_CONF=$W/sw-cli/strongswan.conf swanctl --initiate --child l2tp --timeout 30 \
        --uri unix://$W/sw-cli/charon.vici || { cap_stop; return 1; }
    ip -n $C xfrm state >$W/xfrm-state-cli.log
    l2tp_session $W/l2tp 0; local rc=$?
    STRONGSWAN_CONF=$W/sw-cli/strongswan.conf swanctl --terminate --ike l2tp --timeout 10 \
        --uri unix://$W/sw-cli/charon.vici
    sleep 1
    cap_stop; return $rc
}

# ------------------------------------------------------------------ PPTP --
cap_pptp() {  # $1 = name, $2 = mppe 1/0
    ns_up 0 && http_up || return 1
    local d=$W/pptp; mkdir -p $d
    cat >$d/pptpd.conf <<EOF
option $d/pptpd-options
listen $S_IP
localip 10.212.3.1
remoteip 10.212.3.10-20
EOF
    local enc_s enc_c
    if [ "$2" = 1 ]; then enc_s="require-mppe-128"; enc_c="require-mppe-128"
    else enc_s=$'nomppe\nnoccp'; enc_c=$'nomppe\nnoccp'; fi
    cat >$d/pptpd-options <<EOF
name pptpd
refuse-pap
refuse-chap
refuse-mschap
require-mschap-v2
$enc_s
nobsdcomp
nodeflate
mtu 1400
mru 1400
nodefaultroute
lcp-echo-interval 20
lcp-echo-failure 4
logfile $W/pppd-pptp-srv.log
debug
EOF
    cat >$d/options.cli <<EOF
name vpnuser
remotename pptpd
noauth
refuse-eap
refuse-pap
refuse-chap
refuse-mschap
$enc_c
nobsdcomp
nodeflate
mtu 1400
mru 1400
nodefaultroute
ipcp-accept-local
ipcp-accept-remote
lcp-echo-interval 20
lcp-echo-failure 4
logfile $W/pppd-pptp-cli.log
debug
EOF
    ip netns exec $S pptpd -f -c $d/pptpd.conf -p $d/pptpd.pid >$W/pptpd.log 2>&1 &
    sleep 1
    cap_start "$1"
    ip netns exec $C pppd pty "pptp $S_IP --nolaunchpppd --loglevel 1" file $d/options.cli nodetach \
        >$W/pppd-pptp-cli.stdout.log 2>&1 &
    local ppid=$! rc=0
    wait_ppp $C >/dev/null || { log "pptp: no ppp device"; rc=1; }
    [ $rc = 0 ] && { traffic 10.212.3.1 || rc=1; }
    kill -TERM $ppid 2>/dev/null; wait $ppid 2>/dev/null
    sleep 2
    cap_stop; return $rc
}

# ------------------------------------------------------------------ SSTP --
cap_sstp() {  # $1 = name, $2 = port, $3 = max TLS version of the client (empty = library default)
    [ -x "$SSTPD" ] || { log "sstpd not found at '$SSTPD'"; return 1; }
    ns_up 0 && http_up || return 1
    local d=$W/sstp; mkdir -p $d
    cat >$d/options.sstpd <<EOF
name sstpd
require-mschap-v2
nologfd
noccp
nobsdcomp
nodeflate
mtu 1400
mru 1400
nodefaultroute
lcp-echo-interval 20
lcp-echo-failure 4
logfile $W/pppd-sstp-srv.log
debug
EOF
    ip netns exec $S "$SSTPD" -l $S_IP -p "$2" -c "$RUN/sstp-cert.pem" -k "$RUN/sstp-key.pem" \
        --pppd /usr/sbin/pppd --pppd-config $d/options.sstpd --local 10.212.5.1 \
        --remote 10.212.5.0/24 --range 10.212.5.10-10.212.5.20 -v 10 >$W/sstpd-$2.log 2>&1 &
    local i; for i in $(seq 80); do ip netns exec $S ss -ltn | grep -q ":$2 " && break; sleep 0.25; done
    cap_start "$1"
    local sslconf=/dev/null
    if [ -n "${3:-}" ]; then
        sslconf=$d/openssl-client.cnf
        printf 'openssl_conf = oc\n[oc]\nssl_conf = sc\n[sc]\nsystem_default = sd\n[sd]\nMaxProtocol = %s\n' "$3" >$sslconf
    fi
    ip netns exec $C env OPENSSL_CONF=$sslconf sstpc --log-level 3 --log-stderr --cert-warn --user vpnuser --password vpnpass \
        "$S_IP:$2" noauth noccp nobsdcomp nodeflate mtu 1400 mru 1400 \
        nodefaultroute ipcp-accept-local ipcp-accept-remote logfile $W/pppd-sstp-cli.log debug \
        >$W/sstpc-$2.log 2>&1 &
    local cpid=$! rc=0
    wait_ppp $C >/dev/null || { log "sstp: no ppp device"; rc=1; }
    [ $rc = 0 ] && { traffic 10.212.5.1 || rc=1; }
    kill -TERM $cpid 2>/dev/null; wait $cpid 2>/dev/null
    sleep 2
    cap_stop; return $rc
}

# ------------------------------------------------------------------- GRE --
cap_gre() {  # $1 = name, $2 = type (gre|gretap|ip6gre), $3... = extra ip-link options
    local name=$1 type=$2; shift 2
    local v6=0 lc=$C_IP ls=$S_IP
    [ "$type" = ip6gre ] && { v6=1; lc=$C_IP6; ls=$S_IP6; }
    ns_up $v6 && http_up || return 1
    ip -n $C link add vkg type $type local $lc remote $ls "$@" || return 1
    ip -n $S link add vkg type $type local $ls remote $lc "$@" || return 1
    ip -n $C addr add 10.212.4.1/30 dev vkg && ip -n $S addr add 10.212.4.2/30 dev vkg
    ip netns exec $C sysctl -qw net.ipv6.conf.vkg.disable_ipv6=1
    ip netns exec $S sysctl -qw net.ipv6.conf.vkg.disable_ipv6=1
    ip -n $C link set vkg up && ip -n $S link set vkg up
    ip -n $C -d link show vkg >$W/gre-link.log
    cap_start "$name"
    traffic 10.212.4.2; local rc=$?
    cap_stop; return $rc
}

# ------------------------------------------------------------------ main --
mkdir -p "$RUN/logs"
: >"$STATUS"
run() {  # $1 = capture name, rest = command
    local name=$1; shift
    [[ "$name" =~ $ONLY ]] || return 0
    log "=== $name"
    rm -f $W/*.log
    ( "$@" ) >"$RUN/logs/$name.out" 2>&1; local rc=$?
    if [ $rc != 0 ]; then   # one retry (fresh namespaces) for flaky daemons
        log "=== $name failed (rc=$rc), retrying once"
        for f in $W/*.log; do [ -e "$f" ] && mv "$f" "$RUN/logs/$name.try1.$(basename "$f")"; done
        mv "$RUN/logs/$name.out" "$RUN/logs/$name.try1.out"
        ns_down
        ( "$@" ) >"$RUN/logs/$name.out" 2>&1; rc=$?
    fi
    for f in $W/*.log; do [ -e "$f" ] && mv "$f" "$RUN/logs/$name.$(basename "$f")"; done
    ns_down
    log "=== $name rc=$rc"
    echo "$name $([ $rc = 0 ] && echo OK || echo "FAIL rc=$rc")" >>"$STATUS"
}
run l2tp-udp1701            cap_l2tp l2tp-udp1701 1701 1701 65
run l2tp-udp8701            cap_l2tp l2tp-udp8701 8701 41701 0
run l2tp-ipsec-ikev1-natt   cap_l2tp_ipsec l2tp-ipsec-ikev1-natt yes
run l2tp-ipsec-ikev1-esp    cap_l2tp_ipsec l2tp-ipsec-ikev1-esp no
run pptp-mppe128            cap_pptp pptp-mppe128 1
run pptp-nomppe             cap_pptp pptp-nomppe 0
run sstp-tcp443             cap_sstp sstp-tcp443 443
run sstp-tcp8443-tls12      cap_sstp sstp-tcp8443-tls12 8443 TLSv1.2
run gre-plain               cap_gre gre-plain gre
run gre-key-seq-csum        cap_gre gre-key-seq-csum gre key 0x5a1f7001 seq csum
run gretap                  cap_gre gretap gretap
run ip6gre                  cap_gre ip6gre ip6gre
echo "done" >>"$STATUS"
log "all done"
sync
poweroff -f
