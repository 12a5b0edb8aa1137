"""Benchmark of one slot's clearing at 1,000 / 10,000 / 100,000 orders.

Cases per size: (a) ``flat``: no tiers, no line limits: the min-cost flow against a numpy merit-order
baseline; both must reach the same surplus. (b) ``tiers``: tiers A/B, line limits on half the sites and the
grid as residual trader: the min-cost flow against the LP optimum (GLOP) of the same network. (c)
``tiers_green``: as (b) plus green buyers paying a renewable premium, so a limited line carries two kinds
of energy; when such a line binds and green demand on it exceeds its renewable supply, the clearing
solves a small LP over order classes (HiGHS) for each line's renewable share, then the min-cost flow with
the line split at that share; again checked against GLOP on the full network.

    .venv/bin/python -m bench.market [--quick] [--seed 7]
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from bench.common import peak_memory_mb, timed, write_report
from services.market.domain.clearing import clear
from services.market.domain.merit_order import merit_order_surplus
from services.market.domain.network import build_network
from services.market.domain.problem import NO_SITE, Problem, Rules, make_problem
from services.market.domain.solvers import solve_lp

FEE_SEN = 1000


def synthetic_slot(n_orders: int, seed: int, *, tiers: bool, green: bool = True, n_sites: int = 40
                   ) -> tuple[Problem, Rules]:
    """Seeded orders with realistic sizes (households 0.1-3 kWh, a few offices and malls up to 200 kWh)
    and prices around the seed's Table 1 (asks 7-22 yen/kWh, bids 15-30 yen/kWh, 2 decimals)."""
    rng = np.random.default_rng(seed)
    n_sell = n_orders // 2
    n_buy = n_orders - n_sell

    def sizes(n: int) -> np.ndarray:
        wh = np.rint(rng.lognormal(np.log(800), 0.7, n)).astype(np.int64)
        big = rng.random(n) < 0.01
        wh[big] = rng.integers(10_000, 200_000, int(big.sum()))
        return np.maximum(wh, 1)

    sell_ask = np.clip(np.rint(rng.normal(1400, 350, n_sell)), 700, 2200).astype(np.int64)
    buy_limit = np.clip(np.rint(rng.normal(2200, 400, n_buy)), 1500, 3000).astype(np.int64)
    if not tiers:
        return make_problem(sizes(n_sell), sell_ask, sizes(n_buy), buy_limit), Rules(wheeling_sen=FEE_SEN)
    sites = [f"site-{k:02d}" for k in range(n_sites)]
    sell_site = np.where(rng.random(n_sell) < 0.6, rng.integers(0, n_sites, n_sell), NO_SITE)
    buy_site = np.where(rng.random(n_buy) < 0.6, rng.integers(0, n_sites, n_buy), NO_SITE)
    renewable = rng.random(n_sell) < 0.7
    bonus = np.where(rng.random(n_buy) < 0.3, 500, 0) if green else np.zeros(n_buy, dtype=np.int64)
    sell_wh = sizes(n_sell)
    site_volume = np.bincount(sell_site[sell_site >= 0], weights=sell_wh[sell_site >= 0], minlength=n_sites)
    caps = {s: int(0.3 * site_volume[k]) for k, s in enumerate(sites) if k % 2 == 0}
    rules = Rules(wheeling_sen=FEE_SEN, grid_retail_sen=2600, grid_buyback_sen=700, line_capacity_wh=caps)
    problem = make_problem(sell_wh, sell_ask, sizes(n_buy), buy_limit, sell_site=sell_site, sell_renewable=renewable,
                           buy_site=buy_site, buy_bonus=bonus, sites=sites, line_capacity_wh=caps)
    return problem, rules


SCENARIOS = {"flat": (False, False), "tiers": (True, False), "tiers_green": (True, True)}


def run_case(n_orders: int, scenario: str, seed: int, repeat: int) -> dict[str, Any]:
    tiers, green = SCENARIOS[scenario]
    problem, rules = synthetic_slot(n_orders, seed, tiers=tiers, green=green)
    with peak_memory_mb() as mem:
        result = clear(problem, rules, "pay-as-clear")
    seconds, result = timed(lambda: clear(problem, rules, "pay-as-clear"), repeat)
    broken = result.problems()
    if tiers:
        base_seconds, reference = timed(lambda: -solve_lp(build_network(problem, rules), "GLOP").cost, 1)
        baseline_name = "LP optimum (GLOP on the same network)"
    else:
        base_seconds, (reference, _) = timed(
            lambda: merit_order_surplus(problem.sell_wh, problem.sell_ask, problem.buy_wh, problem.buy_limit,
                                        FEE_SEN), repeat)
        baseline_name = "numpy merit order"
    gap = abs(result.surplus - reference) / max(abs(reference), 1)
    return {
        "orders": n_orders, "tiers": tiers, "scenario": scenario, "green_buyers": green,
        "seconds": round(seconds, 4), "baseline_seconds": round(base_seconds, 4),
        "surplus_rel_gap": gap, "peak_mem_mb": round(mem["mb"], 1), "solver": result.solver,
        "trades": len(result.trades), "traded_kwh": result.traded_wh / 1000, "surplus_yen": result.surplus / 1e5,
        "baseline": baseline_name, "invariants_ok": not broken,
        "time_ratio": round(seconds / base_seconds, 2) if base_seconds > 0 else None,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1,000 and 10,000 orders only, one repetition")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]
    repeat = 1 if args.quick else 3
    cases = [run_case(n, scenario, args.seed, repeat) for n in sizes for scenario in SCENARIOS]
    for c in cases:
        print(f"{c['orders']:>7} orders {c['scenario']:12} {c['solver']:14} {c['seconds']:.3f}s "
              f"baseline {c['baseline_seconds']:.3f}s gap {c['surplus_rel_gap']:.2e} mem {c['peak_mem_mb']} MB")
    largest = [c for c in cases if c["orders"] == sizes[-1]]
    metrics = {"cases": cases,
               "largest_under_2s": {c["scenario"]: c["seconds"] < 2.0 for c in largest},
               "all_invariants_ok": all(c["invariants_ok"] for c in cases),
               "max_surplus_rel_gap": max(c["surplus_rel_gap"] for c in cases)}
    baseline = {"flat": "numpy merit order (sort asks up, bids down, walk the curves)",
                "tiers": "LP optimum of the same network (GLOP)", "tiers_green": "LP optimum (GLOP)"}
    ratio = {f"{c['orders']}_{c['scenario']}": c["time_ratio"] for c in cases}
    path = write_report("market", {"sizes": sizes, "seed": args.seed, "repeat": repeat, "wheeling_sen": FEE_SEN},
                        metrics, baseline, ratio)
    print(f"report: {path}")
    return metrics


if __name__ == "__main__":
    main()
