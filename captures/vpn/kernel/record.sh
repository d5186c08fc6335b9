#!/usr/bin/env bash
# Record kernel-dependent VPN captures (L2TPv2, L2TP/IPsec, ESP, PPTP, SSTP,
# GRE/GRETAP/ip6gre) inside a user-mode-linux (UML) guest, because the host
# kernel has no PPP/L2TP/GRE/ESP and cannot load modules. Verifies the pcaps
# with tshark and writes expected.csv + verify.txt next to this script.
#
#   bash captures/vpn/kernel/record.sh               # everything (~6 minutes)
#   bash captures/vpn/kernel/record.sh 'pptp|gre'    # only captures whose name matches
#   KEEP=1 bash captures/vpn/kernel/record.sh        # keep guest logs in /var/tmp/sift-vpn-kernel/run
#   VERIFY_ONLY=1 bash captures/vpn/kernel/record.sh # only redo verify.txt / expected.csv
#
# Needs root (Debian 12). Installs what is missing with apt-get (and sstp-server
# from PyPI into a venv under /var/tmp/sift-vpn-kernel). The guest is
#   linux.uml mem=768M root=/dev/root rootfstype=hostfs rootflags=/ rw \
#       init=<this dir>/uml-init.sh con0=null,fd:1 con=null \
#       vk_run=<run dir> vk_only=<regex> vk_sstpd=<sstpd path>
# i.e. the host's / through hostfs, with guest-local tmpfs over /etc (copy), /run,
# /tmp, /var/log and /dev. All traffic stays inside two network namespaces of the
# guest kernel (vkc 10.212.0.1 <-> vks 10.212.0.2, fd00:212::1/2); the guest has
# no network device to the host at all. On exit (also on failure) the guest is
# killed and the run directory removed.
set -Eeuo pipefail

OUT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ONLY="${1:-.}"
SCR=/var/tmp/sift-vpn-kernel
RUN=$SCR/run
VENV=$SCR/venv-sstp
UML_PID=""

log() { printf '[record] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root"

cleanup() {
    local rc=$?
    if [ -n "$UML_PID" ] && kill -0 "$UML_PID" 2>/dev/null; then
        log "killing UML guest (pgid $UML_PID)"
        kill -TERM -- -"$UML_PID" 2>/dev/null || true
        sleep 1
        kill -KILL -- -"$UML_PID" 2>/dev/null || true
    fi
    if [ "${KEEP:-0}" != 1 ] && [ "${VERIFY_ONLY:-0}" != 1 ]; then rm -rf "$RUN"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

exec 9>/run/sift-vpn-kernel.lock
flock -w 1800 9 || die "another record.sh is running"

# --------------------------------------------------------------- install --
need_pkgs=(user-mode-linux xl2tpd ppp pptpd pptp-linux sstp-client strongswan-charon
           strongswan-swanctl libcharon-extra-plugins tcpdump tshark iproute2 ethtool curl
           iputils-ping procps python3 openssl kmod util-linux)
missing=()
for p in "${need_pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    log "installing: ${missing[*]}"
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=1200 install -y \
        --no-install-recommends "${missing[@]}" >&2 || {
        apt-get -o DPkg::Lock::Timeout=1200 update >&2
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=1200 install -y \
            --no-install-recommends "${missing[@]}" >&2; }
fi
UML=$(command -v linux.uml || command -v linux) || die "no UML kernel binary"

# sstp-server (PyPI): 0.7.x needs Python >= 3.12 (pyenv has 3.12 here); with
# only 3.11 fall back to 0.6.0, the last release that installs on 3.11.
if [ ! -x "$VENV/bin/sstpd" ]; then
    PY=""
    for c in /root/.pyenv/versions/3.12*/bin/python3 /usr/bin/python3.12 /usr/bin/python3.13; do
        [ -x "$c" ] && { PY=$c; break; }
    done
    rm -rf "$VENV"; mkdir -p "$SCR"
    if [ -n "$PY" ]; then
        "$PY" -m venv "$VENV" && "$VENV/bin/pip" install -q 'sstp-server==0.7.2' >&2
    else
        python3 -m venv "$VENV" && "$VENV/bin/pip" install -q 'sstp-server==0.6.0' >&2
    fi
fi

# ---------------------------------------------------------------- record --
if [ "${VERIFY_ONLY:-0}" != 1 ]; then
    rm -rf "$RUN"; mkdir -p "$RUN"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=vpn.sift.test" \
        -addext "subjectAltName=DNS:vpn.sift.test" \
        -keyout "$RUN/sstp-key.pem" -out "$RUN/sstp-cert.pem" 2>/dev/null
    log "booting UML guest ($UML), captures matching '$ONLY'"
    setsid "$UML" mem=768M root=/dev/root rootfstype=hostfs rootflags=/ rw \
        init="$OUT/uml-init.sh" con0=null,fd:1 con=null \
        vk_run="$RUN" vk_only="$ONLY" vk_sstpd="$VENV/bin/sstpd" vk_timeout=1500 \
        </dev/null >"$RUN/console.log" 2>&1 &
    UML_PID=$!
    wait "$UML_PID" || true
    UML_PID=""
    grep '^\[uml' "$RUN/console.log" >&2 || true
    [ -s "$RUN/status.txt" ] || die "guest wrote no status (see $RUN/console.log)"
    log "guest status:"; cat "$RUN/status.txt" >&2
    while read -r name st _; do
        [ "$name" = done ] && continue
        if [ "$st" = OK ] && [ -s "$RUN/$name.pcap" ]; then
            mv -f "$RUN/$name.pcap" "$OUT/$name.pcap"
        else
            log "capture $name failed; logs:"; tail -n 30 "$RUN/logs/$name.out" >&2 || true
            FAILED=1
        fi
    done <"$RUN/status.txt"
    if [ "${KEEP:-0}" = 1 ]; then log "guest logs kept in $RUN/logs"; fi
fi

# ---------------------------------------------------------------- verify --
python3 "$OUT/verify.py" "$OUT"
[ "${FAILED:-0}" = 0 ] || { log "some captures failed"; exit 1; }
log "done"
