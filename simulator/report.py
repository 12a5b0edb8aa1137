"""Write a run to disk: an HTML report with embedded plots, CSV tables and GeoJSON links.

Adapters only: everything shown is computed in :mod:`simulator.kpis`; this module formats and draws.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection

from simulator.choice import calibration_table, coupon_table
from simulator.demand import DAY_MIN, MALL_KEYS
from simulator.geo import OSM_ATTRIBUTION, RAIL_ATTRIBUTION, SCHEMATIC_LABEL
from simulator.kpis import clock, kpi_rows, rolling_mean
from simulator.paths import DEFAULT_REPORT_ROOT, RAIL_POLYLINES
from simulator.ridership_sales import ridership_at_stake, shopping_share
from simulator.run import SimResult

log = logging.getLogger(__name__)


def default_out_dir(name: str) -> Path:
    return DEFAULT_REPORT_ROOT / name


def _png(fig: plt.Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _map_window(sim: SimResult) -> tuple[int, int]:
    """The hour to map: the first offer's window, else the hour around the busiest chokepoint minute."""
    if sim.scenario.offers:
        return sim.scenario.offers[0].window_minutes
    link = max(sim.network.chokepoints.values(), key=lambda lk: sim.result.flow[:, lk].max())
    peak = int(np.argmax(rolling_mean(sim.result.flow[:, link], 60)))
    return max(peak - 59, 0), peak + 1


def _draw_network(ax: plt.Axes, sim: SimResult, flow: np.ndarray, vmax: float, title: str,
                  diverging: bool = False) -> None:
    net = sim.network
    for path in RAIL_POLYLINES.values():
        gpd.read_file(path).plot(ax=ax, color="#b33", linewidth=1.0, linestyle="--", alpha=0.6)
    segs = np.stack([np.c_[net.node_lon[net.link_u], net.node_lat[net.link_u]],
                     np.c_[net.node_lon[net.link_v], net.node_lat[net.link_v]]], axis=1)
    widths = 0.4 + 6.0 * np.sqrt(np.abs(flow) / max(vmax, 1.0))
    norm = plt.Normalize(-vmax, vmax) if diverging else plt.Normalize(0, vmax)
    lc = LineCollection(segs, linewidths=widths, cmap="RdBu_r" if diverging else "viridis_r", norm=norm)
    lc.set_array(flow)
    ax.add_collection(lc)
    for key, link in net.chokepoints.items():
        u = net.link_u[link]
        ax.annotate(key, (net.node_lon[u], net.node_lat[u]), fontsize=6, color="#333")
    ax.set_xlim(139.383, 139.399)
    ax.set_ylim(35.446, 35.459)
    ax.ticklabel_format(useOffset=False)
    ax.set_aspect(1.0 / np.cos(np.radians(35.45)))
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=6)
    ax.text(0.01, 0.01, f"{SCHEMATIC_LABEL if net.schematic else 'OSM walking network'}\n{OSM_ATTRIBUTION}",
            transform=ax.transAxes, fontsize=6, va="bottom",
            bbox={"facecolor": "white", "alpha": 0.7, "edgecolor": "none"})
    plt.colorbar(lc, ax=ax, shrink=0.6, label="change in walkers" if diverging else "walkers in the window")


def flow_map_png(sim: SimResult) -> str:
    a, b = _map_window(sim)
    after = sim.result.flow[a:b].sum(axis=0).astype(float)
    before = sim.baseline.flow[a:b].sum(axis=0).astype(float) if sim.baseline is not None else None
    vmax = float(max(after.max(), before.max() if before is not None else 0.0))
    panels = 3 if before is not None else 1
    fig, axes = plt.subplots(1, panels, figsize=(6 * panels, 6))
    axes = np.atleast_1d(axes)
    window = f"{clock(a)}-{clock(b)}"
    if before is not None:
        _draw_network(axes[0], sim, before, vmax, f"before offers, {window}")
        _draw_network(axes[1], sim, after, vmax, f"with offers, {window}")
        change = after - before
        _draw_network(axes[2], sim, change, max(float(np.abs(change).max()), 1.0),
                      f"change (blue: fewer walkers), {window}", diverging=True)
    else:
        _draw_network(axes[0], sim, after, vmax, f"flows {window}")
    return _png(fig)


