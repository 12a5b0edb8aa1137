#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for citymatch development and CI (Debian's postgresql package).
# PostgreSQL refuses to run as root, so the cluster is created and run as the `postgres` user via runuser.
#
# Usage: infra/postgres/pg.sh install|start|stop|status|url
#
# Environment:
#   PG_PORT          TCP port on 127.0.0.1 (default 55432)
#   PG_DATA_DIR      cluster directory (default <repo>/.run/pg-<port>; when the postgres user cannot reach that,
#                    /tmp/citymatch-pg-<checkout id>-<port>, named after this checkout so no other shares it)
#   PG_DB            database created on start (default citymatch)
#   PG_START_TIMEOUT seconds to wait for the server to accept connections (default 60)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"

PORT="${PG_PORT:-55432}"
DB="${PG_DB:-citymatch}"
TIMEOUT="${PG_START_TIMEOUT:-60}"
PG_USER=postgres
URL="postgresql+psycopg://postgres@127.0.0.1:$PORT/$DB"
# This checkout's own fallback location: another clone (another path) gets another directory, never this data.
CHECKOUT_ID="$(printf '%s' "$REPO" | sha256sum | cut -c1-12)"
FALLBACK="/tmp/citymatch-pg-$CHECKOUT_ID-$PORT"

die() { echo "pg.sh: error: $*" >&2; exit 1; }

bindir() {
  # Newest installed server version, found dynamically (Debian 12 ships 15).
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
  if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; fi
}

# From / so that commands run as postgres do not complain about a working directory it cannot enter.
as_pg() { (cd / && runuser -u "$PG_USER" -- "$@"); }

# The postgres user must be able to traverse every directory above the data dir.
pg_can_reach() { runuser -u "$PG_USER" -- test -x "$1" 2>/dev/null; }

resolve_data_dir() {
  if [ -n "${PG_DATA_DIR:-}" ]; then
    DATA_DIR="$PG_DATA_DIR"
    return
  fi
  local run="$REPO/.run"
  # Reuse this checkout's fallback cluster when it is there, so stop/status find what start made.
  if [ -f "$FALLBACK/postmaster.pid" ] || [ -f "$FALLBACK/PG_VERSION" ]; then
    DATA_DIR="$FALLBACK"
    return
  fi
  DATA_DIR="$run/pg-$PORT"
}

prepare_data_parent() {
  # Make sure the postgres user can reach DATA_DIR's parent; open up .run if we own it, else fall back to /tmp.
  local parent
  parent="$(dirname "$DATA_DIR")"
  mkdir -p "$parent"
  if ! pg_can_reach "$parent" && [ -z "${PG_DATA_DIR:-}" ]; then
    chmod o+x "$parent" 2>/dev/null || true
  fi
  if ! pg_can_reach "$parent"; then
    if [ -n "${PG_DATA_DIR:-}" ]; then
      die "user '$PG_USER' cannot traverse into $parent; make every directory on that path world-executable (chmod o+x) or pick another PG_DATA_DIR"
    fi
    DATA_DIR="$FALLBACK"
    echo "pg.sh: note: user '$PG_USER' cannot traverse into $parent, so this checkout's cluster lives in" \
      "$DATA_DIR instead (named after the checkout $REPO: no other checkout uses it)" >&2
  fi
}

cmd_install() {
  if [ -n "$(bindir)" ]; then
    return 0
  fi
  [ "$(id -u)" = 0 ] || die "PostgreSQL is not installed and installing it needs root (apt-get install postgresql)"
  command -v apt-get >/dev/null 2>&1 || die "PostgreSQL is not installed and apt-get is not available"
  echo "Installing PostgreSQL with apt-get ..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq </dev/null >/dev/null || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends postgresql </dev/null >/dev/null \
    || die "apt-get install postgresql failed"
  [ -n "$(bindir)" ] || die "postgresql installed but no /usr/lib/postgresql/*/bin/initdb found"
}

is_running() {
  local bin
  bin="$(bindir)"
  [ -n "$bin" ] && [ -f "$DATA_DIR/PG_VERSION" ] && as_pg "$bin/pg_ctl" -D "$DATA_DIR" status >/dev/null 2>&1
}

