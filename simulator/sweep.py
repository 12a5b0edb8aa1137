"""Try one offer at several reward levels and see what each buys: the planner's "which incentive?" question.

Every run uses the same population and seed, so differences come from the reward alone.
"""

from __future__ import annotations

from typing import Any

from simulator.run import run_scenario
from simulator.scenario import Scenario


def reward_sweep(s: Scenario, rewards: list[int], *, offer_index: int = 0,
                 agents: int | None = None) -> list[dict[str, Any]]:
    """One row per reward: acceptances, cost, and the change at the first targeted chokepoint."""
    if not s.offers:
        raise ValueError(f"scenario {s.name!r} has no offer to vary")
    if not 0 <= offer_index < len(s.offers):
        raise ValueError(f"offer index {offer_index} out of range (the scenario has {len(s.offers)})")
    rows = []
    for reward in rewards:
        offers = [o.model_dump() for o in s.offers]
        offers[offer_index]["reward_yen"] = reward
        offers[offer_index]["budget_yen"] = None  # the sweep asks what the reward buys, not what a budget allows
        k = run_scenario(s.with_overrides(offers=offers), agents=agents).kpis
        target = k.get("target") or {}
        outcome = k["offers"][offer_index]
        rows.append({
            "reward_yen": reward,
            "sent": outcome["sent"],
            "accepted": outcome["accepted"],
            "acceptance": round(outcome["accepted"] / outcome["sent"], 4) if outcome["sent"] else 0.0,
            "cost_yen": outcome["cost_yen"],
            "target_load_change_pct": target.get("load_change_pct", ""),
            "target_peak_change_pct": target.get("peak_change_pct", ""),
            "cost_per_trip_removed_yen": target.get("cost_per_trip_removed_yen") or "",
            "footfall_total": k["footfall_total"],
            "sales_yen_total": k["sales_yen_total"],
        })
    return rows
