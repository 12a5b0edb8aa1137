#!/usr/bin/env bash
# The whole stack on this machine: Kafka (9092), PostgreSQL (55432), market and settlement workers, and the
# gateway on 127.0.0.1:8000.   infra/stack.sh up | down
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
cd "$REPO"
case "${1:-}" in
  up)
    KAFKA_KEEP_DATA=1 bash "$HERE/kafka/kafka.sh" start
    bash "$HERE/postgres/pg.sh" start
    export KAFKA_BOOTSTRAP="127.0.0.1:${KAFKA_PORT:-9092}"
    # The market runs the Ebina station-area community (its grid tariffs, sites and devices) and admits app
    # users who are not in its registry.
    export CITYMATCH_MARKET_COMMUNITY="${CITYMATCH_MARKET_COMMUNITY:-ebina}"
    export CITYMATCH_MARKET_ADMIT_UNREGISTERED="${CITYMATCH_MARKET_ADMIT_UNREGISTERED:-true}"
    DATABASE_URL="$(bash "$HERE/postgres/pg.sh" url)"
    export DATABASE_URL="${DATABASE_URL#DATABASE_URL=}"
    .venv/bin/python -m services.localstack up
    echo "stop everything with: make down"
    ;;
  down)
    .venv/bin/python -m services.localstack down || true
    bash "$HERE/kafka/kafka.sh" stop || true
    bash "$HERE/postgres/pg.sh" stop || true
    ;;
  *) echo "usage: infra/stack.sh up|down" >&2; exit 2 ;;
esac
