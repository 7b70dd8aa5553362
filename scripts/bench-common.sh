# Sourced by the bench scripts that start servers from a binary (bench-bodies.sh,
# bench-labels.sh, bench-reads.sh, bench-replicas.sh): ROOT, say, TAGSTREAM_BIN (built with
# --release when not given), a WORK dir removed on exit with every server started (and every
# process added to PIDS), TOKEN (the servers' admin token), and `serve NAME BINARY [ARGS..]`,
# which starts one on loopback over WORK/NAME (console from SERVE_DIST, none by default; ARGS
# such as --database-url go to `serve`) and sets `url`.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
say() { printf '[bench] %s\n' "$*" >&2; }
if [[ -z "${TAGSTREAM_BIN:-}" ]]; then
  say "building the server (release)"
  (cd "$ROOT" && cargo build --release -q -p tagstream-backend)
  TAGSTREAM_BIN="$ROOT/target/release/tagstream"
fi
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
TOKEN="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"

# serve NAME BINARY [ARGS..]: starts the server, waits until it says where it serves; sets `url`.
serve() {
  mkdir -p "$WORK/$1"
  "$2" serve --listen 127.0.0.1:0 --data-dir "$WORK/$1" --dist "${SERVE_DIST:-/nonexistent}" \
    --bootstrap-admin-token "$TOKEN" "${@:3}" >"$WORK/$1.url" 2>"$WORK/$1.log" &
  PIDS+=($!)
  for _ in $(seq 1 300); do grep -q '^tagstream is serving on' "$WORK/$1.url" && break; sleep 0.1; done
  url="$(sed -n 's/^tagstream is serving on \(http:[^ ]*\)\/$/\1/p' "$WORK/$1.url")"
  [[ -n "$url" ]] || { say "the server did not start"; cat "$WORK/$1.log" >&2; exit 1; }
}
