#!/usr/bin/env bash
# Builds the console (trunk build --release) into dist/, unless dist/ already holds a build made
# after the last change to anything it is built from (frontend/, shared/, style/, the Cargo and
# Trunk files): a warm scripts/run.sh then starts in seconds. `--force` builds anyway.
# dist/.console-built records when the build that made dist/ started.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$ROOT/.tools/node_modules/.bin:$PATH"

STAMP=dist/.console-built

# The server sends these instead of compressing per request (backend/src/static_files.rs): gzip
# at its best level always, brotli when the `brotli` tool is there (scripts/setup.sh installs
# it; browsers ask for br over HTTPS). Made again for a file newer than its copy; index.html is
# small and revalidated, so it is left to the server. Each copy gets its file's modification
# time: a copy not older than its file is current.
precompress() {
  local f
  for f in dist/*.wasm dist/*.js dist/*.css; do
    [[ -f "$f" ]] || continue
    if ! [[ -f "$f.gz" && ! "$f.gz" -ot "$f" ]]; then
      gzip -9 -n -k -f "$f" && touch -r "$f" "$f.gz"
    fi
    if command -v brotli >/dev/null && ! [[ -f "$f.br" && ! "$f.br" -ot "$f" ]]; then
      brotli -q 11 -k -f "$f" && touch -r "$f" "$f.br"
    fi
  done
}

SOURCES=(frontend shared/src shared/Cargo.toml style Cargo.toml Cargo.lock Trunk.toml .cargo)
if [[ "${1:-}" != "--force" && -f "$STAMP" && -f dist/index.html ]] \
  && [[ -z "$(find "${SOURCES[@]}" -newer "$STAMP" -print -quit 2>/dev/null)" ]]; then
  echo "[console] dist/ is newer than every console source: not rebuilt (scripts/console.sh --force does)" >&2
  precompress
  exit 0
fi
started="$(mktemp)"
trap 'rm -f "$started"' EXIT
echo "[console] building the console (trunk build --release)" >&2
trunk build --release --offline=true >&2
precompress
# Trunk replaced dist/ at its end: the stamp goes in afterwards, with the time the build began, so
# a source edited during the build is still newer than it.
touch -r "$started" "$STAMP"
