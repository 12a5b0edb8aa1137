"""Whether two runs can be set side by side, and the per-person view when their populations differ.

Absolute loads, footfall and sales grow with the number of people simulated; the level of service grows
faster than linearly (queues). So two runs are compared as they are only when they simulate the same share
of the real ridership on the same network; otherwise the comparison is refused with the reason, or, when
asked, shown per 1,000 simulated people without the levels of service.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from simulator.formatting import number

REQUIRED = ("scenario", "agents", "scale", "network_source", "chokepoints", "worst_los", "worst_los_window",
            "footfall", "sales_yen")
SCALE_TOLERANCE = 0.01  # relative difference in the sampled share of ridership still called "the same"
PER_PEOPLE = 1000
# Counts that scale with the population (per chokepoint: the flows).
COUNT_KEYS = ("trips", "footfall_total", "sales_yen_total", "offers_sent", "shifted_trips", "cost_yen",
              "peak_load_per_min")
CHOKEPOINT_COUNT_KEYS = ("daily_flow", "peak_flow_per_min", "peak_15min_flow_per_min", "peak_flow_per_m_min")


@dataclass
class Comparability:
    """``problems`` that no normalisation fixes; ``population`` differences that per-person figures do."""

    problems: list[str] = field(default_factory=list)
    population: list[str] = field(default_factory=list)

    @property
    def comparable(self) -> bool:
        return not self.problems and not self.population


def check(a: dict[str, Any], b: dict[str, Any]) -> Comparability:
    """Why the KPIs of run A and run B cannot be read side by side as they are (empty when they can)."""
    out = Comparability()
    for label, run in (("A", a), ("B", b)):
        missing = [k for k in REQUIRED if k not in run]
        if missing:
            out.problems.append(f"run {label} ({run.get('scenario', '?')}) lacks {', '.join(missing)}: it was "
                                "written by an older version of the simulator; run it again")
    if out.problems:
        return out
    if a["network_source"] != b["network_source"]:
        out.problems.append(f"the runs use different walking networks ({a['network_source']} and "
                            f"{b['network_source']}), so their chokepoints are not the same walkways")
    sa, sb = float(a["scale"]), float(b["scale"])
    if abs(sa - sb) > SCALE_TOLERANCE * max(sa, sb):
        out.population.append(
            f"run A simulates {number(a['agents'])} people ({sa:.1%} of its scenario's real ridership) and run B "
            f"{number(b['agents'])} ({sb:.1%}): loads, footfall and sales grow with the population and the level "
            "of service faster than that; run both at the same share (without --agents both are at 100 %), "
            "or compare per person with --per-person")
    return out


def per_person(kpis: dict[str, Any]) -> dict[str, Any]:
    """A copy with every population-dependent count per 1,000 simulated people; levels of service dropped."""
    out = copy.deepcopy(kpis)
    factor = PER_PEOPLE / max(int(kpis["agents"]), 1)
    for key in COUNT_KEYS:
        if isinstance(out.get(key), int | float):
            out[key] = round(out[key] * factor, 2)
    for group in ("footfall", "sales_yen"):
        out[group] = {k: round(v * factor, 2) for k, v in out[group].items()}
    for cp in out["chokepoints"].values():
        for key in CHOKEPOINT_COUNT_KEYS:
            cp[key] = round(cp[key] * factor, 2)
        for key in ("los", "los_flow", "los_space"):
            cp[key] = "n/a"
    out["worst_los"] = "n/a"
    out["per_person"] = PER_PEOPLE
    return out
