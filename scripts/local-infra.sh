#!/usr/bin/env bash
# Starts, stops or reports the local services the project runs against, all on
# loopback: a Docker engine, an image registry and a PostgreSQL server.
#
#   scripts/local-infra.sh up      install (apt) what is missing, start, wait, print endpoints
#   scripts/local-infra.sh down    stop only what this script started (by pid)
#   scripts/local-infra.sh status  print what answers and where
#   scripts/local-infra.sh env     print the environment other scripts source
#
# A Docker engine, registry or PostgreSQL that already answers is used as it is.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${DEPLOY_LOCAL_STATE:-$ROOT/.local}"
REGISTRY_PORT="${REGISTRY_PORT:-5000}"
PG_PORT="${PG_PORT:-5432}"
PG_DB="${PG_DB:-app}"
PG_USER="${PG_USER:-app}"
RUN="$STATE/run"
LOG="$STATE/log"

die() { echo "local-infra: $*" >&2; exit 1; }
say() { echo "local-infra: $*"; }

# shellcheck disable=SC2120
need_root() { [ "$(id -u)" = 0 ] || die "must run as root to install packages and start dockerd (try: sudo $0 $*)"; }

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  need_root
  say "installing ${missing[*]} (apt)"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$LOG/apt.log" 2>&1; then
    die "apt-get install ${missing[*]} failed (see $LOG/apt.log); fix the package source and rerun"
  fi
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() { # wait_for SECONDS NAME COMMAND...: waits for COMMAND to succeed while NAME's pid lives
  local secs=$1 name=$2; shift 2
  for _ in $(seq 1 $((secs * 5))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    pid_alive "$RUN/$name.pid" || return 1
    sleep 0.2
  done
  return 1
}

# Everything started by this run is stopped again if a later step fails, so a
# failed `up` never leaves half-started daemons behind.
STARTED=()
cleanup_on_error() {
  local rc=$?
  if [ $rc -ne 0 ] && [ ${#STARTED[@]} -gt 0 ]; then
    for svc in "${STARTED[@]}"; do stop_one "$svc" quiet || true; done
  fi
  exit $rc
}

pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$d" ] || die "PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql)"
  echo "$d"
}

docker_up() {
  if docker info >/dev/null 2>&1; then say "docker: using the engine that already answers ($(docker context inspect -f '{{.Endpoints.docker.Host}}' 2>/dev/null || echo default))"; return; fi
  apt_install docker.io
  need_root
  say "docker: starting dockerd (--bridge=none --iptables=false)"
  dockerd --bridge=none --iptables=false --ip6tables=false --ip-masq=false \
    --pidfile "$RUN/dockerd.self.pid" >"$LOG/dockerd.log" 2>&1 &
  echo $! >"$RUN/dockerd.pid"
  STARTED+=(dockerd)
  wait_for 60 dockerd docker info || die "dockerd did not start or answer within 60s (see $LOG/dockerd.log)"
}

registry_up() {
  if curl -fsS --max-time 2 "http://127.0.0.1:$REGISTRY_PORT/v2/" >/dev/null 2>&1; then say "registry: using the one already answering on 127.0.0.1:$REGISTRY_PORT"; return; fi
  port_busy "$REGISTRY_PORT" && die "port 127.0.0.1:$REGISTRY_PORT is in use by something that is not a registry; stop it or set REGISTRY_PORT"
  apt_install docker-registry curl
  mkdir -p "$STATE/registry"
  cat >"$RUN/registry.yml" <<YML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $STATE/registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$REGISTRY_PORT
YML
  say "registry: starting on 127.0.0.1:$REGISTRY_PORT"
  docker-registry serve "$RUN/registry.yml" >"$LOG/registry.log" 2>&1 &
  echo $! >"$RUN/registry.pid"
  STARTED+=(registry)
  wait_for 30 registry curl -fsS --max-time 2 "http://127.0.0.1:$REGISTRY_PORT/v2/" || die "registry did not start or answer within 30s (see $LOG/registry.log)"
}

pg_up() {
  local bin data="$STATE/pg/data" sock="$STATE/pg/sock"
  if pid_alive "$RUN/postgres.pid" && "$(pg_bin)/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then say "postgres: already running (ours) on 127.0.0.1:$PG_PORT"; return; fi
  port_busy "$PG_PORT" && die "port 127.0.0.1:$PG_PORT is in use by a server this script did not start; stop it or set PG_PORT"
  apt_install postgresql postgresql-client
  bin=$(pg_bin)
  id postgres >/dev/null 2>&1 || die "no 'postgres' user (the postgresql package creates it)"
  mkdir -p "$STATE/pg" "$sock"
  chown postgres "$STATE/pg" "$sock"
  if [ ! -f "$STATE/pg/app-password" ]; then
    (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$STATE/pg/app-password")
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    say "postgres: initialising a cluster in $data"
    runuser -u postgres -- "$bin/initdb" -D "$data" -U postgres --auth-local=peer --auth-host=scram-sha-256 -E UTF8 >"$LOG/initdb.log" 2>&1 \
      || die "initdb failed (see $LOG/initdb.log)"
  fi
  say "postgres: starting on 127.0.0.1:$PG_PORT"
  runuser -u postgres -- "$bin/pg_ctl" -D "$data" -l "$STATE/pg/postgres.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $sock" start >/dev/null \
    || die "postgres did not start (see $STATE/pg/postgres.log)"
  head -1 "$data/postmaster.pid" >"$RUN/postgres.pid"
  STARTED+=(postgres)
  local pw; pw=$(cat "$STATE/pg/app-password")
  runuser -u postgres -- psql -qAt -h "$sock" -p "$PG_PORT" -d postgres -v ON_ERROR_STOP=1 \
    -v user="$PG_USER" -v pw="$pw" -v db="$PG_DB" >/dev/null <<'SQL' || die "could not create role/database (see $STATE/pg/postgres.log)"
SELECT format('CREATE ROLE %I LOGIN CREATEDB PASSWORD %L', :'user', :'pw') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'user') \gexec
SELECT format('ALTER ROLE %I PASSWORD %L', :'user', :'pw') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'user') WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
SQL
}

