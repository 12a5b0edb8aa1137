"""Benchmark: the campaign optimiser at scale, its effect in the simulated Ebina weekday, and the closed loop.

1. Scale: 100,000 users x 8 offers for one evening peak (people crossing the concourse 17:30-18:30 in the
   simulated weekday, drawn with replacement, each with their own acceptance): solve time and gap to the
   LP bound; greedy (best ratio first) on the same instance is the baseline.
2. Effect: the Odakyu gate line's morning peak, weekday scenario, same seed and the same daily budget for
   ours, random, broadcast (today's scenario offer: 100 yen for 30 minutes earlier to everyone who fits)
   and greedy; each allocation is answered by the choice model and the day is walked again.
3. The budget at which ours cuts the peak 15 minutes by 10 % (a peak-focused campaign), by bisection.
4. Closed loop: acceptance estimates start wrong by a factor of 2 (both ways); 5-minute rounds with
   (every pair x2, every pair /2, or each pair x2 or /2 at random);
   Thompson sampling over the morning's crossings (12 rounds a day, days repeated with fresh answers);
   rounds until the estimates the true plan relies on are within 20 % (mean relative error weighted by
   each (segment, offer) pair's share of the true-model plan's offers) and the plan's effect, judged
   by the true model, within 5 % of the true-model plan's.

    .venv/bin/python -m bench.incentives            # full population
    .venv/bin/python -m bench.incentives --quick    # 30,000 people, fewer rounds
"""

from __future__ import annotations

import argparse
import logging
import time
from typing import Any

import numpy as np

from bench.common import write_report
from services.incentives.adapters import simulated_city as city
from services.incentives.domain.acceptance import AcceptanceEstimates
from services.incentives.domain.allocation import NONE, AllocationProblem, totals
from services.incentives.domain.baselines import greedy, random_allocation
from services.incentives.domain.campaign import Campaign, Goal
from services.incentives.domain.effects import load_cut_effect
from services.incentives.domain.optimiser import SolveParams, solve
from services.incentives.domain.people import UserHistory
from services.incentives.domain.rounds import plan_round
from services.incentives.ebina import BROADCAST_OFFER, GATE_CATALOGUE, gate_campaign
from simulator.allocation import acceptance, crossings
from simulator.demand import PURPOSES

log = logging.getLogger("bench.incentives")
SEED = 7


def problem_for(campaign: Campaign, peak: city.SimulatedPeak, p_segment: np.ndarray,
                rows: np.ndarray | None = None) -> tuple[AllocationProblem, np.ndarray]:
    ri = city.round_input(peak, campaign, rows=rows)
    p = p_segment[ri.segment]
    face = np.array([o.reward_yen for o in campaign.catalogue])
    b = campaign.budget
    return AllocationProblem(p * ri.effect, p, face, ri.applicable, b.daily_yen, b.guard_yen), ri.segment


# ----------------------------------------------------------------------------------------------- scale
def scale(peak: city.SimulatedPeak, users: int, seed: int) -> dict[str, Any]:
    sim = peak.sim
    cross = crossings(sim.demand, sim.result, sim.network, "concourse")
    goal = Goal("cut_load", "concourse", (17 * 60 + 30, 18 * 60 + 30), 0.1)
    near = np.flatnonzero((cross.minute >= goal.window[0] - 60) & (cross.minute < goal.window[1] + 60))
    rng = np.random.default_rng([seed, 3])
    pick = near[rng.integers(0, len(near), size=users)]
    effect, applicable = load_cut_effect(goal, GATE_CATALOGUE, cross.minute[pick], cross.load.astype(float))
    p_seg = acceptance(np.arange(len(PURPOSES)), city.sim_offers(gate_campaign()))
    # people differ within a segment: a seeded log-odds spread of 0.5 around the segment's acceptance
    logit = np.log(p_seg[cross.purpose[pick]] / (1 - p_seg[cross.purpose[pick]])) + rng.normal(0, 0.5, effect.shape)
    p = 1 / (1 + np.exp(-logit))
    face = np.array([o.reward_yen for o in GATE_CATALOGUE])
    budget = 1_000_000
    problem = AllocationProblem(p * effect, p, face, applicable, budget, 3 * budget)
    t0 = time.perf_counter()
    ours = solve(problem)
    ours_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    g = greedy(problem)
    greedy_s = time.perf_counter() - t0
    g_value = totals(problem, g)[0]
    return {"users": users, "offers": len(GATE_CATALOGUE), "pairs_applicable": int(applicable.sum()),
            "budget_yen": budget, "guard_yen": 3 * budget, "seconds": round(ours_s, 3), "gap_to_bound": ours.gap,
            "objective": round(ours.objective, 2), "bound": round(ours.bound, 2), "method": ours.method,
            "expected_cost_yen": round(ours.expected_cost_yen), "worst_case_cost_yen": round(ours.worst_case_cost_yen),
            "greedy_seconds": round(greedy_s, 3), "greedy_objective": round(g_value, 2)}


