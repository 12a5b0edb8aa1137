"""The report's figures: flow maps, chokepoints through the day, footfall; laid out so no text collides.

Each function returns a matplotlib Figure at the size the page shows it (``PAGE_WIDTH_PX`` wide at most),
so tests can check the layout of exactly what is published.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from functools import cache

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, StrMethodFormatter

from simulator.demand import DAY_MIN, MALL_KEYS
from simulator.fonts import use_japanese
from simulator.formatting import mall_name
from simulator.geo import OSM_ATTRIBUTION, SCHEMATIC_LABEL
from simulator.kpis import clock, rolling_mean
from simulator.paths import RAIL_POLYLINES
from simulator.plot_layout import repel
from simulator.run import SimResult

PNG_DPI = 100
PAGE_WIDTH_PX = 1160  # the report's content column: figures are drawn to fit it at their natural size
MAP_EXTENT = ((139.383, 139.399), (35.446, 35.459))


def png_base64(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=PNG_DPI)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _map_window(sim: SimResult) -> tuple[int, int]:
    """The hour to map: the first offer's window, else the hour around the busiest chokepoint minute."""
    if sim.scenario.offers:
        return sim.scenario.offers[0].window_minutes
    link = max(sim.network.chokepoints.values(), key=lambda lk: sim.result.flow[:, lk].max())
    peak = int(np.argmax(rolling_mean(sim.result.flow[:, link], 60)))
    return max(peak - 59, 0), peak + 1


@cache
def _rail_segments() -> list[np.ndarray]:
    """The rail lines inside the map, simplified to about 2 m (the full polylines are much longer)."""
    (x0, x1), (y0, y1) = MAP_EXTENT
    out = []
    for path in RAIL_POLYLINES.values():
        lines = gpd.read_file(path).geometry.clip_by_rect(x0, y0, x1, y1).simplify(0.00002)
        for geom in lines:
            for part in getattr(geom, "geoms", [geom]):
                if not part.is_empty and part.geom_type == "LineString":
                    out.append(np.asarray(part.coords))
    return out


def _place_label(name: str, name_ja: str, japanese: bool) -> str:
    return f"{name}\n{name_ja}" if japanese and name_ja else name


def _draw_network(ax: Axes, sim: SimResult, flow: np.ndarray, norm: Normalize, cmap: str, title: str,
                  japanese: bool) -> tuple[LineCollection, Callable[[], None]]:
    """One map panel: rail lines, links coloured and sized by ``flow``, chokepoint labels.

    Returns the links (for a colour bar) and the step that moves the labels apart, to run once the
    figure's layout is final.
    """
    net = sim.network
    ax.add_collection(LineCollection(_rail_segments(), colors="#b33", linewidths=1.0, linestyles="--", alpha=0.6))
    segs = np.stack([np.c_[net.node_lon[net.link_u], net.node_lat[net.link_u]],
                     np.c_[net.node_lon[net.link_v], net.node_lat[net.link_v]]], axis=1)
    vmax = max(abs(norm.vmin or 0.0), abs(norm.vmax or 0.0), 1.0)
    widths = 0.4 + 5.0 * np.sqrt(np.abs(flow) / vmax)
    lc = LineCollection(segs, linewidths=widths, cmap=cmap, norm=norm)
    lc.set_array(flow)
    ax.add_collection(lc)
    (x0, x1), (y0, y1) = MAP_EXTENT
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(1.0 / np.cos(np.radians(35.45)))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=10)
    credit = ax.text(0.01, 0.01, f"{SCHEMATIC_LABEL if net.schematic else 'OSM walking network'}\n{OSM_ATTRIBUTION}",
                     transform=ax.transAxes, fontsize=6.5, va="bottom",
                     bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"})
    points = {k: (float(net.node_lon[net.link_u[lk]] + net.node_lon[net.link_v[lk]]) / 2,
                  float(net.node_lat[net.link_u[lk]] + net.node_lat[net.link_v[lk]]) / 2)
              for k, lk in net.chokepoints.items()}
    centre = np.mean(list(points.values()), axis=0)
    # Labels start on a ring around the chokepoints, evenly spaced in the order of their bearings.
    order = sorted(points, key=lambda k: np.arctan2(points[k][1] - centre[1], points[k][0] - centre[0]))
    bearings = np.array([np.arctan2(points[k][1] - centre[1], points[k][0] - centre[0]) for k in order])
    even = 2 * np.pi * np.arange(len(order)) / max(len(order), 1)
    offset = float(np.angle(np.exp(1j * (bearings - even)).mean()))
    labels = []
    for key, angle in zip(order, even + offset, strict=True):
        lon, lat = points[key]
        start = (centre[0] + 0.0042 * np.cos(angle), centre[1] + 0.0034 * np.sin(angle))
        info = net.chokepoint_info[key]
        labels.append(ax.annotate(
            _place_label(info.name, info.name_ja, japanese), (lon, lat), xytext=start, fontsize=7, ha="center",
            va="center", color="#222", bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "alpha": 0.85,
                                             "edgecolor": "#999", "linewidth": 0.5},
            arrowprops={"arrowstyle": "-", "color": "#555", "linewidth": 0.6}))
    return lc, lambda: repel(ax, labels, obstacles=[credit, ax.title])


