#!/usr/bin/env bash
# The whole stack on this machine: Kafka, PostgreSQL, every service's worker, the live city and the gateway
# (CITYMATCH_UP_SERVICES=a,b,... for fewer; services/localstack.py PLATFORM lists them).
#
#   infra/stack.sh up | down | verify
#
# Ports (remembered in .run/stack/ports.env, so `down` and `verify` find the stack `up` started):
#   KAFKA_PORT (9092; the controller takes KAFKA_PORT+1), PG_PORT (55432), CITYMATCH_GATEWAY_PORT (8000).
#
# `up` is safe to repeat: whatever is already running is kept, whatever is missing (a broker, the database, a
# worker that died) is started. The first `up` creates the local stack's Ed25519 signing key in
# .run/stack/ledger-signing-key.json (mode 0600) and keeps it; settlement signs with it on every start, and
# `verify` checks the ledger against its public key (.run/stack/ledger-public-key).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
RUN="$REPO/.run/stack"
PORTS="$RUN/ports.env"
KEY_FILE="$RUN/ledger-signing-key.json"
PUB_FILE="$RUN/ledger-public-key"
cd "$REPO"

# The ports of a stack that is up win over the defaults (an explicit variable wins over both).
if [ -f "$PORTS" ]; then
  # shellcheck disable=SC1090
  saved() { (source "$PORTS"; eval "echo \${$1:-}"); }
  KAFKA_PORT="${KAFKA_PORT:-$(saved KAFKA_PORT)}"
  PG_PORT="${PG_PORT:-$(saved PG_PORT)}"
  CITYMATCH_GATEWAY_PORT="${CITYMATCH_GATEWAY_PORT:-$(saved CITYMATCH_GATEWAY_PORT)}"
fi
export KAFKA_PORT="${KAFKA_PORT:-9092}" PG_PORT="${PG_PORT:-55432}"
export CITYMATCH_GATEWAY_PORT="${CITYMATCH_GATEWAY_PORT:-8000}"

database_url() {
  local url
  url="$(bash "$HERE/postgres/pg.sh" url)"
  echo "${url#DATABASE_URL=}"
}

signing_key() {
  # Made once per checkout; never printed (only its public half is).
  if [ ! -s "$KEY_FILE" ]; then
    mkdir -p "$RUN"
    (umask 077 && .venv/bin/citymatch ledger keygen >"$KEY_FILE.tmp" && mv "$KEY_FILE.tmp" "$KEY_FILE")
    echo "created the local stack's ledger signing key in $KEY_FILE" >&2
  fi
  .venv/bin/python -c 'import json,sys; k=json.load(open(sys.argv[1])); print(k["public_key"], file=open(sys.argv[2], "w")); print(k["signing_key"])' \
    "$KEY_FILE" "$PUB_FILE"
}

case "${1:-}" in
  up)
    bash "$HERE/kafka/kafka.sh" start
    bash "$HERE/postgres/pg.sh" start
    mkdir -p "$RUN"
    printf 'KAFKA_PORT=%s\nPG_PORT=%s\nCITYMATCH_GATEWAY_PORT=%s\n' "$KAFKA_PORT" "$PG_PORT" \
      "$CITYMATCH_GATEWAY_PORT" >"$PORTS"
    CITYMATCH_LEDGER_SIGNING_KEY="$(signing_key)"
    export CITYMATCH_LEDGER_SIGNING_KEY
    export KAFKA_BOOTSTRAP="127.0.0.1:$KAFKA_PORT"
    # The market runs the Ebina station-area community (its grid tariffs, sites and devices) and admits app
    # users who are not in its registry.
    export CITYMATCH_MARKET_COMMUNITY="${CITYMATCH_MARKET_COMMUNITY:-ebina}"
    export CITYMATCH_MARKET_ADMIT_UNREGISTERED="${CITYMATCH_MARKET_ADMIT_UNREGISTERED:-true}"
    DATABASE_URL="$(database_url)"
    export DATABASE_URL
    .venv/bin/python -m services.localstack up --gateway-port "$CITYMATCH_GATEWAY_PORT"
    echo "ledger public key (settlement signs with it): $(cat "$PUB_FILE")"
    echo "check the ledger against it with: make verify    stop everything with: make down"
    ;;
  down)
    .venv/bin/python -m services.localstack down || true
    bash "$HERE/kafka/kafka.sh" stop || true
    bash "$HERE/postgres/pg.sh" stop || true
    rm -f "$PORTS"
    ;;
  verify)
    [ -s "$PUB_FILE" ] || { echo "no local stack key yet ($PUB_FILE): run make up first" >&2; exit 2; }
    .venv/bin/citymatch ledger verify --database-url "$(database_url)" --public-key "$(cat "$PUB_FILE")"
    ;;
  *) echo "usage: infra/stack.sh up|down|verify" >&2; exit 2 ;;
esac
