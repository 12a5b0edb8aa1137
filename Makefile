# citymatch — two commands matter: `make demo` (embedded, no Java/Kafka/PostgreSQL) and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
BENCHES := pipeline gateway market ledger sim routing incentives charging acn

.PHONY: sim help venv demo demo-serve test test-unit test-integration lint up down verify bench $(addprefix bench-,$(BENCHES)) \
        kafka-fetch pg-install browser fonts clean locks images-check

help:
	@echo "make demo   - run a small Ebina scenario on the embedded default (in-process bus, SQLite ledger)"
	@echo "make demo-serve - the whole platform live in one process: dashboard and app on http://127.0.0.1:8000"
	@echo "make test   - install everything, start real Kafka + PostgreSQL, run the whole suite"
	@echo "make up     - run the whole stack here (Kafka, PostgreSQL, services, gateway on 127.0.0.1:8000)"
	@echo "make down   - stop it (ports: KAFKA_PORT, PG_PORT, CITYMATCH_GATEWAY_PORT; up remembers them)"
	@echo "make verify - check the local stack's ledger against its signing key (made once by make up)"
	@echo "make sim    - the Ebina crowd simulator on the weekday scenario (report in reports/sim/)"
	@echo "make lint   - ruff, and mypy (strict) on the contracts, the shared runtime and the domain cores"
	@echo "make locks  - recompile requirements.lock and each image's lock (requirements/*.lock) from the .in sets"
	@echo "make images-check - each image's runtime lock, alone in a fresh virtualenv, builds its services"
	@echo "make bench  - all benchmarks (JSON in reports/bench/); make bench-<name> for one of: $(BENCHES)"

venv:
	@bash infra/bootstrap.sh

demo: venv fonts
	@$(VENV)/bin/citymatch demo

demo-serve: venv   # the whole platform live in one process, on http://127.0.0.1:8000 (Ctrl-C stops it)
	@$(VENV)/bin/citymatch demo --serve

sim: venv fonts
	@$(VENV)/bin/citymatch sim run --scenario ebina_weekday

kafka-fetch:
	@bash infra/kafka/kafka.sh fetch

pg-install:
	@bash infra/postgres/pg.sh install

browser:   # Debian's chromium and a Japanese font, for the page tests and readable reports
	@bash infra/browser.sh install

fonts:     # only the Japanese font (skipped with a note where it cannot be installed)
	@bash infra/browser.sh fonts

test: venv kafka-fetch pg-install browser
	@bash infra/with-stack.sh $(VENV)/bin/pytest -q tests

test-unit: venv browser
	@$(VENV)/bin/pytest -q tests -m "not integration"

test-integration: venv kafka-fetch pg-install browser
	@bash infra/with-stack.sh $(VENV)/bin/pytest -q tests -m integration

lint: venv
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/mypy

locks: venv
	@$(PY) tools/images.py locks

# One virtualenv per image under .run/images (uv, from its cache); a few minutes on a busy machine.
images-check: venv
	@$(PY) tools/images.py check

up: venv kafka-fetch pg-install
	@bash infra/stack.sh up

down:
	@bash infra/stack.sh down

verify: venv
	@bash infra/stack.sh verify

bench: $(addprefix bench-,$(BENCHES))

bench-pipeline: venv kafka-fetch pg-install
	@bash infra/with-stack.sh $(PY) -m bench.pipeline

bench-gateway: venv kafka-fetch pg-install
	@bash infra/with-stack.sh $(PY) -m bench.pipeline --gateway-only

bench-ledger: venv pg-install
	@bash infra/with-stack.sh $(PY) -m bench.ledger

bench-market: venv
	@$(PY) -m bench.market

bench-sim: venv
	@$(PY) -m bench.sim

# PyVRP is the comparison solver only: installed here into the virtualenv, never part of requirements.lock.
bench-routing: venv
	@$(VENV)/bin/uv pip install --quiet --python $(PY) -c requirements.lock "pyvrp==0.14.1"
	@$(PY) -m bench.routing --solomon data/vrptw/solomon --darp data/darp/cordeau_laporte --seconds 10

bench-incentives: venv
	@$(PY) -m bench.incentives

bench-charging: venv
	@$(PY) -m bench.charging

# ACN-Sim (acnportal, which needs numpy 1.26 / pandas 2.2) runs in its own environment, made once under .run/.
bench-acn: venv
	@$(PY) -m bench.acn --sessions data/ev_sessions/acn_caltech_2019-03_events.json.gz --network caltech --caps 30,50,70

clean:
	rm -rf .run reports
