#!/usr/bin/env bash
# Starts a throwaway PostgreSQL 15 cluster (Debian's `postgresql` package) on loopback with
# trust auth, prints its URL on stdout, and stops it and deletes its files once process
# OWNER_PID has exited. Used by the PostgreSQL test runs (TAGSTREAM_TEST_POSTGRES=1).
#   scripts/throwaway-postgres.sh OWNER_PID
#   DURABLE=1 scripts/throwaway-postgres.sh OWNER_PID    fsync on, as in production
set -euo pipefail
owner="${1:?usage: throwaway-postgres.sh OWNER_PID}"
bin=/usr/lib/postgresql/15/bin
[[ -x "$bin/initdb" ]] || { echo "PostgreSQL 15 is not installed: run scripts/setup.sh --test" >&2; exit 1; }
dir="$(mktemp -d /tmp/tagstream-pg.XXXXXX)"
chmod 755 "$dir"
as_pg=()
# PostgreSQL refuses to run as root: run it as the package's `postgres` user then.
if [[ $(id -u) -eq 0 ]]; then
  chown postgres: "$dir"
  as_pg=(runuser -u postgres --)
fi
"${as_pg[@]}" "$bin/initdb" -D "$dir/db" -A trust -U tagstream >"$dir/initdb.log" 2>&1
# fsync off: the cluster is thrown away after the run; DURABLE=1 keeps PostgreSQL's defaults
# (for benchmarks, so that writes cost what they cost in production).
unsafe="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
[[ "${DURABLE:-}" == 1 ]] && unsafe=""
for _ in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 30000))
  # Enough connections for every test app's pool at once.
  if "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/db" -l "$dir/log" -w start \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=400 $unsafe" \
      >/dev/null 2>&1; then
    # The watchdog outlives this script (setsid) and stops the cluster when the owner exits.
    setsid bash -c "while kill -0 $owner 2>/dev/null; do sleep 1; done; ${as_pg[*]} $bin/pg_ctl -D $dir/db -m immediate stop >/dev/null 2>&1; rm -rf $dir" \
      </dev/null >/dev/null 2>&1 &
    echo "postgres://tagstream@127.0.0.1:$port/postgres"
    exit 0
  fi
done
echo "PostgreSQL did not start; its log:" >&2
cat "$dir/log" >&2 || true
exit 1
