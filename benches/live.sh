#!/usr/bin/env bash
# Kernel drops of `sift live` against tcpreplay rates, on a veth pair in a
# network namespace of its own (deleted on exit). Run as root:
#
#   benches/live.sh SIFT CAPTURE PACKETS "SIFT-ARGS" RATE...
#
# RATE is a number of Mbit/s or "top" (tcpreplay --topspeed). For each rate
# it starts `sift live -i vb SIFT-ARGS`, replays the first PACKETS packets
# of CAPTURE into va, stops sift with SIGTERM and prints one line: rate
# asked, rate tcpreplay reached, packets sent, packets sift read, kernel
# drops, interface drops, and the CPU time sift used (user + system,
# seconds). Results: benches/LIVE.md.
set -euo pipefail

sift=$1 capture=$2 packets=$3 args=$4
shift 4
ns=sift-bench-$$
tmp=$(mktemp -d)
cleanup() {
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$ns"
ip netns exec "$ns" sh -c 'for c in all default; do echo 1 >/proc/sys/net/ipv6/conf/$c/disable_ipv6; done' || true
# Room for the capture's largest frames (veth allows up to 65535).
ip -n "$ns" link add va mtu 65535 type veth peer name vb mtu 65535
ip -n "$ns" link set va up
ip -n "$ns" link set vb up

tick=$(getconf CLK_TCK)
printf '%-6s %-12s %-9s %-9s %-8s %-8s %s\n' asked reached sent read kdrops ifdrops cpu
for rate in "$@"; do
  speed=(--mbps "$rate")
  [[ $rate == top ]] && speed=(--topspeed)
  : >"$tmp/err"
  # shellcheck disable=SC2086 # SIFT-ARGS is split on purpose
  ip netns exec "$ns" "$sift" live -i vb --stats-interval 0 -q $args 2>"$tmp/err" &
  pid=$!
  until grep -q 'capturing on' "$tmp/err"; do sleep 0.05; done
  ip netns exec "$ns" tcpreplay -q -i va "${speed[@]}" -L "$packets" "$capture" >"$tmp/replay" 2>&1
  sleep 1
  cpu=$(awk -v t="$tick" '{printf "%.2f", ($14 + $15) / t}' "/proc/$pid/stat")
  kill -TERM "$pid"
  wait "$pid"
  sent=$(sed -n 's/^Actual: \([0-9]*\) packets.*/\1/p' "$tmp/replay")
  reached=$(sed -n 's/^Rated: .*, \([0-9.]*\) Mbps.*/\1/p' "$tmp/replay")
  stop=$(grep '^sift: stopped:' "$tmp/err")
  read_=$(sed -n 's/.* | packets \([0-9]*\) .*/\1/p' <<<"$stop")
  kdrops=$(sed -n 's/.*dropped: kernel \([0-9]*\),.*/\1/p' <<<"$stop")
  ifdrops=$(sed -n 's/.*, interface \([0-9]*\) .*/\1/p' <<<"$stop")
  printf '%-6s %-12s %-9s %-9s %-8s %-8s %s\n' "$rate" "$reached" "$sent" "$read_" "$kdrops" "$ifdrops" "$cpu"
done
