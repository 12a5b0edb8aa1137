"""``citymatch report fleet-day``: the comparison's figures as PNG and SVG, the numbers as CSV and JSON.

Adapter only: the network, the weather and the prices are read here; every number comes from
:func:`simulator.fleet_day.compare.compare_day`.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from services.charging.settings import ChargingSettings
from shared.roads import RoadNetwork, load_drive_network
from simulator.energy.weather import Climate, pv_kwh_per_kwp, read_climate
from simulator.figures import PNG_DPI
from simulator.fleet_day.compare import PLANS, DayComparison, block_activity, compare_day
from simulator.fleet_day.demand import build_day, hourly_to_blocks
from simulator.fleet_day.figures import activity_figure, energy_figure, headline_figure
from simulator.fleet_day.params import FleetDayParams
from simulator.paths import REPO_ROOT

DEFAULT_OUT = REPO_ROOT / "reports" / "fleet_day"


@dataclass(frozen=True)
class Written:
    out: Path
    files: list[Path]
    comparison: DayComparison


def run(p: FleetDayParams, network: RoadNetwork | None = None, climate: Climate | None = None,
        progress: Callable[[str], None] | None = None) -> DayComparison:
    """Read the repo's data (drive network, standard-year weather, the charging service's tariffs) and compare."""
    net = network or load_drive_network()
    pv = pv_kwh_per_kwp(climate or read_climate(), p.month, days=1, first_day=p.day)
    settings = ChargingSettings()
    day = build_day(p, net, pv, hourly_to_blocks(settings.buy_yen), hourly_to_blocks(settings.sell_yen))
    return compare_day(day, p, progress)


def _save(fig: Figure, base: Path) -> list[Path]:
    out = []
    for ext in ("png", "svg"):
        path = base.with_suffix(f".{ext}")
        fig.savefig(path, dpi=PNG_DPI)
        out.append(path)
    plt.close(fig)
    return out


def write(out_dir: Path, c: DayComparison) -> Written:
    out_dir.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    for name, fig in (("headline", headline_figure(c)), ("activity", activity_figure(c)),
                      ("energy", energy_figure(c))):
        files += _save(fig, out_dir / name)
    keys = list(next(iter(c.metrics.values())))
    path = out_dir / "metrics.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["metric", *PLANS, "joint_minus_sequential", "joint_minus_sequential_smart"])
        for k in keys:
            m = [c.metrics[plan][k] for plan in PLANS]
            w.writerow([k, *[round(x, 3) for x in m], round(m[2] - m[0], 3), round(m[2] - m[1], 3)])
    files.append(path)
    path = out_dir / "blocks.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["plan", "vehicle", "block", "time", "activity", "charge_kwh", "pv_kwh", "discharge_kwh",
                    "driven_kwh", "soc_kwh_at_start"])
        names = ("depot", "rides", "parcels", "charging_pv", "charging_grid", "v2g")
        for plan, result in c.plans.items():
            codes, e = block_activity(result), result.energy
            for v in range(result.vehicles):
                for b in range(48):
                    w.writerow([plan, v, b, f"{b // 2:02d}:{30 * (b % 2):02d}", names[codes[v, b]],
                                e.charge_wh[v, b] / 1000, e.pv_wh[v, b] / 1000, e.discharge_wh[v, b] / 1000,
                                e.out_wh[v, b] / 1000, e.soc_wh[v, b] / 1000])
    files.append(path)
    path = out_dir / "summary.json"
    summary = {"params": asdict(c.params), "metrics": c.metrics,
               "assignments": {k: {"status": a.status, "vehicles": a.vehicles, "bound_vehicles": a.bound_vehicles}
                               for k, a in c.assignments.items()},
               "checks": {"rides": list(c.rides.violations), "parcels": list(c.parcels.violations),
                          **{k: list(r.energy.problems) for k, r in c.plans.items()}}}
    path.write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    files.append(path)
    return Written(out_dir, files, c)
