#!/usr/bin/env bash
# Runs every check and test: formatting, clippy (native and wasm32), the release console build
# the browser tests drive, and the whole workspace's tests (unit, API, binary, headless Chromium).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Each step prints how long the one before it took, and the end prints each step's time and the
# total: where the time goes is the first thing to know when the loop feels slow.
START=$SECONDS
STEP_NAME=""
STEP_START=$SECONDS
TIMES=()
finish_step() {
  if [ -n "$STEP_NAME" ]; then
    local took=$((SECONDS - STEP_START))
    printf '== %s: %ss\n' "$STEP_NAME" "$took" >&2
    TIMES+=("$(printf '%6ss  %s' "$took" "$STEP_NAME")")
  fi
}
step() {
  finish_step
  STEP_NAME="$*"
  STEP_START=$SECONDS
  printf '\n== %s\n' "$*" >&2
}
summary() {
  local rc=$?
  finish_step
  printf '\n== step times\n' >&2
  printf '%s\n' "${TIMES[@]}" >&2
  printf '%6ss  total%s\n' "$((SECONDS - START))" "$([ "$rc" -eq 0 ] || echo " (failed: exit $rc)")" >&2
}
trap summary EXIT

step "setup (tools the tests need)"
scripts/setup.sh --test
export PATH="$HOME/.cargo/bin:$ROOT/.tools/node_modules/.bin:$PATH"

step "cargo fmt --check"
cargo fmt --all --check
step "clippy (native)"
cargo clippy --locked --workspace --all-targets -- -D warnings
step "clippy (wasm32: the console and the shared model)"
cargo clippy --locked -p tagstream-frontend -p tagstream-shared --target wasm32-unknown-unknown -- -D warnings
step "console release build (what the browser tests load; skipped when dist/ is up to date)"
scripts/console.sh
step "tests"
TAGSTREAM_DIST="$ROOT/dist" cargo test --locked --workspace
step "store and API tests again, on PostgreSQL (the browser tests ran once, on SQLite)"
TAGSTREAM_TEST_POSTGRES=1 cargo test --locked -p tagstream-backend --test it -- --skip browser
