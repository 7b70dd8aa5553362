#!/usr/bin/env bash
# Runs every check and test: formatting, clippy (native and wasm32), the release console build
# the browser tests drive, and the whole workspace's tests (unit, API, binary, headless Chromium).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/setup.sh --test
export PATH="$HOME/.cargo/bin:$ROOT/.tools/node_modules/.bin:$PATH"

step() { printf '\n== %s\n' "$*" >&2; }

step "cargo fmt --check"
cargo fmt --all --check
step "clippy (native)"
cargo clippy --locked --workspace --all-targets -- -D warnings
step "clippy (wasm32: the console and the shared model)"
cargo clippy --locked -p tagstream-frontend -p tagstream-shared --target wasm32-unknown-unknown -- -D warnings
step "console release build (what the browser tests load)"
trunk build --release --offline=true
step "tests"
TAGSTREAM_DIST="$ROOT/dist" cargo test --locked --workspace
