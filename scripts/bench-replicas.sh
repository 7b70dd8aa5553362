#!/usr/bin/env bash
# Requests/s of stream reads and of writes (stream creates) on SQLite, on one replica on
# PostgreSQL, and on three replicas on one PostgreSQL (issue 13), in one run on loopback. Prints
# a Markdown table for BENCHMARKS.md. Three replicas are loaded by three wrk processes at once,
# one per replica with a third of the connections each (what a load balancer would spread), and
# their figures are added up.
#   scripts/bench-replicas.sh               48 connections, 10 s per figure
#   CONNECTIONS=24 SECONDS_EACH=5 scripts/bench-replicas.sh
# Needs wrk (Debian's, installed when missing) and Debian's PostgreSQL 15 (scripts/setup.sh
# --test); builds the server with --release unless TAGSTREAM_BIN names one. The PostgreSQL
# cluster is a throwaway one with fsync on (DURABLE=1), so writes cost what they cost in
# production. Talks to loopback only.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONNECTIONS="${CONNECTIONS:-48}"
SECONDS_EACH="${SECONDS_EACH:-10}"
FIXTURE="$ROOT/../shared/fixtures/openshift-library/imagestreams/ruby-rhel.json"
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"

command -v wrk >/dev/null || {
  say "installing Debian's wrk"
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends wrk >/dev/null
}
[[ -f "$FIXTURE" ]] || { say "missing $FIXTURE (../shared/fixtures beside the repository)"; exit 1; }

say "starting a throwaway PostgreSQL (fsync on)"
PG="$(DURABLE=1 "$ROOT/scripts/throwaway-postgres.sh" $$)"
for db in one three; do psql -q "$PG" -c "CREATE DATABASE bench_$db" >/dev/null; done

# Starts a server with `database` (empty: SQLite in its data dir); sets `url`.
N=0
start() {
  N=$((N + 1))
  local db=()
  [[ -n "$1" ]] && db=(--database-url "$1")
  serve "s$N" "$TAGSTREAM_BIN" "${db[@]}"
}

api() { curl -fsS -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@"; }
STREAM=/apis/image.openshift.io/v1/namespaces/bench/imagestreams
fill() { # url
  api -X POST "$1/apis/project.openshift.io/v1/projects" \
    -d '{"apiVersion":"project.openshift.io/v1","kind":"Project","metadata":{"name":"bench"}}' >/dev/null
  api -X POST "$1$STREAM" --data-binary @"$FIXTURE" >/dev/null
}

# Writes: each request creates a stream with a name no other request uses (the wrk process's
# prefix and a counter; wrk runs one thread here).
cat >"$WORK/create.lua" <<'EOF'
-- No tags: an import of each new stream would add the worker's writes to the figure.
local counter = 0
local prefix = os.getenv("PREFIX") or "w"
function request()
  counter = counter + 1
  local body = '{"apiVersion":"image.openshift.io/v1","kind":"ImageStream","metadata":{"name":"'
    .. prefix .. "-" .. counter .. '","labels":{"team":"bench"}},"spec":{}}'
  return wrk.format("POST", nil, nil, body)
end
EOF

# wrk's requests/s; a warning when some answers were not 2xx.
measure() { # url connections prefix [script]
  local out
  out="$(PREFIX="$3" wrk -t1 -c"$2" -d"${SECONDS_EACH}s" \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' ${4:+-s "$4"} "$1")"
  if grep -q 'Non-2xx' <<<"$out"; then say "non-2xx answers from $1:"; grep 'Non-2xx' <<<"$out" >&2; fi
  awk '/^Requests\/sec:/ { printf "%d\n", $2 }' <<<"$out"
}

# Loads every URL in $@ at once, CONNECTIONS split between them; prints the summed req/s.
together() { # script prefix url...
  local script="$1" prefix="$2"
  shift 2
  local each=$((CONNECTIONS / $#)) i=0
  for url in "$@"; do
    i=$((i + 1))
    (measure "$url" "$each" "$prefix$i" "$script" >"$WORK/rps.$i") &
  done
  wait
  cat "$WORK"/rps.* | awk '{ s += $1 } END { print s }'
  rm -f "$WORK"/rps.*
}

row() { # label url...
  local label="$1"
  shift
  local reads writes
  reads="$(together "" r "${@/%/$STREAM/ruby}")"
  writes="$(together "$WORK/create.lua" "w$N" "${@/%/$STREAM}")"
  echo "| $label | $reads | $writes |"
}

start ""
SQLITE="$url"
fill "$SQLITE"
start "${PG%/postgres}/bench_one"
ONE="$url"
fill "$ONE"
THREE=()
for _ in 1 2 3; do start "${PG%/postgres}/bench_three"; THREE+=("$url"); done
fill "${THREE[0]}"

say "load: $(uptime | sed 's/.*load average/load average/')"
echo "| store | stream GET req/s | stream create req/s |"
echo "|---|---:|---:|"
row "SQLite, one process" "$SQLITE"
row "PostgreSQL, one replica" "$ONE"
row "PostgreSQL, three replicas" "${THREE[@]}"
say "load: $(uptime | sed 's/.*load average/load average/')"
