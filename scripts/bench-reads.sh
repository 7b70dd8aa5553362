#!/usr/bin/env bash
# tagstream's read path beside nginx serving the very same bytes from files, in one run on
# loopback (issue 16). Prints a Markdown table for BENCHMARKS.md: requests/s, p50 and p99 at the
# given connection count, and each tagstream figure as a ratio of nginx's for the same bytes.
#   scripts/bench-reads.sh              64 connections, 5 s per endpoint (wrk -t2)
#   CONNECTIONS=16 SECONDS_EACH=10 scripts/bench-reads.sh
#   BEFORE_BIN=/path/to/an/older/tagstream scripts/bench-reads.sh
#       also runs that binary, filled the same way, and adds its columns (before/after in one run)
#   TAGSTREAM_BIN=/path/to/tagstream    use this binary instead of building one
# Installs Debian's nginx and wrk when missing; builds the server with --release; needs a built
# console in dist/ for the static-asset row (scripts/run.sh builds it). Talks to loopback only.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONNECTIONS="${CONNECTIONS:-64}"
SECONDS_EACH="${SECONDS_EACH:-5}"
STREAMS="${STREAMS:-5000}"
DIST="${DIST:-$ROOT/dist}"
FIXTURE="$ROOT/../shared/fixtures/openshift-library/imagestreams/ruby-rhel.json"
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
SERVE_DIST="$DIST"

