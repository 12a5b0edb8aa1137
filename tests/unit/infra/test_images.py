"""Each service's image carries its own runtime lock: no test or lint tool, the market no road network, every pin
the development lock's, and the Dockerfile, docker-compose and pyproject's extras in step with tools/images.py.

`make images-check` goes further (too slow for the suite: a minute or more per image on a busy machine): it
installs each lock into a fresh virtualenv and builds the image's services from it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
_spec = importlib.util.spec_from_file_location("citymatch_images", ROOT / "tools" / "images.py")
assert _spec is not None and _spec.loader is not None
images = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(images)

RUNTIME = list(images.IMAGES)
FULL = images.read_lock(images.FULL_LOCK)


def test_every_service_has_an_image() -> None:
    from services.bootstrap import SERVICES

    commands = {c for cs in images.IMAGES.values() for c in cs}
    assert commands == set(SERVICES) | {"gateway", "charger-gateway"}


@pytest.mark.parametrize("name", [*RUNTIME, *images.OTHER_SETS])
def test_lock_agrees_with_the_development_lock(name: str) -> None:
    pins = images.read_lock(images.lock_path(name))
    assert pins, f"requirements/{name}.lock pins nothing"
    differ = {d: (v, FULL.get(d)) for d, v in pins.items() if FULL.get(d) != v}
    assert not differ, f"requirements/{name}.lock disagrees with requirements.lock (recompile: make locks): {differ}"


@pytest.mark.parametrize("name", [*RUNTIME, *images.OTHER_SETS])
def test_lock_holds_what_its_set_asks_for(name: str) -> None:
    wanted = images.read_set(images.REQUIREMENTS / f"{name}.in")
    missing = set(wanted) - set(images.read_lock(images.lock_path(name)))
    assert not missing, f"requirements/{name}.lock lacks {sorted(missing)} from {name}.in (recompile: make locks)"


def test_the_development_lock_holds_every_set() -> None:
    included = images.read_set(ROOT / "requirements.in")
    for name in [*RUNTIME, *images.OTHER_SETS, "tools"]:
        assert set(images.read_set(images.REQUIREMENTS / f"{name}.in")) <= set(included), name
    assert set(included) <= set(FULL)


@pytest.mark.parametrize("image", RUNTIME)
def test_no_test_or_lint_tool_in_a_runtime_lock(image: str) -> None:
    pins = images.read_lock(images.lock_path(image))
    assert not images.DEV_ONLY & set(pins)
    assert not images.EXCLUDED.get(image, frozenset()) & set(pins)


def test_the_market_carries_no_road_network() -> None:
    pins = images.read_lock(images.lock_path("market"))
    assert {"osmnx", "geopandas"}.isdisjoint(pins)
    assert {"ortools", "numpy", "faust-streaming", "pydantic-settings"} <= set(pins)


def test_the_dev_lock_carries_the_tools_and_they_stay_out_of_the_images() -> None:
    dev = images.read_lock(images.lock_path("dev"))
    assert set(dev) >= images.DEV_ONLY
    assert set(FULL) >= images.DEV_ONLY


def _names(requirements: list[str], extras: dict[str, list[str]]) -> set[str]:
    out: set[str] = set()
    for req in requirements:
        m = re.match(r"citymatch\[([a-z,-]+)\]$", req)
        if m:
            for extra in m.group(1).split(","):
                out |= _names(extras[extra], extras)
        else:
            out.add(images.normalise(re.split(r"[\[<>=!~;\s]", req, maxsplit=1)[0]))
    return out


@pytest.mark.parametrize("name", [*RUNTIME, "tools", "dev"])
def test_pyproject_extras_mirror_the_sets(name: str) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    got = _names(extras[name], extras) | (_names(project["dependencies"], extras) if name in RUNTIME else set())
    assert got == set(images.read_set(images.REQUIREMENTS / f"{name}.in"))


def test_dockerfile_installs_one_lock_runs_unprivileged_and_copies_the_app() -> None:
    text = (ROOT / "infra" / "Dockerfile").read_text(encoding="utf-8")
    assert "COPY requirements/${SERVICE}.lock" in text
    assert "requirements.lock" not in text.replace("requirements/${SERVICE}.lock", "")
    users = re.findall(r"^USER\s+(\S+)", text, flags=re.M)
    assert users and not users[-1].startswith(("root", "0"))
    copied = re.findall(r"^COPY\s+(?!--from)(\S+)\s+\./\S+$", text, flags=re.M)
    assert tuple(copied) == images.APP_DIRS
    entrypoint = json.loads(re.findall(r"^ENTRYPOINT\s+(\[.*\])$", text, flags=re.M)[-1])
    assert entrypoint[:2] == ["/bin/sh", "-c"] and "exec python -m services" in entrypoint[2]
    # uv, and everything else but the virtualenv, stays in the build stage
    final = text.rsplit("\nFROM ", 1)[1]
    assert "uv" not in re.sub(r"/opt/venv|\buv\b pip sync", "", final).split()


def test_build_context_leaves_out_the_virtualenv_and_run_state() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".venv", ".run", ".git", "reports"} <= set(ignored)
    assert not set(images.APP_DIRS) & set(ignored)


def test_entrypoint_runs_the_default_command_or_the_one_given() -> None:
    """The ENTRYPOINT's shell line, run here: no argument runs CITYMATCH_SERVICE, an argument replaces it."""
    text = (ROOT / "infra" / "Dockerfile").read_text(encoding="utf-8")
    entrypoint = json.loads(re.findall(r"^ENTRYPOINT\s+(\[.*\])$", text, flags=re.M)[-1])
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "PYTHONPATH": str(ROOT)}
    default = subprocess.run([*entrypoint], cwd=ROOT, env={**env, "CITYMATCH_SERVICE": "--help"},
                             capture_output=True, text=True, timeout=60)
    assert default.returncode == 0 and "python -m services" in default.stdout
    given = subprocess.run([*entrypoint, "no-such-service"], cwd=ROOT, env={**env, "CITYMATCH_SERVICE": "--help"},
                           capture_output=True, text=True, timeout=60)
    assert given.returncode != 0 and "unknown service 'no-such-service'" in given.stderr


def test_compose_runs_each_command_from_its_image() -> None:
    compose = yaml.safe_load((ROOT / "infra" / "docker-compose.yml").read_text(encoding="utf-8"))
    seen = set()
    for name, spec in compose["services"].items():
        if "build" not in spec:
            continue
        image = spec["build"]["args"]["SERVICE"]
        command = spec["command"][0]
        assert command in images.IMAGES[image], (name, image, command)
        assert spec["image"] == f"citymatch-{image}"
        seen.add(command)
    assert seen == {c for cs in images.IMAGES.values() for c in cs}


def test_building_the_market_imports_no_road_network_plots_or_pv_model() -> None:
    """The market's lock lacks osmnx and the rest: a module-level import that drags them in would stop its image."""
    code = (
        "import json, sys\n"
        "from shared.settings import Settings\n"
        "from services.bootstrap import build\n"
        "from shared.bus.faust_app import build_app\n"
        "s = Settings.from_env()\n"
        "build_app(build('market', s), s)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    env = {**os.environ, "CITYMATCH_KAFKA_BOOTSTRAP": "127.0.0.1:1", "CITYMATCH_MARKET_COMMUNITY": "ebina"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert loaded.isdisjoint({"osmnx", "geopandas", "shapely", "pyproj", "networkx", "matplotlib", "pvlib", "mesa",
                              "pytest", "hypothesis"})
