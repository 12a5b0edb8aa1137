"""``citymatch sim campaign``: run a campaign's day in the simulated city and write its report.

The same day is walked without the campaign and with it (same population, same seed): the counterfactual.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from services.incentives.adapters import simulated_city as city
from services.incentives.adapters.report import summary, write_report
from services.incentives.campaign_day import run_day
from services.incentives.ebina import gate_campaign
from shared.settings import REPO_ROOT


def campaign_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="citymatch sim campaign", description=__doc__)
    parser.add_argument("--scenario", default="ebina_weekday", help="shipped scenario name or YAML path")
    parser.add_argument("--budget", type=int, default=50_000, help="daily budget (expected spend), yen")
    parser.add_argument("--guard-factor", type=int, default=3, help="worst-case guard as a multiple of the budget")
    parser.add_argument("--focus", choices=["window", "peak"], default="window")
    parser.add_argument("--share", type=float, default=0.1, help="the goal's cut, e.g. 0.1 for 10 %%")
    parser.add_argument("--reach", type=float, default=0.3, help="share of people with the app")
    parser.add_argument("--prior-factor", type=float, default=1.0,
                        help="start the acceptance estimates this many times the true rates (2 = twice too high)")
    parser.add_argument("--agents", type=int, help="population size (default: the scenario's)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, help="output directory (default reports/campaign/<campaign>/)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.budget <= 0 or args.guard_factor < 1 or not 0 < args.share <= 1 or not 0 < args.reach <= 1:
        print("error: --budget > 0, --guard-factor >= 1, --share and --reach in (0, 1]")
        return 2
    campaign = gate_campaign(args.budget, guard_factor=args.guard_factor, focus=args.focus, share=args.share)
    peak = city.load_peak(campaign, args.scenario, reach=args.reach, seed=args.seed, agents=args.agents)
    day = run_day(campaign, peak, prior=city.true_acceptance(campaign) * args.prior_factor, seed=args.seed)
    out = args.out or REPO_ROOT / "reports" / "campaign" / campaign.campaign_id
    path = write_report(day, out)
    for key, value in summary(day).items():
        print(f"{key:>36}: {value}")
    print(f"report: {path}")
    return 0