def timeseries_png(sim: SimResult) -> str:
    keys = list(sim.network.chokepoints)
    fig, axes = plt.subplots(len(keys), 1, figsize=(11, 1.6 * len(keys)), sharex=True)
    hours = np.arange(DAY_MIN) / 60.0
    for ax, key in zip(np.atleast_1d(axes), keys, strict=True):
        link = sim.network.chokepoints[key]
        if sim.baseline is not None:
            ax.plot(hours, rolling_mean(sim.baseline.flow[:, link], 5), color="#999", lw=0.8, label="before")
        ax.plot(hours, rolling_mean(sim.result.flow[:, link], 5), color="#1f5fa8", lw=0.9,
                label="with offers" if sim.baseline is not None else "flow")
        width = sim.network.link_width_m[link]
        top = max(float(sim.result.flow[:, link].max()), 1.0) * 1.15
        for limit, level in ((49.0, "D"), (66.0, "E")):
            if limit * width < top:
                ax.axhline(limit * width, color="#d62", lw=0.5, ls=":")
                ax.text(23.9, limit * width, f"LOS {level}", fontsize=6, ha="right", va="bottom", color="#d62")
        ax.set_ylabel(key, fontsize=7)
        ax.tick_params(labelsize=6)
    np.atleast_1d(axes)[0].legend(fontsize=7, loc="upper left")
    np.atleast_1d(axes)[-1].set_xlabel("hour of day (persons/min, 5-min mean)")
    np.atleast_1d(axes)[-1].set_xticks(range(0, 25, 2))
    return _png(fig)


def footfall_png(sim: SimResult) -> str:
    fig, ax = plt.subplots(figsize=(11, 2.6))
    for i, mall in enumerate(MALL_KEYS):
        for res, dem, style, label in ((sim.baseline, sim.baseline_demand, ":", "before"),
                                       (sim.result, sim.demand, "-", "")):
            if res is None or dem is None:
                continue
            arr = res.arrive[(dem.trips.dest_mall == i) & (res.arrive >= 0)]
            hourly = np.bincount(arr // 60, minlength=24)[:24]
            ax.step(np.arange(24), hourly, where="post", ls=style, label=f"{mall} {label}".strip())
    ax.set_xlabel("hour of day")
    ax.set_ylabel("arrivals per hour")
    ax.legend(fontsize=7)
    return _png(fig)


def _table(rows: list[dict[str, Any]] | list[tuple[Any, ...]], header: list[str]) -> str:
    out = ["<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>"]
    for row in rows:
        cells = row.values() if isinstance(row, dict) else row
        out.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    return "\n".join(out) + "</table>"


def write_csvs(sim: SimResult, out: Path) -> list[Path]:
    written = []
    rows = kpi_rows(sim.kpis)
    path = out / "kpis.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["kpi", "before_offers", "scenario"])
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


def write_html(sim: SimResult, out: Path) -> Path:
    k = sim.kpis
    label = SCHEMATIC_LABEL if sim.network.schematic else "OpenStreetMap walking network"
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Ebina simulation: {html.escape(k['scenario'])}</title>",
        "<style>body{font-family:sans-serif;max-width:1200px;margin:1em auto;color:#222}"
        "table{border-collapse:collapse;font-size:13px;margin:0.5em 0}td,th{border:1px solid #ccc;padding:3px 7px}"
        "th{background:#eee}.note{color:#666;font-size:12px}</style></head><body>",
        f"<h1>Ebina station area: {html.escape(k['scenario'])}</h1>",
        f"<p>{html.escape(k.get('description') or '')}</p>",
        f"<p class='note'>Network: <b>{html.escape(label)}</b> ({html.escape(k['network_source'])}). "
        f"Population: synthetic, {k['agents']:,} people, seed {k['seed']}, {k['day_type']}. "
        f"Simulated in {k['wall_s']} s.</p>",
        "<h2>Key figures</h2>",
        _table(kpi_rows(k), ["KPI", "before offers", "scenario"]),
        "<h2>Flows on the network</h2>",
        f"<img src='data:image/png;base64,{flow_map_png(sim)}' style='max-width:100%'>",
        "<h2>Chokepoints through the day</h2>",
        "<p class='note'>Dotted lines: Fruin walkway level of service D and E thresholds for the link width.</p>",
        f"<img src='data:image/png;base64,{timeseries_png(sim)}' style='max-width:100%'>",
        "<h2>Shopping-centre footfall</h2>",
        f"<img src='data:image/png;base64,{footfall_png(sim)}' style='max-width:100%'>",
        "<h2>Ridership and sales</h2>",
        "<p>Shoppers' share of each line's station events is calibrated on the ridership rise when ViNA WALK "
        "opened in 2002 (Odakyu +30 %, Sotetsu +20 %, JR +50 %): "
        + ", ".join(f"{line} {100 * shopping_share(line):.0f} %" for line in ("odakyu", "sotetsu", "jr"))
        + ". Station events that depend on shopping in this run: "
        + ", ".join(f"{line} {n:,}" for line, n in k["station_events_from_shopping"].items())
        + f". A 10 % rise in footfall would bring about "
        f"{sum(ridership_at_stake(k['station_events'], 10.0).values()):,} more boardings "
        "plus alightings a day.</p>",
        "<h2>Offers</h2>",
        _table([o.as_dict() for o in sim.outcomes],
               ["#", "type", "reward yen", "eligible", "sent", "accepted", "cost yen", "mean P(accept)",
                "EV kWh moved"]) if sim.outcomes else "<p>No offers in this scenario.</p>",
        "<h2>Choice model calibration</h2>",
        _table([{k2: r[k2] for k2 in ("programme", "where", "years", "reward_yen", "shift_min", "observed",
                                     "fitted")} for r in calibration_table()],
               ["programme", "where", "years", "reward (yen)", "shift (min)", "observed", "fitted"]),
        "<p>What a 100-yen offer does at Ebina (acceptance probability by purpose):</p>",
        _table(coupon_table(100), ["offer", "change (min)", "commute in", "commute out", "shopping", "leisure",
                                   "home"]),
        f"<p class='note'>{html.escape(OSM_ATTRIBUTION)} (points of interest, 2013). "
        f"{html.escape(RAIL_ATTRIBUTION)}. The street grid is schematic; people are synthetic; sales are "
        "an estimate from footfall, purchase rate and average spend.</p>",
        "</body></html>",
    ]
    path = out / "report.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def write_report(sim: SimResult, out_dir: Path | str | None = None) -> dict[str, Path]:
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
    written["report.html"] = write_html(sim, out)
    log.info("report written to %s", out)
    return written