need=()
command -v wrk >/dev/null || need+=(wrk)
[[ -x /usr/sbin/nginx ]] || need+=(nginx)
command -v curl >/dev/null || need+=(curl)
if ((${#need[@]})); then
  say "installing Debian packages: ${need[*]}"
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
[[ -f "$FIXTURE" ]] || { say "missing $FIXTURE (../shared/fixtures beside the repository)"; exit 1; }

mkdir -p "$WORK/www"
AUTH=(-H "Authorization: Bearer $TOKEN")

# fill URL: project bench with the ruby stream, project big with $STREAMS streams.
fill() {
  local url="$1"
  api() { curl -fsS "${AUTH[@]}" -H 'Content-Type: application/json' "$@"; }
  project() { api -X POST "$url/apis/project.openshift.io/v1/projects" \
    -d "{\"apiVersion\":\"project.openshift.io/v1\",\"kind\":\"Project\",\"metadata\":{\"name\":\"$1\"}}" >/dev/null; }
  project bench
  project big
  api -X POST "$url/apis/image.openshift.io/v1/namespaces/bench/imagestreams" --data-binary @"$FIXTURE" >/dev/null
  seq 1 "$STREAMS" | xargs -P 4 -I{} curl -fsS -o /dev/null "${AUTH[@]}" -H 'Content-Type: application/json' \
    -X POST "$url/apis/image.openshift.io/v1/namespaces/big/imagestreams" \
    -d '{"apiVersion":"image.openshift.io/v1","kind":"ImageStream","metadata":{"name":"app-{}","labels":{"team":"bench"},"annotations":{"openshift.io/display-name":"Application {}"}},"spec":{"lookupPolicy":{"local":false},"tags":[{"name":"latest","annotations":{"description":"the current build"},"from":{"kind":"DockerImage","name":"registry.example.com/bench/app-{}:latest"},"referencePolicy":{"type":"Source"}}]}}'
}
api() { curl -fsS "${AUTH[@]}" -H 'Content-Type: application/json' "$@"; }

serve now "$TAGSTREAM_BIN"
URL="$url"
say "filling $URL: project bench with the ruby stream, project big with $STREAMS streams"
fill "$URL"
BEFORE_URL=""
if [[ -n "${BEFORE_BIN:-}" ]]; then
  serve before "$BEFORE_BIN"
  BEFORE_URL="$url"
  say "filling the before server $BEFORE_URL the same way"
  fill "$BEFORE_URL"
fi

# Each endpoint's exact bytes become a file nginx serves, so both answer the same body.
ROWS=(
  "stream GET|/apis/image.openshift.io/v1/namespaces/bench/imagestreams/ruby|stream.json|$CONNECTIONS"
  "project list|/apis/project.openshift.io/v1/projects|projects.json|$CONNECTIONS"
  "whoami|/apis/tagstream.io/v1/whoami|whoami.json|$CONNECTIONS"
  "$STREAMS-stream list|/apis/image.openshift.io/v1/namespaces/big/imagestreams|list.json|4"
)
for row in "${ROWS[@]}"; do
  IFS='|' read -r _ path file _ <<<"$row"
  api "$URL$path" >"$WORK/www/$file"
done
ASSET="$(cd "$DIST" 2>/dev/null && ls ./*.css 2>/dev/null | head -1 || true)"
if [[ -n "$ASSET" ]]; then
  cp "$DIST/$ASSET" "$WORK/www/asset.css"
  ROWS+=("static asset (${ASSET#./})|/${ASSET#./}|asset.css|$CONNECTIONS")
else
  say "no dist/*.css: skipping the static asset (run scripts/run.sh once)"
fi

NGINX_PORT="$(( 20000 + RANDOM % 20000 ))"
cat >"$WORK/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx.err;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $WORK; proxy_temp_path $WORK; fastcgi_temp_path $WORK;
  uwsgi_temp_path $WORK; scgi_temp_path $WORK;
  default_type application/json;
  server { listen 127.0.0.1:$NGINX_PORT; root $WORK/www; location / { try_files \$uri =404; } }
}
EOF
/usr/sbin/nginx -c "$WORK/nginx.conf" -p "$WORK" &
PIDS+=($!)
for _ in $(seq 1 50); do curl -fsS -o /dev/null "http://127.0.0.1:$NGINX_PORT/stream.json" 2>/dev/null && break; sleep 0.1; done

# wrk's figures: requests/s, and the 50% and 99% latency lines of --latency, in ms.
measure() { # url connections [header]
  local out
  out="$(wrk -t2 -c"$2" -d"${SECONDS_EACH}s" --latency ${3:+-H "$3"} "$1")"
  local rps p50 p99
  rps="$(awk '/^Requests\/sec:/ { printf "%d", $2 }' <<<"$out")"
  p50="$(awk '$1 == "50%" { print $2 }' <<<"$out")"
  p99="$(awk '$1 == "99%" { print $2 }' <<<"$out")"
  if grep -q 'Non-2xx' <<<"$out"; then say "non-2xx answers from $1:"; grep 'Non-2xx' <<<"$out" >&2; fi
  echo "$rps $(to_ms "$p50") $(to_ms "$p99")"
}
to_ms() { awk -v v="$1" 'BEGIN {
  if (v ~ /us$/) { sub(/us$/, "", v); printf "%.2f", v / 1000 }
  else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.2f", v }
  else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.0f", v * 1000 }
  else print v }'; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }
say "load before measuring: $(uptime)"
if [[ -n "$BEFORE_URL" ]]; then
  echo "| what | bytes | conns | tagstream req/s | p50 ms | p99 ms | ratio | before req/s | p50 ms | p99 ms | ratio | nginx req/s | p50 ms | p99 ms |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
else
  echo "| what | bytes | conns | tagstream req/s | p50 ms | p99 ms | nginx req/s | p50 ms | p99 ms | ratio |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
fi
for row in "${ROWS[@]}"; do
  IFS='|' read -r name path file conns <<<"$row"
  header="Authorization: Bearer $TOKEN"
  [[ "$file" == asset.css ]] && header=""
  read -r t_rps t_50 t_99 <<<"$(measure "$URL$path" "$conns" "$header")"
  read -r n_rps n_50 n_99 <<<"$(measure "http://127.0.0.1:$NGINX_PORT/$file" "$conns")"
  if [[ -n "$BEFORE_URL" ]]; then
    read -r b_rps b_50 b_99 <<<"$(measure "$BEFORE_URL$path" "$conns" "$header")"
    echo "| $name | $(wc -c <"$WORK/www/$file") | $conns | $t_rps | $t_50 | $t_99 | $(ratio "$t_rps" "$n_rps") | $b_rps | $b_50 | $b_99 | $(ratio "$b_rps" "$n_rps") | $n_rps | $n_50 | $n_99 |"
  else
    echo "| $name | $(wc -c <"$WORK/www/$file") | $conns | $t_rps | $t_50 | $t_99 | $n_rps | $n_50 | $n_99 | $(ratio "$t_rps" "$n_rps") |"
  fi
done
say "load after measuring: $(uptime)"
