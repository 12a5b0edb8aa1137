"""Write a run to disk: an HTML report with embedded plots, CSV tables and GeoJSON links.

Adapters only: everything shown is computed in :mod:`simulator.kpis` and drawn in :mod:`simulator.figures`;
the page is built in :mod:`simulator.report_page`.
"""

from __future__ import annotations

import csv
import html
import json
import logging
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from simulator.demand import DAY_MIN
from simulator.figures import png_base64
from simulator.formatting import bilingual, mall_name, number
from simulator.geo import OSM_ATTRIBUTION, SCHEMATIC_LABEL
from simulator.kpis import clock, kpi_rows
from simulator.paths import DEFAULT_REPORT_ROOT
from simulator.report_page import PAGE_STYLE, html_table, render_page
from simulator.run import SimResult

log = logging.getLogger(__name__)


def default_out_dir(name: str) -> Path:
    return DEFAULT_REPORT_ROOT / name


def write_csvs(sim: SimResult, out: Path) -> list[Path]:
    written = []
    rows = kpi_rows(sim.kpis)
    path = out / "kpis.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["kpi", "unit", "before_offers", "scenario"])
        w.writerows(rows)
    written.append(path)
    path = out / "chokepoints.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        cps = sim.kpis["chokepoints"]
        fields = ["chokepoint", *next(iter(cps.values())).keys()]
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        for key, cp in cps.items():
            w.writerow({"chokepoint": key, **cp})
    written.append(path)
    path = out / "chokepoint_minutes.csv"
    density = sim.result.density(sim.network)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["minute", "time", "chokepoint", "flow_per_min", "density_p_m2", "baseline_flow_per_min"])
        for key, link in sim.network.chokepoints.items():
            base = sim.baseline.flow[:, link] if sim.baseline is not None else None
            for t in range(DAY_MIN):
                w.writerow([t, clock(t), key, int(sim.result.flow[t, link]), round(float(density[t, link]), 4),
                            int(base[t]) if base is not None else ""])
    written.append(path)
    path = out / "link_flows_hourly.csv"
    hourly = sim.result.flow.reshape(24, 60, -1).sum(axis=1)
    base_h = sim.baseline.flow.reshape(24, 60, -1).sum(axis=1) if sim.baseline is not None else None
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["link", "hour", "flow", "baseline_flow"])
        for h in range(24):
            for link in np.flatnonzero(hourly[h] + (base_h[h] if base_h is not None else 0)):
                w.writerow([int(link), h, int(hourly[h, link]), int(base_h[h, link]) if base_h is not None else ""])
    written.append(path)
    path = out / "offers.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["index", "type", "reward_yen", "eligible", "sent", "accepted", "cost_yen", "mean_probability",
                    "ev_kwh_moved"])
        for o in sim.outcomes:
            w.writerow([o.index, o.type, o.reward_yen, o.eligible, o.sent, o.accepted, o.cost_yen,
                        round(o.mean_probability, 4), o.ev_kwh_moved])
    written.append(path)
    return written


def links_geojson(sim: SimResult, out: Path) -> Path:
    gdf = sim.network.links_gdf()
    gdf["daily_flow"] = sim.result.flow.sum(axis=0)
    gdf["peak_hour_flow"] = sim.result.flow.reshape(24, 60, -1).sum(axis=1).max(axis=0)
    if sim.baseline is not None:
        gdf["baseline_daily_flow"] = sim.baseline.flow.sum(axis=0)
        gdf["baseline_peak_hour_flow"] = sim.baseline.flow.reshape(24, 60, -1).sum(axis=1).max(axis=0)
    gdf["network"] = SCHEMATIC_LABEL if sim.network.schematic else "OpenStreetMap walking network"
    gdf["attribution"] = OSM_ATTRIBUTION
    path = out / "links.geojson"
    gdf.to_file(path, driver="GeoJSON")
    return path


def write_html(sim: SimResult, out: Path, figures: dict[str, Figure] | None = None) -> Path:
    path = out / "report.html"
    path.write_text(render_page(sim, figures), encoding="utf-8")
    return path


