#!/usr/bin/env bash
# The planner's default (detailed) detector model against the simulated link:
# `qkd-host keyrate` beside `qkd-host run` in secret bits per block pulse and
# in the Z-basis QBER of the signal intensity, for the default link and a
# sweep of one parameter at a time (distance, dead time, afterpulse
# probability, block size). The planner uses the EC efficiency the run
# measured (a property of Cascade, not of the link). Prints a Markdown table
# (docs/link-physics.md holds its last output).
# Usage: bash scripts/physics-agreement.sh [quick|full] [SWEEP] [FROM]
# (quick: 2 blocks per point instead of 4; SWEEP: only that sweep; FROM:
# skip the first FROM points)
set -euo pipefail
cd "$(dirname "$0")/.."
# QKD_HOST_BIN: an already built release binary (skips the build).
if [ -z "${QKD_HOST_BIN:-}" ]; then
  cargo build --release -q -p qkd-host
fi
bin=${QKD_HOST_BIN:-${CARGO_TARGET_DIR:-target}/release/qkd-host}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Blocks per point (the run simulates this many planned blocks plus 10 %).
blocks=4
[ "${1:-}" = quick ] && blocks=2

# name km dead_time_ns afterpulse block_bits
points=(
  "default        50  1000 0.04 1e6"
  "distance       0   1000 0.04 1e6"
  "distance       25  1000 0.04 1e6"
  "distance       100 1000 0.04 1e6"
  "dead-time      25  3.2  0.04 1e6"
  "dead-time      25  100  0.04 1e6"
  "dead-time      25  10000 0.04 1e6"
  "afterpulse     0   3.2  0.0  1e6"
  "afterpulse     0   3.2  0.10 1e6"
  "afterpulse     25  1000 0.10 1e6"
  "block          25  1000 0.04 1e5"
  "block          25  1000 0.04 1e7"
  "afterpulse     0   1000 0.10 1e6"
  "afterpulse     25  10000 0.10 1e6"
  "distance       150 1000 0.04 1e6"
)
# Only the points whose sweep name matches $2 (all when empty), from the $3-th on.
only=${2:-}
from=${3:-0}
echo "| sweep | km | dead time (ns) | p_ap | n_Z | pulses | run bits/block-pulse | planner | ratio | run QBER Z | planner | ratio | f (run) | wall (s) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
i=0
for p in "${points[@]}"; do
  i=$((i + 1))
  read -r name km dead ap block <<<"$p"
  if [ "$i" -le "$from" ] || { [ -n "$only" ] && [ "$name" != "$only" ]; }; then continue; fi
  cat > "$tmp/link.toml" <<TOML
[channel]
length_km = $km
[detector]
afterpulse_probability = $ap
dead_time_ns = $dead
[postprocessing]
block_bits = $block
TOML
  pulses=$("$bin" keyrate --config "$tmp/link.toml" --json | python3 -c "
import json, sys; print(int(json.load(sys.stdin)['pulses_per_block'] * $blocks * 1.1))")
  "$bin" run --config "$tmp/link.toml" --pulses "$pulses" --json > "$tmp/run.json"
  read -r sim qsim f wall < <(python3 -c "
import json; d = json.load(open('$tmp/run.json'))
print(d['secret_bits_per_block_pulse'], d['qber']['z_all_blocks'] or 0.0, d['ec_efficiency'] or 1.16, d['wall_seconds'])")
  sed -i "s/^\[postprocessing\]/[postprocessing]\nec_efficiency = $f/" "$tmp/link.toml"
  read -r plan qplan < <("$bin" keyrate --config "$tmp/link.toml" --json | python3 -c "
import json, sys; d = json.load(sys.stdin)
print(d['secret_bits_per_pulse'], d['qber_per_intensity'][0])")
  python3 -c "
r = lambda a, b: '%.3f' % (a / b) if b > 0 else '-'
print('| $name | $km | $dead | $ap | %.0e | %.1e | %.4e | %.4e | %s | %.5f | %.5f | %s | %.3f | %.0f |' % (
    $block, $pulses, $sim, $plan, r($sim, $plan), $qsim, $qplan, r($qsim, $qplan), $f, $wall))"
done
