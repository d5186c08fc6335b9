#!/usr/bin/env bash
# Builds sift with profile-guided optimisation (PGO) and prints the
# binary's path: target/pgo/release/sift.
#
# 1. An instrumented build (target/pgo/gen) analyzes the project's own
#    captures (captures/: recorded or emulated here, none of them in the
#    benchmark capture, which is made from the nDPI corpus): with the
#    default rules as a summary and as EVE JSON, with one and two threads
#    (the files one per worker, and as one capture split between a lead
#    and a follower), without rules, and under a generated registry dump.
# 2. llvm-profdata merges the counts (target/pgo/profiles/).
# 3. The release build uses them (-Cprofile-use): the compiler learns which
#    branches are taken and which functions are hot, and lays out and
#    inlines the code accordingly. What sift outputs does not change.
#
# Nothing is redone while the sources are unchanged: the profile is kept
# with the digest of the instrumented binary it came from. llvm-profdata
# must be the one of rustc's LLVM: rustup's llvm-tools component, added
# when missing. SIFT_PGO_DIR moves target/pgo elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
dir=${SIFT_PGO_DIR:-$root/target/pgo}
mkdir -p "$dir"

host=$(rustc -vV | sed -n 's/^host: //p')
profdata_tool="$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata"
if [[ ! -x $profdata_tool ]]; then
  echo "sift pgo: adding rustup's llvm-tools (llvm-profdata)" >&2
  rustup component add llvm-tools >&2
fi

log() { echo "sift pgo: $*" >&2; }

# 1. Instrumented build; cargo rebuilds it only when sources change.
gen="$dir/gen/release/sift"
RUSTFLAGS="-Cprofile-generate=$dir/raw" \
  cargo build --release --locked --quiet --target-dir "$dir/gen" --bin sift >&2
digest=$(sha256sum "$gen" | cut -d' ' -f1)
profile="$dir/profiles/$digest.profdata"
built="$dir/release/sift"
if [[ -x $built && -f $dir/stamp && $(cat "$dir/stamp") == "$digest" ]]; then
  echo "$built"
  exit 0
fi

log "training the instrumented build on captures/"
rm -rf "$dir/raw" "$dir/train"
mkdir -p "$dir/train"
mapfile -t captures < <(find "$root/captures" -name '*.pcap' -o -name '*.pcapng' | sort)
if ((${#captures[@]} == 0)); then
  log "no captures under captures/"
  exit 1
fi
rules="$root/rules/default.rules"
run() { "$gen" analyze -q "$@" "${captures[@]}" >/dev/null; }
run --threads 1 --rules "$rules"
run --threads 1 --rules "$rules" --format json -o /dev/null
run --threads 2 --rules "$rules" --format json -o /dev/null
run --threads 2 --rules "$rules"
# Files this small are analyzed one per worker: the lead and its follower
# (one capture's packets handed between cores) are trained as well.
run --threads 2 --rules "$rules" --files-at-once never
run --threads 2 --rules "$rules" --files-at-once never --format json -o /dev/null
run --threads 1
"$gen" rules make-registry --addresses 100000 --names 100000 --urls 10000 >"$dir/train/registry.csv"
echo "drop 10 \"registry\" { list registry \"$dir/train/registry.csv\" }" >"$dir/train/registry.rules"
run --threads 1 --rules "$dir/train/registry.rules" --rules-cache "$dir/train/cache"

# 2. Merge.
rm -rf "$dir/profiles"
mkdir -p "$dir/profiles"
"$profdata_tool" merge -o "$profile" "$dir"/raw/*.profraw

# 3. The optimised build (the profile's name changes with the sources, so
# cargo sees new flags and rebuilds).
log "building with the profile"
RUSTFLAGS="-Cprofile-use=$profile" \
  cargo build --release --locked --quiet --target-dir "$dir" --bin sift >&2
echo "$digest" >"$dir/stamp"
echo "$built"
