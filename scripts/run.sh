#!/usr/bin/env bash
# Builds the console (only when a source changed since its last build: scripts/console.sh) and the
# server, then serves both on the embedded SQLite store in ./data.
# Flags after the command go to `tagstream serve` (see `--help`); TAGSTREAM_* variables work too.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/setup.sh
export PATH="$HOME/.cargo/bin:$ROOT/.tools/node_modules/.bin:$PATH"

scripts/console.sh
echo "[run] building the server (cargo build --release)" >&2
cargo build --release --locked -p tagstream-backend >&2
exec target/release/tagstream serve --data-dir "${TAGSTREAM_DATA_DIR:-./data}" --dist "${TAGSTREAM_DIST:-./dist}" "$@"
