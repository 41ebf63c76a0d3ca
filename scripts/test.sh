#!/usr/bin/env bash
# The project's whole test suite, as README.md gives it and .ci/run calls it.
# Installs what the tests need when it is missing (Verilator, Yosys, a C++
# compiler), then runs formatting, lints and every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null 2>&1; }
missing=()
need verilator || missing+=(verilator)
need yosys || missing+=(yosys)
need g++ || missing+=(g++)
need make || missing+=(make)
if ((${#missing[@]})); then
  echo "test.sh: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
rustup component list --installed 2>/dev/null | grep -q rustfmt || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q clippy || rustup component add clippy

# Tool-dependent tests (Verilator lint, Yosys) fail instead of skipping under CI.
export CI="${CI:-true}"

echo "== cargo fmt" >&2
cargo fmt --all -- --check
echo "== cargo clippy" >&2
cargo clippy --workspace --all-targets -- -D warnings
echo "== one generation of rand in qkd-host" >&2
# rust-hdl (rand 0.8) is a build-time dependency only (host-app/build.rs).
# getrandom 0.2 stays for ring (rustls and rcgen, the KME's TLS), which has
# not moved to getrandom 0.3; nothing else may bring it.
if cargo tree -p qkd-host -e normal -d | grep -E '^(rand|rand_core|rand_chacha) '; then
  echo "test.sh: qkd-host links two generations of the crates above" >&2
  exit 1
fi
if cargo tree -p qkd-host -e normal -i getrandom@0.2 --depth 1 --prefix none 2>/dev/null |
  sed 1d | grep -v '^ring '; then
  echo "test.sh: getrandom 0.2 reaches qkd-host through the crates above, not only ring" >&2
  exit 1
fi
echo "== hardware-only qkd-host (--no-default-features)" >&2
if cargo tree -p qkd-host --no-default-features -e normal --prefix none | grep -E '^(qkd-sim|qkd-gateware|rust-hdl) '; then
  echo "test.sh: the hardware-only qkd-host links the crates above" >&2
  exit 1
fi
cargo clippy -p qkd-host --all-targets --no-default-features -- -D warnings
cargo test -p qkd-host --no-default-features --lib --test without_sim
if cargo deny --version >/dev/null 2>&1; then
  echo "== cargo deny (deny.toml)" >&2
  cargo deny --offline check licenses bans sources
else
  echo "== cargo deny: not installed, skipped (cargo install cargo-deny)" >&2
fi
echo "== cargo test" >&2
cargo test --workspace
