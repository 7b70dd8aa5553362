#!/usr/bin/env bash
# Installs what building and testing tagstream needs on a Debian machine with Rust via rustup,
# skipping whatever is already there. Sourced by run.sh and test.sh; safe to run again.
#   scripts/setup.sh           build tools (wasm32 target, trunk, wasm-bindgen-cli, wasm-opt)
#   scripts/setup.sh --test    also what the tests use (Debian's chromium and chromium-driver,
#                              the registry, and PostgreSQL 15 for the replica tests)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TRUNK_VERSION="0.21.14"   # 0.22 needs a newer rustc than this machine's 1.95
BINARYEN_VERSION="132.0.0" # Debian's binaryen 108 emits a wasm that throws at start
export PATH="$HOME/.cargo/bin:$ROOT/.tools/node_modules/.bin:$PATH"

say() { printf '[setup] %s\n' "$*" >&2; }

need_apt=()
want_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$1"); }

want_pkg pkg-config
want_pkg brotli # scripts/console.sh: the console's files precompressed for the server
command -v npm >/dev/null || { want_pkg nodejs; want_pkg npm; }
if [[ "${1:-}" == "--test" ]]; then
  want_pkg chromium
  want_pkg chromium-driver
  # The import tests run the real distribution registry on loopback, with their own config
  # (the package's service and its default config are never used).
  want_pkg docker-registry
  want_pkg openssl # certificates for the TLS registry the import tests start
  want_pkg skopeo  # the client of the integrated-registry tests (push and pull with API tokens)
  # `podman login` + `podman pull` against the integrated registry (root, vfs storage in a
  # temporary directory, no daemon; the package's service is never started).
  want_pkg podman
  # kubectl sends its token only over TLS: the kubectl tests put nginx in front of the server.
  # The kubectl builds themselves come with the machine image's google-cloud-cli.
  want_pkg nginx-light
  # The store and API tests run a second time on PostgreSQL, and the replica tests run several
  # servers on one: each run starts its own throwaway cluster (scripts/throwaway-postgres.sh).
  want_pkg postgresql
fi
if ((${#need_apt[@]})); then
  say "installing Debian packages: ${need_apt[*]}"
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi
for component in clippy rustfmt; do
  rustup component list --installed | grep -q "^$component" || rustup component add "$component"
done

if [[ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]]; then
  say "installing trunk $TRUNK_VERSION (about 12 minutes on 2 cores)"
  cargo install trunk --version "$TRUNK_VERSION" --locked
fi

# wasm-bindgen-cli must equal the wasm-bindgen crate in Cargo.lock.
WBG_VERSION="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock")"
if [[ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WBG_VERSION" ]]; then
  say "installing wasm-bindgen-cli $WBG_VERSION (about 3 minutes)"
  # Not --locked: its lock file wants a webpki-roots version the registry no longer has.
  cargo install wasm-bindgen-cli --version "$WBG_VERSION"
fi

if [[ "$(wasm-opt --version 2>/dev/null)" != *"version_${BINARYEN_VERSION%%.*}"* ]]; then
  say "installing wasm-opt (npm binaryen@$BINARYEN_VERSION) into .tools/"
  mkdir -p "$ROOT/.tools"
  (cd "$ROOT/.tools" && npm install --silent --no-audit --no-fund --no-save "binaryen@$BINARYEN_VERSION" >/dev/null)
fi

# Trunk runs cargo offline; fetch every crate first.
(cd "$ROOT" && cargo fetch --locked -q)
