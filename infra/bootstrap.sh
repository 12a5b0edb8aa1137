#!/usr/bin/env bash
# Creates .venv with the pinned dependencies (requirements.lock) and installs the project into it.
# Idempotent: re-running only installs what changed. Needs Python >= 3.11 and PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "[bootstrap] creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
stamp=.venv/.citymatch-lock
want="$(sha256sum requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "[bootstrap] installing pinned packages from requirements.lock"
  .venv/bin/python -m pip install -q --disable-pip-version-check uv==0.13.8
  VIRTUAL_ENV="$PWD/.venv" .venv/bin/uv pip install -q -r requirements.lock
  VIRTUAL_ENV="$PWD/.venv" .venv/bin/uv pip install -q --no-deps -e .
  echo "$want" > "$stamp"
fi
