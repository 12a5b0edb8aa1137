"""Services share only the contract package: no module of a service imports another service's modules, and
``shared/`` imports no service. Composition roots (``services/*.py``: the CLI, the demo, the bootstrap) wire
services together and are the one place allowed to name several."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
# Services that drive the city model (``simulator/``) from an adapter of their own: the campaigns' simulated
# city, and the build of the drive network from the city's map layers.
USES_THE_CITY_MODEL = {"incentives", "mobility"}


def _imports(path: Path) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            out.extend((node.lineno, alias.name) for alias in node.names)
    return out


def crossings(root: Path) -> list[str]:
    """Every import under ``root`` that crosses a service's boundary, as ``path:line imports module``."""
    found = []
    for path in sorted((root / "services").glob("*/**/*.py")):
        own = path.relative_to(root / "services").parts[0]
        for line, module in _imports(path):
            parts = module.split(".")
            other_service = parts[0] == "services" and len(parts) > 1 and parts[1] != own
            city_model = parts[0] == "simulator" and own not in USES_THE_CITY_MODEL
            if other_service or city_model:
                found.append(f"{path.relative_to(root).as_posix()}:{line} imports {module}")
    for path in sorted((root / "shared").glob("**/*.py")):
        for line, module in _imports(path):
            if module.split(".")[0] in ("services", "simulator"):
                found.append(f"{path.relative_to(root).as_posix()}:{line} imports {module}")
    return found


def test_no_service_imports_another_services_modules():
    assert crossings(REPO) == []


def test_the_check_reports_a_crossing(tmp_path):
    """The check is not vacuous: a gateway module naming the ledger's modules, or shared code naming a
    service, is reported with its line."""
    (tmp_path / "services" / "gateway").mkdir(parents=True)
    (tmp_path / "shared").mkdir()
    (tmp_path / "services" / "gateway" / "bad.py").write_text(
        "import json\nfrom services.settlement.ports import NotFound\nfrom services.gateway.deps import Bus\n")
    (tmp_path / "shared" / "bad.py").write_text("import services.market.service\n")
    assert crossings(tmp_path) == ["services/gateway/bad.py:2 imports services.settlement.ports",
                                   "shared/bad.py:1 imports services.market.service"]


def test_every_shared_module_imports():
    """Each module of ``shared/`` loads on its own (an import that a refactor broke fails here, not in a worker)."""
    import importlib

    names = sorted(".".join(p.relative_to(REPO).with_suffix("").parts) for p in (REPO / "shared").glob("**/*.py"))
    for name in names:
        importlib.import_module(name.removesuffix(".__init__"))
    assert "shared.bus.provision" in names