stop_one() { # stop_one NAME [quiet]
  local name=$1 pidf="$RUN/$1.pid"
  if ! pid_alive "$pidf"; then rm -f "$pidf"; [ "${2:-}" = quiet ] || say "$name: not started by this script"; return 0; fi
  if [ "$name" = postgres ]; then
    runuser -u postgres -- "$(pg_bin)/pg_ctl" -D "$STATE/pg/data" -m fast -w stop >/dev/null || kill "$(cat "$pidf")"
  else
    kill "$(cat "$pidf")"
    for _ in $(seq 1 100); do pid_alive "$pidf" || break; sleep 0.2; done
  fi
  rm -f "$pidf"
  say "$name: stopped"
}

print_env() {
  cat <<ENV
export DOCKER_HOST=${DOCKER_HOST:-unix:///var/run/docker.sock}
export REGISTRY=127.0.0.1:$REGISTRY_PORT
export PGHOST=127.0.0.1
export PGPORT=$PG_PORT
export PGDATABASE=$PG_DB
export PGUSER=$PG_USER
export PG_SUPERUSER_SOCKET=$STATE/pg/sock
ENV
}

status() {
  local rc=0
  if docker info >/dev/null 2>&1; then echo "docker    up    $(docker version -f '{{.Server.Version}}' 2>/dev/null)"; else echo "docker    down"; rc=1; fi
  if curl -fsS --max-time 2 "http://127.0.0.1:$REGISTRY_PORT/v2/" >/dev/null 2>&1; then echo "registry  up    127.0.0.1:$REGISTRY_PORT"; else echo "registry  down  127.0.0.1:$REGISTRY_PORT"; rc=1; fi
  if command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; then echo "postgres  up    127.0.0.1:$PG_PORT db=$PG_DB user=$PG_USER (password in $STATE/pg/app-password)"; else echo "postgres  down  127.0.0.1:$PG_PORT"; rc=1; fi
  return $rc
}

mkdir -p "$RUN" "$LOG"
case "${1:-}" in
  up)
    trap cleanup_on_error EXIT
    docker_up
    registry_up
    pg_up
    trap - EXIT
    status
    ;;
  down)
    for s in postgres registry dockerd; do stop_one "$s"; done
    ;;
  status) status ;;
  env) print_env ;;
  *) echo "usage: $0 up|down|status|env" >&2; exit 2 ;;
esac