def compare_rows(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, object, object]]:
    """KPIs of two runs side by side (A, B)."""
    rows = [("scenario", a["scenario"], b["scenario"]), ("people", a["agents"], b["agents"])]
    for label, key in (("peak 15-min load, persons/min", "peak_load_per_min"), ("where", "peak_load_where"),
                       ("worst LOS", "worst_los"), ("footfall total", "footfall_total"),
                       ("sales, yen/day", "sales_yen_total"), ("shifted trips", "shifted_trips"),
                       ("cost of offers, yen", "cost_yen"), ("cost per shifted trip, yen", "cost_per_shifted_trip_yen"),
                       ("mean walk, min", "mean_walk_min")):
        rows.append((label, a.get(key, ""), b.get(key, "")))
    for key, cp in a["chokepoints"].items():
        other = b["chokepoints"].get(key, {})
        rows.append((f"{cp['name']} peak 15-min (LOS)", f"{cp['peak_15min_flow_per_min']} ({cp['los_flow']})",
                     f"{other.get('peak_15min_flow_per_min', '')} ({other.get('los_flow', '')})"))
    for mall in a["footfall"]:
        rows.append((f"footfall {mall}", a["footfall"][mall], b["footfall"].get(mall, "")))
    return rows


def write_compare(a: dict[str, Any], b: dict[str, Any], out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = compare_rows(a, b)
    keys = list(a["chokepoints"])
    fig, ax = plt.subplots(figsize=(10, 3))
    x = np.arange(len(keys))
    ax.bar(x - 0.2, [a["chokepoints"][c]["peak_15min_flow_per_min"] for c in keys], 0.4, label=a["scenario"])
    ax.bar(x + 0.2, [b["chokepoints"].get(c, {}).get("peak_15min_flow_per_min", 0) for c in keys], 0.4,
           label=b["scenario"])
    ax.set_xticks(x, keys, fontsize=7)
    ax.set_ylabel("peak 15-min persons/min")
    ax.legend(fontsize=7)
    body = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Ebina simulation: comparison</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:1em auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:3px 7px}</style></head><body>",
        f"<h1>{html.escape(a['scenario'])} vs {html.escape(b['scenario'])}</h1>",
        _table(rows, ["KPI", "A", "B"]),
        f"<img src='data:image/png;base64,{_png(fig)}' style='max-width:100%'>",
        f"<p>{html.escape(SCHEMATIC_LABEL)}; synthetic population. {html.escape(OSM_ATTRIBUTION)}.</p>",
        "</body></html>",
    ]
    path = out_dir / "compare.html"
    path.write_text("\n".join(body), encoding="utf-8")
    with (out_dir / "compare.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["kpi", a["scenario"], b["scenario"]])
        w.writerows(rows)
    return path