# ---------------------------------------------------------------------------------------------- effect
def methods(peak: city.SimulatedPeak, campaign: Campaign, seed: int) -> dict[str, dict[str, Any]]:
    truth = city.true_acceptance(campaign)
    problem, _ = problem_for(campaign, peak, truth)
    catalogue = city.sim_offers(campaign)
    budget = campaign.budget.daily_yen
    choices = {"ours": solve(problem).choice, "greedy": greedy(problem),
               "random": random_allocation(problem, np.random.default_rng([seed, 11]))}
    out: dict[str, dict[str, Any]] = {}
    for name, choice in choices.items():
        rows = np.flatnonzero(choice != NONE)
        out[name] = measured(city.replay(peak, peak.candidates[rows], choice[rows], catalogue, budget_yen=budget),
                             budget)
    # today's behaviour: one fixed offer to every app user whom it takes out of the window, paid until the budget
    a, _b = campaign.goal.window
    j = campaign.index(BROADCAST_OFFER)
    t = peak.crossings.minute[peak.candidates]
    shift = campaign.catalogue[j].shift_min
    fits = np.flatnonzero((t >= a) & (t < campaign.goal.window[1]) & (t - shift < a))
    out["broadcast"] = measured(city.replay(peak, peak.candidates[fits], np.full(len(fits), j), catalogue,
                                            budget_yen=budget), budget)
    return out


def measured(r: city.Replay, budget: int) -> dict[str, Any]:
    return {"sent": r.sent, "accepted": r.accepted, "paid_yen": r.paid_yen, "window_removed": r.window_removed,
            "window_cut_pct": round(100 * r.window_cut_share, 2), "peak15_cut_pct": round(100 * r.peak_cut_share, 2),
            "removed_per_million_budget_yen": round(r.window_removed / budget * 1e6, 1),
            "removed_per_million_paid_yen": None if not r.paid_yen else round(r.window_removed / r.paid_yen * 1e6, 1)}


def budget_for_peak_cut(peak: city.SimulatedPeak, target: float, ladder: list[int]) -> dict[str, Any]:
    """Smallest budget (to bisection precision) at which ours cuts the peak 15 minutes by ``target``."""
    tried: list[dict[str, Any]] = []

    def cut_at(budget: int) -> float:
        campaign = gate_campaign(budget, focus="peak", share=target)
        problem, _ = problem_for(campaign, peak, city.true_acceptance(campaign))
        choice = solve(problem).choice
        rows = np.flatnonzero(choice != NONE)
        r = city.replay(peak, peak.candidates[rows], choice[rows], city.sim_offers(campaign), budget_yen=budget)
        tried.append({"budget_yen": budget, "peak15_cut_pct": round(100 * r.peak_cut_share, 2),
                      "paid_yen": r.paid_yen, "accepted": r.accepted})
        return r.peak_cut_share

    lo, hi = None, None
    for budget in ladder:
        if cut_at(budget) >= target:
            hi = budget
            break
        lo = budget
    if hi is not None and lo is not None:
        for _ in range(3):
            mid = (lo + hi) // 2
            if cut_at(mid) >= target:
                hi = mid
            else:
                lo = mid
    best = max(tried, key=lambda x: x["peak15_cut_pct"])
    return {"budget_for_10pct_cut_yen": hi, "largest_cut_pct": best["peak15_cut_pct"],
            "largest_cut_budget_yen": best["budget_yen"], "tried": tried}


