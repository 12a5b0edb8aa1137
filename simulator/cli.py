"""Command-line adapters: ``citymatch sim ...`` and ``citymatch data ...`` call these two functions.

They parse arguments, call the Python API and print a short summary; nothing else lives here.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from simulator.paths import DEFAULT_REPORT_ROOT, FETCHED_GRAPHML, SCHEMATIC_OSM

log = logging.getLogger(__name__)
EBINA_CENTRE = (35.4525, 139.3910)


def _print_table(rows: list[tuple[Any, ...]], header: tuple[str, ...]) -> None:
    from simulator.formatting import display_width

    widths = [max(display_width(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(c) + " " * (w - display_width(str(c))) for c, w in zip(row, widths, strict=True)))


def _load_kpis(ref: str, agents: int | None, scale: float | None = None) -> dict[str, Any]:
    """KPIs from a run directory, a kpis.json file, or by running a scenario (YAML path or shipped name)."""
    path = Path(ref)
    if path.is_dir() and (path / "kpis.json").exists():
        return json.loads((path / "kpis.json").read_text(encoding="utf-8"))
    if path.suffix == ".json" and path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    if not path.exists() and (DEFAULT_REPORT_ROOT / ref / "kpis.json").exists():
        return json.loads((DEFAULT_REPORT_ROOT / ref / "kpis.json").read_text(encoding="utf-8"))
    from simulator.run import run_scenario
    from simulator.scenario import load_scenario

    scenario = load_scenario(ref)
    if scale is not None:
        scenario = scenario.with_overrides(population={"scale": scale})
    return run_scenario(scenario, agents=agents, progress=True).kpis


def _cmd_run(args: argparse.Namespace) -> int:
    from simulator.kpis import formatted_rows, kpi_rows
    from simulator.report import write_report
    from simulator.run import run_scenario
    from simulator.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    if args.seed is not None:
        scenario = scenario.with_overrides(seed=args.seed)
    if args.scale is not None:
        scenario = scenario.with_overrides(population={"scale": args.scale})
    if args.network:
        scenario = scenario.with_overrides(network=args.network)
    sim = run_scenario(scenario, agents=args.agents, progress=not args.no_progress)
    out = Path(args.out) if args.out else DEFAULT_REPORT_ROOT / scenario.name
    written = write_report(sim, out)
    _print_table(formatted_rows(kpi_rows(sim.kpis)), ("KPI", "before offers", "scenario"))
    print(f"\nreport: {written['report.html']}")
    print(f"outputs in {out}: " + ", ".join(sorted(written)))
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from simulator.compare import check, per_person
    from simulator.report import compare_rows, write_compare

    a = _load_kpis(args.a, args.agents, args.scale)
    b = _load_kpis(args.b, args.agents, args.scale)
    verdict = check(a, b)
    if verdict.problems or (verdict.population and not args.per_person):
        print("error: these two runs are not comparable as they are:")
        for reason in verdict.problems + verdict.population:
            print(f"  - {reason}")
        return 2
    note = ""
    if verdict.population:
        a, b = per_person(a), per_person(b)
        note = ("Per 1,000 simulated people, because the runs simulate different shares of the ridership "
                "(levels of service are left out: they depend on absolute crowding). "
                + " ".join(verdict.population))
        print(f"note: {note}\n")
    out = Path(args.out) if args.out else DEFAULT_REPORT_ROOT / f"compare_{a['scenario']}_vs_{b['scenario']}"
    path = write_compare(a, b, out, note=note)
    _print_table(compare_rows(a, b), ("KPI", "A", "B"))
    print(f"\ncomparison: {path}")
    return 0


def _cmd_list(_args: argparse.Namespace) -> int:
    from simulator.scenario import load_scenario, shipped_scenarios

    for name in shipped_scenarios():
        print(f"{name}: {load_scenario(name).description}")
    return 0


def _cmd_calibration(args: argparse.Namespace) -> int:
    from simulator.choice import CALIBRATED, calibration_table, coupon_table

    rows = [(r["programme"], r["years"], r["reward_yen"], r["shift_min"], r["observed"], r["fitted"])
            for r in calibration_table()]
    _print_table(rows, ("programme", "years", "reward_yen", "shift_min", "observed", "fitted"))
    print(f"\nfitted: asc={CALIBRATED.asc:.3f} b_reward={CALIBRATED.b_reward:.3f}/100 yen "
          f"b_shift={CALIBRATED.b_shift:.3f}/10 min")
    print(f"\nacceptance of a {args.reward}-yen offer at Ebina:")
    table = coupon_table(args.reward)
    _print_table([tuple(r.values()) for r in table], tuple(table[0].keys()))
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    import csv

    from simulator.scenario import load_scenario
    from simulator.sweep import reward_sweep

    scenario = load_scenario(args.scenario)
    rewards = [int(x) for x in args.rewards.split(",")]
    rows = reward_sweep(scenario, rewards, offer_index=args.offer, agents=args.agents)
    _print_table([tuple(r.values()) for r in rows], tuple(rows[0].keys()))
    out = Path(args.out) if args.out else DEFAULT_REPORT_ROOT / f"sweep_{scenario.name}"
    out.mkdir(parents=True, exist_ok=True)
    with (out / "reward_sweep.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"\nsweep: {out / 'reward_sweep.csv'}")
    return 0


def sim_main(argv: list[str]) -> int:
    """``citymatch sim run|compare|sweep|list|calibration|campaign``."""
    if argv[:1] == ["campaign"]:  # a campaign's day and its counterfactual (the campaign service's optimiser)
        from services.incentives.cli import campaign_main

        return campaign_main(argv[1:])
    parser = argparse.ArgumentParser(prog="citymatch sim", description="Ebina AI-city simulator")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="simulate a scenario and write the report")
    run.add_argument("--scenario", required=True, help="YAML file or shipped name (see `list`)")
    run.add_argument("--out", help="output directory (default reports/sim/<scenario-name>/)")
    run.add_argument("--agents", type=int, help="population size (overrides the scenario)")
    run.add_argument("--scale", type=float, help="share of the real ridership to simulate (1.0 = all of it)")
    run.add_argument("--seed", type=int, help="random seed (overrides the scenario)")
    run.add_argument("--network", help="OSM XML or GraphML file (default: shipped schematic network)")
    run.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    run.set_defaults(fn=_cmd_run)
    cmp_ = sub.add_parser("compare", help="two runs side by side (run dirs, kpis.json or scenarios)")
    cmp_.add_argument("a")
    cmp_.add_argument("b")
    cmp_.add_argument("--out", help="output directory (default reports/sim/compare_<A>_vs_<B>/)")
    cmp_.add_argument("--agents", type=int, help="population size when a scenario has to be run")
    cmp_.add_argument("--scale", type=float, help="share of the real ridership when a scenario has to be run")
    cmp_.add_argument("--per-person", action="store_true",
                      help="when the runs simulate different shares of the ridership, compare per 1,000 people")
    cmp_.set_defaults(fn=_cmd_compare)
    sweep = sub.add_parser("sweep", help="one offer at several rewards: what each buys")
    sweep.add_argument("--scenario", required=True)
    sweep.add_argument("--rewards", default="0,50,100,200,300,500", help="comma-separated yen values")
    sweep.add_argument("--offer", type=int, default=0, help="which offer of the scenario to vary (0-based)")
    sweep.add_argument("--agents", type=int, help="population size (overrides the scenario)")
    sweep.add_argument("--out", help="output directory (default reports/sim/sweep_<scenario-name>/)")
    sweep.set_defaults(fn=_cmd_sweep)
    sub.add_parser("list", help="shipped scenarios").set_defaults(fn=_cmd_list)
    cal = sub.add_parser("calibration", help="choice-model calibration table")
    cal.add_argument("--reward", type=int, default=100, help="offer value in yen for the Ebina table")
    cal.set_defaults(fn=_cmd_calibration)
    sub.add_parser("campaign", help="a campaign's day, round by round, against the day without it (report)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    try:
        return int(args.fn(args))
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}")
        return 2


def fetch_osm(out: Path = FETCHED_GRAPHML, dist_m: int = 1500) -> Path:
    """Download the real walking network around Ebina station (needs the internet) and cache it as GraphML."""
    import osmnx as ox

    graph = ox.graph_from_point(EBINA_CENTRE, dist=dist_m, network_type="walk", simplify=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    ox.save_graphml(graph, out)
    return out


def data_main(argv: list[str]) -> int:
    """``citymatch data fetch-osm|build-network``."""
    parser = argparse.ArgumentParser(prog="citymatch data", description="simulator data")
    sub = parser.add_subparsers(dest="command", required=True)
    fetch = sub.add_parser("fetch-osm", help="download the real OSM walking network (internet needed)")
    fetch.add_argument("--out", default=str(FETCHED_GRAPHML))
    fetch.add_argument("--dist", type=int, default=1500, help="radius in metres around the station")
    build = sub.add_parser("build-network", help="regenerate the schematic OSM XML from the shipped data")
    build.add_argument("--out", default=str(SCHEMATIC_OSM))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    if args.command == "fetch-osm":
        try:
            path = fetch_osm(Path(args.out), args.dist)
        except Exception as exc:  # osmnx raises several kinds of network errors
            print(f"error: could not download the OSM network ({exc}); the shipped schematic network "
                  f"{SCHEMATIC_OSM.name} stays in use")
            return 1
        print(f"saved {path}; use it with `citymatch sim run --network {path} ...`")
        return 0
    from simulator.network_build import main as build_main

    print(f"wrote {build_main(Path(args.out))}")
    return 0
