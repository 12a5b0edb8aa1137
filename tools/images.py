"""Service images: which lock each image installs, and a check that each lock alone runs its services.

There is one image per service folder, built from ``infra/Dockerfile`` with ``--build-arg SERVICE=<image>``; it
installs ``requirements/<image>.lock`` and nothing else, then the project's code. This module is the one place that
says which commands (``python -m services <command>``) each image runs; ``tests/unit/infra/test_images.py`` checks
the locks, the Dockerfile and docker-compose against it, and

    python tools/images.py locks           # recompile requirements.lock and every requirements/<set>.lock
    python tools/images.py check [image..] # each runtime lock in a fresh virtualenv builds its services

``check`` (``make images-check``) is the proof without a Docker engine: for each image it installs the image's lock
into a virtualenv of its own under ``.run/images/`` (uv, from its cache; reused while the lock is unchanged), copies
the folders the Dockerfile copies, and in that virtualenv, from that copy, builds each of the image's services the
way ``python -m services`` does without starting it (a worker's Faust app with its agents and timers bound; the
gateway's FastAPI app; the charger gateway's OCPP server object). A package a service needs that its lock lacks
fails the build with the ImportError that would stop the container.

Only the standard library is imported at module level: ``check`` runs this file's probe inside the image's
virtualenv.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements"
FULL_LOCK = ROOT / "requirements.lock"
WORK = ROOT / ".run" / "images"

# image -> the commands its container runs (the first one is its default).
IMAGES: dict[str, tuple[str, ...]] = {
    "market": ("market",),
    "settlement": ("settlement",),
    "gateway": ("gateway",),
    "charging": ("charging", "charger-gateway"),
    "incentives": ("incentives",),
    "mobility": ("mobility",),
    "logistics": ("logistics",),
    "simulator": ("city-sim", "city-monitor"),
}
# How the check runs a command beyond the defaults (as `make up` does: the market with the Ebina community file).
PROBE_ENV: dict[str, dict[str, str]] = {"market": {"CITYMATCH_MARKET_COMMUNITY": "ebina"}}
# Sets compiled beside the images' sets: the dev tools (and requirements.lock, the whole development environment).
OTHER_SETS = ("dev",)
# What the Dockerfile copies into every image (code and the shipped data: road graphs, scenarios, rail lines).
APP_DIRS = ("shared", "services", "simulator", "data")
# Never in a service's image.
DEV_ONLY = frozenset({"pytest", "pytest-timeout", "ruff", "mypy", "hypothesis", "playwright", "schemathesis",
                      "testcontainers"})
# Packages an image must not carry (beyond DEV_ONLY): the market has no road network, no plots, no PV model.
EXCLUDED: dict[str, frozenset[str]] = {
    "market": frozenset({"osmnx", "geopandas", "shapely", "pyproj", "networkx", "matplotlib", "pvlib", "mesa"}),
    "settlement": frozenset({"osmnx", "geopandas", "ortools", "matplotlib"}),
    "gateway": frozenset({"osmnx", "geopandas", "ortools", "matplotlib", "faust-streaming"}),
    "charging": frozenset({"osmnx", "geopandas", "matplotlib"}),
    "incentives": frozenset({"osmnx", "geopandas", "matplotlib"}),
}

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;]+)")


def normalise(name: str) -> str:
    """A distribution's canonical name (PEP 503): lower case, runs of ``-_.`` as one ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(path: Path) -> dict[str, str]:
    """``{distribution: version}`` pinned by a lock made by ``uv pip compile``."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _PIN.match(line)
        if m:
            pins[normalise(m.group(1))] = m.group(3)
    return pins


def read_set(path: Path) -> dict[str, str]:
    """``{distribution: requirement line}`` a ``.in`` file asks for, following its ``-r`` includes."""
    wanted: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r "):
            wanted.update(read_set(path.parent / line[3:].strip()))
            continue
        name = re.split(r"[\[<>=!~;\s]", line, maxsplit=1)[0]
        wanted[normalise(name)] = line
    return wanted


def lock_path(name: str) -> Path:
    return REQUIREMENTS / f"{name}.lock"


def uv() -> str:
    found = Path(sys.executable).with_name("uv")
    return str(found) if found.exists() else "uv"


def compile_locks() -> None:
    """requirements.lock from requirements.in (keeping its pins), then each set constrained to it."""
    base = [uv(), "pip", "compile", "--quiet", "--python-version", "3.11"]
    subprocess.run([*base, "requirements.in", "-o", "requirements.lock"], cwd=ROOT, check=True)
    for name in (*IMAGES, *OTHER_SETS):
        subprocess.run([*base, f"requirements/{name}.in", "-c", "requirements.lock", "-o", f"requirements/{name}.lock"],
                       cwd=ROOT, check=True)
        print(f"requirements/{name}.lock: {len(read_lock(lock_path(name)))} packages")


def _venv(image: str) -> tuple[Path, float]:
    """The image's virtualenv with exactly its lock installed (made again when the lock changed)."""
    venv = WORK / image
    lock = lock_path(image)
    want = hashlib.sha256(lock.read_bytes()).hexdigest()
    stamp = venv / ".citymatch-lock"
    start = time.perf_counter()
    if not stamp.exists() or stamp.read_text() != want:
        subprocess.run([uv(), "venv", "--quiet", "--clear", "--python", "3.11", str(venv)], check=True)
        subprocess.run([uv(), "pip", "sync", "--quiet", "--python", str(venv / "bin" / "python"), str(lock)],
                       check=True)
        stamp.write_text(want)
    return venv, time.perf_counter() - start