# ----------------------------------------------------------------------------------------- closed loop
def closed_loop(peak: city.SimulatedPeak, campaign: Campaign, factor: float | str, max_rounds: int,
                seed: int) -> dict[str, Any]:
    """``factor``: 2.0 or 0.5 for every pair, or "mixed" (each pair x2 or /2 at random, seeded)."""
    truth = city.true_acceptance(campaign)
    offers = tuple(o.offer_id for o in campaign.catalogue)
    ref_problem, seg = problem_for(campaign, peak, truth)
    ref = solve(ref_problem)
    used = ref.chosen
    pairs, counts = np.unique(np.stack([seg[used], ref.choice[used]]), axis=1, return_counts=True)
    weight = counts / counts.sum()  # each (segment, offer) pair by its share of the true plan's offers
    rng = np.random.default_rng([seed, {2.0: 1, 0.5: 2}.get(factor, 3)])  # type: ignore[call-overload]
    wrong = rng.choice([2.0, 0.5], size=truth.shape) if factor == "mixed" else np.full(truth.shape, factor)
    est = AcceptanceEstimates.from_prior(PURPOSES, offers, np.clip(truth * wrong, 0.001, 0.95), strength=20)
    a, b = campaign.goal.window
    t = peak.crossings.minute[peak.candidates]
    starts = list(range(a, b, campaign.round_minutes))  # one round per 5-minute slice of crossings
    per_round_budget = campaign.budget.daily_yen / len(starts)
    # the MIP re-decides 50 users: proven optimal in well under a second; the generous limit keeps a loaded
    # machine from cutting a solve short, so the same seed gives the same rounds
    fast = SolveParams(repair_users=50, repair_time_s=5.0)
    cut_short = 0
    rounds_est = rounds_eff = None
    trace = []
    history = UserHistory()
    for r in range(max_rounds):
        start = starts[r % len(starts)]
        if r % len(starts) == 0:
            history = UserHistory()
        rows = peak.candidates[(t >= start) & (t < start + campaign.round_minutes)]
        ri = city.round_input(peak, campaign, minute=start - 30, rows=rows)
        plan = plan_round(campaign, ri, est, history, per_round_budget, 3 * per_round_budget, rng, fast)
        cut_short += bool(plan.allocation and _cut_short(plan.allocation.method))
        for d in plan.decisions:
            s_i, o_i = PURPOSES.index(d.segment), offers.index(d.offer)
            accepted = bool(rng.random() < truth[s_i, o_i])
            est.update(s_i, o_i, accepted)
            history.offered(d.user)
            history.answered(d.user, accepted)
        mean = est.mean()
        rel = np.abs(mean[pairs[0], pairs[1]] / truth[pairs[0], pairs[1]] - 1)
        err = float((weight * rel).sum())
        plan_problem, _ = problem_for(campaign, peak, mean)
        plan_solution = solve(plan_problem, fast)
        choice = plan_solution.choice
        cut_short += _cut_short(plan_solution.method)
        chosen = np.flatnonzero(choice != NONE)
        true_value = float((truth[seg[chosen], choice[chosen]] * ref_problem.value[chosen, choice[chosen]]
                            / np.maximum(ref_problem.probability[chosen, choice[chosen]], 1e-12)).sum())
        # the plan made with the estimates, judged by the truth, within the true expected-cost budget
        true_cost = float((truth[seg[chosen], choice[chosen]] * ref_problem.face_yen[choice[chosen]]).sum())
        effect_ratio = true_value / ref.objective * min(1.0, campaign.budget.daily_yen / max(true_cost, 1e-9))
        trace.append({"round": r + 1, "weighted_rel_error": round(err, 3),
                      "max_rel_error_top_pairs": round(float(rel[weight >= 0.05].max()), 3),
                      "effect_ratio": round(effect_ratio, 4), "offers": len(plan.decisions)})
        if rounds_est is None and err <= 0.2:
            rounds_est = r + 1
        if rounds_eff is None and abs(1 - effect_ratio) <= 0.05:
            rounds_eff = r + 1
        settled = trace[-len(starts):]
        if rounds_est is not None and len(trace) >= len(starts) and all(
                x["weighted_rel_error"] <= 0.2 and abs(1 - x["effect_ratio"]) <= 0.05 for x in settled):
            break  # both hold, and have held for a whole day of rounds
    outside = [x["round"] for x in trace if x["weighted_rel_error"] > 0.2 or abs(1 - x["effect_ratio"]) > 0.05]
    stays = (outside[-1] + 1 if outside else 1) if not outside or outside[-1] < len(trace) else None
    return {"prior_factor": factor, "pairs_in_true_plan": len(weight), "pairs_with_5pct_of_offers":
            int((weight >= 0.05).sum()), "rounds_to_estimates_within_20pct": rounds_est,
            "rounds_to_effect_within_5pct": rounds_eff, "both_hold_from_round": stays, "rounds_run": len(trace),
            "solves_not_proven_optimal": cut_short,
            "final": trace[-1] if trace else None,
            "trace": trace[::max(len(trace) // 12, 1)]}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--budget", type=int, default=50_000, help="daily budget for the method comparison, yen")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    agents = 30_000 if args.quick else None
    campaign = gate_campaign(args.budget)
    t0 = time.perf_counter()
    peak = city.load_peak(campaign, agents=agents, seed=SEED)
    log.info("baseline day: %.1f s, %d app users near the window", time.perf_counter() - t0, len(peak.candidates))
    sc = scale(peak, 20_000 if args.quick else 100_000, SEED)
    log.info("scale: %s", sc)
    effect = methods(peak, campaign, SEED)
    log.info("effect: %s", effect)
    ladder = [25_000, 50_000, 100_000, 200_000, 400_000] if args.quick else [100_000, 200_000, 400_000, 800_000,
                                                                            1_600_000]
    cut = budget_for_peak_cut(peak, 0.10, ladder)
    log.info("10 %% cut: %s", cut)
    loops = [closed_loop(peak, campaign, f, 60 if args.quick else 144, SEED) for f in (2.0, 0.5, "mixed")]
    log.info("closed loop: %s", [(x["prior_factor"], x["rounds_to_estimates_within_20pct"],
                                   x["rounds_to_effect_within_5pct"], x["both_hold_from_round"]) for x in loops])
    per_budget = {k: v["removed_per_million_budget_yen"] for k, v in effect.items()}
    metrics = {
        "seconds": sc["seconds"], "gap_to_bound": sc["gap_to_bound"],
        "load_removed_per_million_yen": per_budget,
        "load_removed_per_million_yen_paid": {k: v["removed_per_million_paid_yen"] for k, v in effect.items()},
        "budget_for_10pct_cut_yen": cut["budget_for_10pct_cut_yen"],
        "largest_peak15_cut_pct": cut["largest_cut_pct"],
        "largest_peak15_cut_budget_yen": cut["largest_cut_budget_yen"],
        "budget_for_10pct_cut_note": _cut_note(cut, ladder),
        "effect": effect, "peak_cut_search": cut["tried"], "scale": sc,
        "closed_loop": loops,
        "closed_loop_rounds_to_estimates_within_20pct": {str(x["prior_factor"]): x["rounds_to_estimates_within_20pct"]
                                                         for x in loops},
        "closed_loop_rounds_to_effect_within_5pct": {str(x["prior_factor"]): x["rounds_to_effect_within_5pct"]
                                                     for x in loops},
        # the answer to "how many rounds until both hold": from this round on, both stay true to the end
        "closed_loop_rounds_until_both_hold": {str(x["prior_factor"]): x["both_hold_from_round"] for x in loops},
        "baseline_window_load": peak.baseline_window(), "baseline_peak15_per_min": round(peak.baseline_peak15(), 1),
    }
    ratio = {"ours_over_random": _ratio(per_budget["ours"], per_budget["random"]),
             "ours_over_greedy": _ratio(per_budget["ours"], per_budget["greedy"]),
             "ours_over_broadcast": _ratio(per_budget["ours"], per_budget["broadcast"]),
             "greedy_seconds_over_ours": _ratio(sc["greedy_seconds"], sc["seconds"])}
    params = {"scenario": "ebina_weekday", "seed": SEED, "agents": agents or "full ridership",
              "app_reach": 0.3, "chokepoint": "odakyu_gates", "window": "07:30-08:30",
              "daily_budget_yen": args.budget, "guard_yen": campaign.budget.guard_yen,
              "offers": [o.offer_id for o in GATE_CATALOGUE], "scale_users": sc["users"],
              "per_yen": "load_removed_per_million_yen: crossings removed from the window per million yen of the "
                         "daily budget (the same for every method); ..._paid: per million yen actually paid"}
    baseline = {"greedy_scale_seconds": sc["greedy_seconds"], "greedy_scale_objective": sc["greedy_objective"],
                "random": effect["random"], "greedy": effect["greedy"], "broadcast": effect["broadcast"]}
    path = write_report("incentives", params, metrics, baseline, ratio)
    log.info("wrote %s", path)
    return metrics


def _cut_short(method: str) -> bool:
    """The MIP stopped at its time limit (a machine-load dependent answer)."""
    return "feasible" in method or "no-solution" in method


def _cut_note(cut: dict[str, Any], ladder: list[int]) -> str:
    """One sentence on the 10 % target, so the JSON says plainly whether it was reached."""
    if cut["budget_for_10pct_cut_yen"] is not None:
        return (f"ours cuts the peak 15 minutes by 10 % from a daily budget of "
                f"{cut['budget_for_10pct_cut_yen']:,} yen (bisection between the budgets tried)")
    return (f"a 10 % cut of the peak 15 minutes is NOT reachable with this catalogue and app reach at any budget "
            f"tried (up to {max(ladder):,} yen): the largest cut is {cut['largest_cut_pct']} %, at "
            f"{cut['largest_cut_budget_yen']:,} yen; budget_for_10pct_cut_yen is null for that reason")


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


if __name__ == "__main__":
    main()
