#!/usr/bin/env bash
# Runs a command with a real Kafka broker and a real PostgreSQL server started by the project's own scripts,
# and stops both afterwards, whatever the command's outcome. Exports KAFKA_BOOTSTRAP and DATABASE_URL.
#
#   infra/with-stack.sh .venv/bin/pytest tests
#
# Ports: STACK_KAFKA_PORT (default 39092), STACK_PG_PORT (default 55433). Set KAFKA_BOOTSTRAP or DATABASE_URL
# beforehand to use servers you already run instead. The broker it starts is a throwaway: its storage is reset
# first (kafka.sh reset), so a run never reads an earlier run's topics; the tests make a fresh database each.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
KPORT="${STACK_KAFKA_PORT:-39092}"
PPORT="${STACK_PG_PORT:-55433}"
started_kafka=0
started_pg=0

cleanup() {
  local rc=$?
  if [ "$started_kafka" = 1 ]; then KAFKA_PORT="$KPORT" bash "$HERE/kafka/kafka.sh" stop || true; fi
  if [ "$started_pg" = 1 ]; then PG_PORT="$PPORT" bash "$HERE/postgres/pg.sh" stop || true; fi
  exit $rc
}
trap cleanup EXIT INT TERM

if [ -z "${KAFKA_BOOTSTRAP:-}" ]; then
  KAFKA_PORT="$KPORT" bash "$HERE/kafka/kafka.sh" reset
  KAFKA_PORT="$KPORT" bash "$HERE/kafka/kafka.sh" start
  started_kafka=1
  export KAFKA_BOOTSTRAP="127.0.0.1:$KPORT"
fi
if [ -z "${DATABASE_URL:-}" ]; then
  PG_PORT="$PPORT" bash "$HERE/postgres/pg.sh" start
  started_pg=1
  DATABASE_URL="$(PG_PORT="$PPORT" bash "$HERE/postgres/pg.sh" url)"
  export DATABASE_URL="${DATABASE_URL#DATABASE_URL=}"
fi
echo "[stack] KAFKA_BOOTSTRAP=$KAFKA_BOOTSTRAP DATABASE_URL=$DATABASE_URL"
cd "$REPO"
"$@"