server_version() {
  "$1/postgres" --version | sed -n 's/.*(PostgreSQL) \([0-9][0-9.]*\).*/\1/p'
}

cmd_start() {
  [ "$(id -u)" = 0 ] || [ "$(id -un)" = "$PG_USER" ] || die "run as root (the cluster is run as user '$PG_USER' through runuser)"
  cmd_install
  id "$PG_USER" >/dev/null 2>&1 || die "user '$PG_USER' does not exist (it comes with the postgresql package)"
  local bin
  bin="$(bindir)"
  if is_running; then
    echo "PostgreSQL $(server_version "$bin") already running on 127.0.0.1:$PORT"
    echo "DATABASE_URL=$URL"
    return 0
  fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    die "port $PORT is already in use by another process; set PG_PORT"
  fi
  prepare_data_parent

  if [ ! -f "$DATA_DIR/PG_VERSION" ]; then
    rm -rf "$DATA_DIR"
    mkdir -p "$DATA_DIR"
    chown "$PG_USER:" "$DATA_DIR"
    chmod 700 "$DATA_DIR"
    as_pg "$bin/initdb" -D "$DATA_DIR" -A trust -U postgres -E UTF8 --locale=C.UTF-8 \
      >"$DATA_DIR.initdb.log" 2>&1 </dev/null \
      || { tail -n 20 "$DATA_DIR.initdb.log" >&2; die "initdb failed for $DATA_DIR"; }
    rm -f "$DATA_DIR.initdb.log"
    # Throwaway test cluster: durability is traded for speed (fsync=off etc.). Never use these settings for real data.
    cat >>"$DATA_DIR/postgresql.conf" <<EOF

# --- citymatch throwaway cluster (pg.sh) ---
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$DATA_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 100
shared_buffers = 128MB
logging_collector = off
EOF
  fi
  chown -R "$PG_USER:" "$DATA_DIR"

  as_pg "$bin/pg_ctl" -D "$DATA_DIR" -l "$DATA_DIR/server.log" -o "-p $PORT" -w -t "$TIMEOUT" start \
    >/dev/null 2>&1 </dev/null \
    || { tail -n 30 "$DATA_DIR/server.log" >&2 2>/dev/null || true; die "PostgreSQL did not start (log: $DATA_DIR/server.log)"; }

  local i
  for i in $(seq 1 $((TIMEOUT * 5))); do
    as_pg "$bin/pg_isready" -q -h 127.0.0.1 -p "$PORT" && break
    sleep 0.2
  done
  as_pg "$bin/pg_isready" -q -h 127.0.0.1 -p "$PORT" \
    || die "PostgreSQL is not accepting connections on 127.0.0.1:$PORT (log: $DATA_DIR/server.log)"

  local exists
  exists="$(as_pg "$bin/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$DB'" </dev/null)" || die "cannot query the server on 127.0.0.1:$PORT"
  if [ "$exists" != "1" ]; then
    as_pg "$bin/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DB" </dev/null || die "createdb $DB failed"
  fi
  echo "PostgreSQL $(server_version "$bin") started on 127.0.0.1:$PORT"
  echo "DATABASE_URL=$URL"
}

cmd_stop() {
  local bin
  bin="$(bindir)"
  if ! is_running; then
    echo "PostgreSQL on 127.0.0.1:$PORT is not running"
    return 0
  fi
  as_pg "$bin/pg_ctl" -D "$DATA_DIR" -m fast -w -t 30 stop >/dev/null 2>&1 </dev/null \
    || as_pg "$bin/pg_ctl" -D "$DATA_DIR" -m immediate -w -t 30 stop >/dev/null 2>&1 </dev/null \
    || die "could not stop PostgreSQL in $DATA_DIR"
  echo "PostgreSQL on 127.0.0.1:$PORT stopped"
}

cmd_status() {
  if is_running; then
    echo "PostgreSQL running on 127.0.0.1:$PORT (data dir $DATA_DIR)"
    return 0
  fi
  echo "PostgreSQL on 127.0.0.1:$PORT is not running"
  return 1
}

resolve_data_dir
case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  url) echo "$URL" ;;
  *) echo "usage: $0 install|start|stop|status|url" >&2; exit 2 ;;
esac
