#!/usr/bin/env bash
# Makes docs/report.png, the README's picture of `sift report`: the report
# of the sample capture and the recorded VPN captures, with the default
# rules, rendered by headless Chromium (Debian's `chromium`, installed by
# .ci/setup). Run from anywhere: bash docs/report-screenshot.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
target/release/sift report --merge captures/sample.pcap captures/vpn/*.pcap \
  --rules rules/default.rules -o "$out/report.html"
chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-extensions --no-first-run --hide-scrollbars --user-data-dir="$out/profile" \
  --window-size=1100,2300 --screenshot="$out/report.png" "file://$out/report.html" 2>/dev/null
cp "$out/report.png" docs/report.png
echo "docs/report.png: $(stat -c %s docs/report.png) bytes"
