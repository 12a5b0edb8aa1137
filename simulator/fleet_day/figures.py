"""The fleet day's figures at the size a page shows them: the headline bars, each plan's vehicles by block,
the depot's PV surplus against what each plan absorbed, and the batteries through the day."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from simulator.energy.figures import label
from simulator.fleet_day.compare import PLANS, DayComparison, block_activity
from simulator.fonts import use_japanese

HOURS = np.arange(48) / 2
COLOURS = {"sequential": "#999999", "sequential_smart": "#1f77b4", "joint": "#2ca02c"}
ACTIVITY = (("at the depot", "待機", "#eeeeee"), ("rides", "送迎", "#1f77b4"), ("parcels", "配送", "#ff7f0e"),
            ("charging, PV", "太陽光で充電", "#f2c12e"), ("charging, grid", "系統で充電", "#8c564b"),
            ("feeding back (V2G)", "放電", "#9467bd"))


def headline_figure(c: DayComparison) -> Figure:
    """One panel per figure that decides between the plans, one bar per plan."""
    ja = use_japanese()
    panels = (("vehicles", "vehicles needed", "必要台数", "{:.0f}"),
              ("vehicle_km", "vehicle-km", "走行距離 km", "{:,.0f}"),
              ("pv_absorbed_kwh", "PV absorbed (kWh)", "太陽光吸収 kWh", "{:,.0f}"),
              ("margin_yen", "revenue - costs (yen)", "収支 円", "{:,.0f}"))
    keys = list(PLANS)
    fig, axes = plt.subplots(1, 4, figsize=(11.4, 3.8), layout="constrained")
    for ax, (key, en, ja_name, fmt) in zip(axes, panels, strict=True):
        values = [c.metrics[k][key] for k in keys]
        bars = ax.bar(range(len(keys)), values, color=[COLOURS[k] for k in keys], width=0.6)
        ax.bar_label(bars, labels=[fmt.format(v) for v in values], fontsize=8)
        top, low = max(max(values), 0.0), min(min(values), 0.0)
        span = (top - low) or 1.0
        ax.set_ylim(low - 0.18 * span if low < 0 else 0, top + 0.18 * span)
        ax.set_xticks(range(len(keys)), ["alone,\nplug-in", "alone,\nplanned", "joint"], fontsize=8)
        ax.set_title(label(en, ja_name, ja, "\n"), fontsize=9)
        ax.axhline(0, color="#444", linewidth=0.6)
    return fig


def activity_figure(c: DayComparison) -> Figure:
    """What every vehicle does in every block, per plan (rows: vehicles)."""
    ja = use_japanese()
    keys = [k for k in PLANS if k != "sequential_smart"]
    n = [c.plans[k].vehicles for k in keys]
    fig, axes = plt.subplots(len(keys), 1, figsize=(11.4, 1.6 + 0.22 * sum(n)), layout="constrained",
                             height_ratios=[max(x, 1) for x in n])
    cmap = ListedColormap([a[2] for a in ACTIVITY])
    for ax, key in zip(axes, keys, strict=True):
        codes = block_activity(c.plans[key])
        ax.imshow(codes, aspect="auto", cmap=cmap, vmin=-0.5, vmax=len(ACTIVITY) - 0.5, interpolation="nearest",
                  extent=(0, 24, codes.shape[0], 0))
        ax.set_title(label(f"{PLANS[key][0]}: {c.plans[key].vehicles} vehicles", PLANS[key][1], ja), fontsize=9)
        ax.set_xticks(range(0, 25, 3))
        ax.set_yticks([])
        ax.set_ylabel(label("vehicles", "車両", ja), fontsize=8)
    axes[-1].set_xlabel(label("hour", "時", ja))
    fig.legend(handles=[Patch(color=col, label=label(en, j, ja)) for en, j, col in ACTIVITY],
               loc="outside lower center", ncol=3, fontsize=7)
    return fig


def energy_figure(c: DayComparison) -> Figure:
    """The depot's PV surplus and what each plan charged from it; the mean battery of each plan's fleet."""
    ja = use_japanese()
    fig, axes = plt.subplots(1, 2, figsize=(11.4, 4.0), layout="constrained")
    ax = axes[0]
    ax.fill_between(HOURS, c.day.pv_surplus_wh / 500, step="post", color="#f7dc8c",
                    label=label("PV surplus", "太陽光余剰", ja))
    for key in PLANS:
        ax.step(HOURS, c.plans[key].energy.pv_wh.sum(axis=0) / 500, where="post", color=COLOURS[key],
                label=label(PLANS[key][0], PLANS[key][1], ja))
    ax.set_ylabel("kW")
    ax.set_title(label("PV surplus absorbed by the fleet", "フリートの太陽光吸収", ja), fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    ax = axes[1]
    hours = np.arange(49) / 2
    battery = c.params.battery_kwh * 1000
    for key in PLANS:
        soc = c.plans[key].energy.soc_wh
        ax.plot(hours, 100 * soc.mean(axis=0) / battery, color=COLOURS[key],
                label=label(PLANS[key][0], PLANS[key][1], ja))
        ax.fill_between(hours, 100 * soc.min(axis=0) / battery, 100 * soc.max(axis=0) / battery,
                        color=COLOURS[key], alpha=0.12)
    ax.axhline(100 * c.params.reserve_kwh / c.params.battery_kwh, color="#d62728", linestyle="--", linewidth=0.8,
               label=label("reserve", "予備", ja))
    ax.set_ylim(0, 105)
    ax.set_ylabel(label("state of charge (%)", "SOC", ja))
    ax.set_title(label("Batteries: mean, lowest to highest", "電池残量", ja), fontsize=9)
    ax.legend(fontsize=7, loc="lower left")
    for ax in axes:
        ax.set_xlim(0, 24)
        ax.set_xticks(range(0, 25, 3))
        ax.set_xlabel(label("hour", "時", ja))
    return fig