def flow_map_figures(sim: SimResult) -> list[tuple[str, Figure]]:
    """The maps for the report: before and with offers side by side with one colour bar, then the change."""
    japanese = use_japanese()
    a, b = _map_window(sim)
    window = f"{clock(a)}-{clock(b)}"
    after = sim.result.flow[a:b].sum(axis=0).astype(float)
    if sim.baseline is None:
        fig, ax = plt.subplots(figsize=(7.5, 8.0), layout="constrained")
        norm = Normalize(0, max(float(after.max()), 1.0))
        lc, spread = _draw_network(ax, sim, after, norm, "viridis_r", f"walkers {window}", japanese)
        fig.colorbar(lc, ax=ax, orientation="horizontal", shrink=0.7, label=f"walkers entering the link, {window}")
        spread()
        return [("flows", fig)]
    before = sim.baseline.flow[a:b].sum(axis=0).astype(float)
    norm = Normalize(0, max(float(after.max()), float(before.max()), 1.0))
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 7.0), layout="constrained")
    _, spread_before = _draw_network(axes[0], sim, before, norm, "viridis_r", f"before offers, {window}", japanese)
    lc, spread_after = _draw_network(axes[1], sim, after, norm, "viridis_r", f"with offers, {window}", japanese)
    fig.colorbar(lc, ax=list(axes), orientation="horizontal", shrink=0.5, aspect=40,
                 label=f"walkers entering the link, {window}")
    spread_before()
    spread_after()
    change = after - before
    span = max(float(np.abs(change).max()), 1.0)
    fig2, ax2 = plt.subplots(figsize=(7.5, 8.0), layout="constrained")
    lc2, spread_change = _draw_network(ax2, sim, change, Normalize(-span, span), "RdBu_r",
                                       f"change with offers, {window} (blue: fewer walkers)", japanese)
    fig2.colorbar(lc2, ax=ax2, orientation="horizontal", shrink=0.7, label="change in walkers entering the link")
    spread_change()
    return [("flows", fig), ("change", fig2)]


def timeseries_figure(sim: SimResult) -> Figure:
    """Flow at each chokepoint through the day, with the flow thresholds of LOS D and E for its width."""
    japanese = use_japanese()
    keys = list(sim.network.chokepoints)
    fig, axes = plt.subplots(len(keys), 1, figsize=(11.5, 1.45 * len(keys) + 0.9), sharex=True, layout="constrained")
    hours = np.arange(DAY_MIN) / 60.0
    for ax, key in zip(np.atleast_1d(axes), keys, strict=True):
        link = sim.network.chokepoints[key]
        info = sim.network.chokepoint_info[key]
        now = rolling_mean(sim.result.flow[:, link], 5)
        top = max(float(now.max()), 1.0)
        if sim.baseline is not None:
            before = rolling_mean(sim.baseline.flow[:, link], 5)
            top = max(top, float(before.max()))
            ax.plot(hours, before, color="#f4a261", lw=2.4, alpha=0.9, label="before offers")
        ax.plot(hours, now, color="#1d3f8f", lw=0.9, label="with offers" if sim.baseline is not None else "walkers")
        width = sim.network.link_width_m[link]
        top *= 1.2
        ax.set_ylim(0, top)
        for limit, level in ((49.0, "D"), (66.0, "E")):
            if limit * width < top * 0.9:
                ax.axhline(limit * width, color="#d62", lw=0.6, ls=":")
                ax.text(24.2, limit * width, f"LOS {level}", fontsize=6.5, ha="left", va="center", color="#d62")
        name = f"{info.name} · {info.name_ja}" if japanese and info.name_ja else info.name
        ax.set_title(f"{name}, {width:g} m wide", fontsize=8, loc="left")
        ax.tick_params(labelsize=7)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=3, prune="upper"))
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        ax.set_xlim(0, 24)
    axes = np.atleast_1d(axes)
    axes[-1].set_xticks(range(0, 25, 2))
    axes[-1].set_xlabel("hour of day", fontsize=8)
    fig.supylabel("walkers per minute (5-minute mean)", fontsize=8)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside upper right", ncol=2, fontsize=8, frameon=False)
    return fig


def footfall_figure(sim: SimResult) -> Figure:
    """Arrivals per hour at each centre (on foot and by ride), before and with offers."""
    japanese = use_japanese()
    fig, ax = plt.subplots(figsize=(11.5, 3.4), layout="constrained")
    colours = {"lalaport": "#2a9d8f", "vinawalk": "#e76f51"}
    for i, mall in enumerate(MALL_KEYS):
        for res, dem, style, lw, label in ((sim.baseline, sim.baseline_demand, ":", 2.0, "before offers"),
                                           (sim.result, sim.demand, "-", 1.2, "with offers" if sim.baseline else "")):
            if res is None or dem is None:
                continue
            arr = res.arrive[(dem.trips.dest_mall == i) & (res.arrive >= 0)]
            if sim.rides is not None and sim.population is not None:  # visitors who came by ride
                by_ride = sim.rides.ride & (sim.population.trips.dest_mall == i)
                ridden = sim.rides.arrivals()[by_ride[sim.rides.ride]]
                arr = np.concatenate([arr, ridden[ridden >= 0]])
            hourly = np.bincount(arr // 60, minlength=24)[:24]
            ax.step(np.arange(24), hourly, where="post", ls=style, lw=lw, color=colours.get(mall),
                    label=f"{mall_name(mall, japanese)} {label}".strip())
    ax.set_xlabel("hour of day", fontsize=8)
    ax.set_ylabel("arrivals per hour", fontsize=8)
    ax.set_xticks(range(0, 25, 2))
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.tick_params(labelsize=7)
    fig.legend(loc="outside right upper", fontsize=7.5, frameon=False)
    return fig


def report_figures(sim: SimResult) -> dict[str, Figure]:
    """Every figure of the report by name, drawn at the size the page shows it."""
    figures = dict(flow_map_figures(sim))
    figures["timeseries"] = timeseries_figure(sim)
    figures["footfall"] = footfall_figure(sim)
    return figures


