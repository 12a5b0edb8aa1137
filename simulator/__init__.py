"""The Ebina AI-city simulator: people walking the station area, incentive offers, and their KPIs.

Quick start::

    import simulator
    result = simulator.run_scenario("ebina_weekday", agents=20_000)
    result.kpis["chokepoints"]["free_passage"]["los_flow"]

The names below are imported on first use, so ``python -m simulator.<module>`` and the CLI stay light.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "SimResult": "simulator.run",
    "run_scenario": "simulator.run",
    "run_kpis": "simulator.run",
    "Scenario": "simulator.scenario",
    "load_scenario": "simulator.scenario",
    "shipped_scenarios": "simulator.scenario",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'simulator' has no attribute {name!r}")