def write_report(sim: SimResult, out_dir: Path | str | None = None,
                 figures: dict[str, Figure] | None = None) -> dict[str, Path]:
    """Write report.html, kpis.json, the CSV tables and links.geojson; returns what was written."""
    out = Path(out_dir) if out_dir else default_out_dir(sim.scenario.name)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    path = out / "kpis.json"
    path.write_text(json.dumps(sim.kpis, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    written["kpis.json"] = path
    for p in write_csvs(sim, out):
        written[p.name] = p
    written["links.geojson"] = links_geojson(sim, out)
    written["report.html"] = write_html(sim, out, figures)
    log.info("report written to %s", out)
    return written


def compare_rows(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, str, str]]:
    """KPIs of two runs side by side (A, B), formatted; per 1,000 people when the runs were normalised."""
    unit = " per 1,000 people" if a.get("per_person") else ""

    def num(run: dict[str, Any], key: str) -> str:
        value = run.get(key, "")
        return number(value) if value not in (None, "") else "-"

    rows = [("scenario", a["scenario"], b["scenario"]), ("people simulated", num(a, "agents"), num(b, "agents")),
            ("share of the real ridership", f"{a['scale']:.1%}", f"{b['scale']:.1%}")]
    for label, key in ((f"peak 15-min load, persons/min{unit}", "peak_load_per_min"),
                       (f"footfall, visits{unit}", "footfall_total"),
                       (f"estimated sales, yen{unit}", "sales_yen_total"),
                       (f"shifted trips{unit}", "shifted_trips"), (f"cost of offers, yen{unit}", "cost_yen"),
                       ("cost per shifted trip, yen", "cost_per_shifted_trip_yen"),
                       ("mean walk, min", "mean_walk_min")):
        rows.append((label, num(a, key), num(b, key)))
    rows.append(("  where", bilingual(a["peak_load_where"], a.get("peak_load_where_ja", "")),
                 bilingual(b["peak_load_where"], b.get("peak_load_where_ja", ""))))
    if not a.get("per_person"):
        rows.append(("worst level of service (worse of flow and space)",
                     f"{a['worst_los']} at {a['worst_los_where']} {a['worst_los_window']} ({a['worst_los_basis']})",
                     f"{b['worst_los']} at {b['worst_los_where']} {b['worst_los_window']} ({b['worst_los_basis']})"))
    for key, cp in a["chokepoints"].items():
        other = b["chokepoints"].get(key, {})

        def cell(c: dict[str, Any]) -> str:
            if not c:
                return "-"
            los = "" if a.get("per_person") else f" (flow {c['los_flow']}, space {c['los_space']})"
            return f"{number(c['peak_15min_flow_per_min'])}{los}"

        rows.append((f"{bilingual(cp['name'], cp.get('name_ja', ''))}: peak 15-min{unit}", cell(cp), cell(other)))
    for mall in a["footfall"]:
        rows.append((f"footfall {mall_name(mall)}{unit}", number(a["footfall"][mall]),
                     number(b["footfall"].get(mall, ""))))
    return rows


def write_compare(a: dict[str, Any], b: dict[str, Any], out_dir: Path, note: str = "") -> Path:
    """compare.html (table and a bar chart of the chokepoints' peaks) and compare.csv."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = compare_rows(a, b)
    keys = list(a["chokepoints"])
    fig, ax = plt.subplots(figsize=(11, 3.6), layout="constrained")
    x = np.arange(len(keys))
    ax.bar(x - 0.2, [a["chokepoints"][c]["peak_15min_flow_per_min"] for c in keys], 0.4, label=a["scenario"])
    ax.bar(x + 0.2, [b["chokepoints"].get(c, {}).get("peak_15min_flow_per_min", 0) for c in keys], 0.4,
           label=b["scenario"])
    ax.set_xticks(x, [a["chokepoints"][c]["name"].replace(" (", "\n(") for c in keys], fontsize=7)
    ax.set_ylabel("peak 15-min persons/min" + (" per 1,000 people" if a.get("per_person") else ""), fontsize=8)
    ax.legend(fontsize=7)
    body = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<title>Ebina simulation: comparison</title>",
        f"<style>{PAGE_STYLE}</style></head><body>",
        f"<h1>{html.escape(a['scenario'])} vs {html.escape(b['scenario'])}</h1>",
        f"<p class='warning'>{html.escape(note)}</p>" if note else "",
        html_table(rows, ["KPI", "A", "B"]),
        f"<img src='data:image/png;base64,{png_base64(fig)}' alt='peak 15-minute load per chokepoint, A and B'>",
        f"<p class='note'>{html.escape(SCHEMATIC_LABEL)}; synthetic population. {html.escape(OSM_ATTRIBUTION)}.</p>",
        "</body></html>",
    ]
    path = out_dir / "compare.html"
    path.write_text("\n".join(body), encoding="utf-8")
    with (out_dir / "compare.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["kpi", a["scenario"], b["scenario"]])
        w.writerows(rows)
    return path