def _stage() -> Path:
    """What the Dockerfile copies, in a folder of its own (so nothing outside it can be found by accident)."""
    app = WORK / "app"
    shutil.rmtree(app, ignore_errors=True)
    for folder in APP_DIRS:
        shutil.copytree(ROOT / folder, app / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return app


def _probe(command: str) -> dict[str, object]:
    """Runs inside an image's virtualenv: build ``command``'s service as ``python -m services`` would, not start it."""
    import importlib.metadata as md

    start = time.perf_counter()
    from shared.settings import Settings

    settings = Settings.from_env()
    if command == "gateway":
        from services.bootstrap import gateway_app

        built = gateway_app(settings)
    elif command == "charger-gateway":
        from services.charging.bootstrap import build_charger_gateway

        built = build_charger_gateway(settings)
    else:
        from services.bootstrap import build
        from shared.bus.faust_app import build_app

        built = build_app(build(command, settings), settings)
    seconds = time.perf_counter() - start
    by_module = md.packages_distributions()
    imported = sorted({normalise(d) for m in list(sys.modules) for d in by_module.get(m.split(".")[0], ())})
    return {"command": command, "built": type(built).__name__, "seconds": round(seconds, 2), "imported": imported}


def _run_probe(venv: Path, app: Path, command: str, scratch: Path) -> dict[str, object]:
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(scratch), "PYTHONPATH": str(app),
           "PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1",
           "CITYMATCH_DATA_DIR": str(scratch), "CITYMATCH_DATABASE_URL": f"sqlite:///{scratch / 'ledger.sqlite'}",
           "CITYMATCH_KAFKA_BOOTSTRAP": "127.0.0.1:1", "CITYMATCH_LOG_LEVEL": "WARNING",
           **PROBE_ENV.get(command, {})}
    usage = subprocess.run([str(venv / "bin" / "python"), "-m", "services", "--help"], cwd=app, env=env,
                           capture_output=True, text=True)
    if usage.returncode != 0:
        raise SystemExit(f"{venv.name}: python -m services --help failed:\n{usage.stderr}")
    done = subprocess.run([str(venv / "bin" / "python"), str(Path(__file__).resolve()), "probe", command], cwd=app,
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{venv.name}: building {command!r} from requirements/{venv.name}.lock failed:\n"
                         f"{done.stderr[-4000:]}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def check(images: list[str]) -> list[dict[str, object]]:
    unknown = sorted(set(images) - set(IMAGES))
    if unknown:
        raise SystemExit(f"unknown image(s) {', '.join(unknown)}; choose from {', '.join(IMAGES)}")
    WORK.mkdir(parents=True, exist_ok=True)
    app = _stage()
    rows = []
    for image in images:
        pins = read_lock(lock_path(image))
        banned = sorted((DEV_ONLY | EXCLUDED.get(image, frozenset())) & set(pins))
        if banned:
            raise SystemExit(f"requirements/{image}.lock holds {', '.join(banned)}, which its image must not carry")
        venv, install_s = _venv(image)
        scratch = WORK / "scratch" / image
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        for command in IMAGES[image]:
            probe = _run_probe(venv, app, command, scratch)
            row = {"image": image, "packages": len(pins), "install_s": round(install_s, 1), **probe}
            rows.append(row)
            print(f"{image:11} {command:15} {len(pins):3} packages  install {install_s:5.1f} s  "
                  f"build {probe['seconds']:5.1f} s  ok", flush=True)
    return rows


def main(argv: list[str]) -> int:
    if argv[:1] == ["probe"]:
        print(json.dumps(_probe(argv[1])))
        return 0
    if argv[:1] == ["locks"]:
        compile_locks()
        return 0
    if argv[:1] == ["check"]:
        rows = check(argv[1:] or list(IMAGES))
        out = ROOT / "reports" / "images" / "check.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
        print(f"every image built its services from its own lock; details in {out.relative_to(ROOT)}")
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
