"""The energy reports' figures, drawn at the size the page shows them (at most the page's width).

Labels are English with the Japanese beside them where a Japanese font is installed
(``simulator.fonts.use_japanese``); the layout is checked by ``simulator.plot_layout`` in the tests.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from simulator.energy.community import AWAY, SLOT_H, SLOTS_PER_DAY
from simulator.energy.metrics import SEED, Headline
from simulator.energy.outcome import Outcome
from simulator.energy.run import PLATFORMS
from simulator.fonts import use_japanese

HOURS = np.arange(SLOTS_PER_DAY) / 2


def label(en: str, ja: str, japanese: bool, sep: str = " · ") -> str:
    return f"{en}{sep}{ja}" if japanese else en


def sunniest_weekday(out: Outcome) -> int:
    """The day of the month (0-based) whose office PV is largest among weekdays (Result 2's kind of day)."""
    c = out.community
    per_day = c.sites[c.office].pv_kwh.reshape(c.days, SLOTS_PER_DAY).sum(axis=1)
    per_day = np.where(c.weekend, -1.0, per_day)
    return int(np.argmax(per_day))


def slot_prices(out: Outcome, day: int) -> dict[str, np.ndarray]:
    """Volume-weighted price buyers paid per slot of the day (yen/kWh): on site (A) and over the wires (B)."""
    c = out.community
    t0 = day * SLOTS_PER_DAY
    kwh = {"A": np.zeros(SLOTS_PER_DAY), "B": np.zeros(SLOTS_PER_DAY)}
    yen = {"A": np.zeros(SLOTS_PER_DAY), "B": np.zeros(SLOTS_PER_DAY)}
    for t in out.detail.get("trades", []):
        k = int((t.slot - c.start).total_seconds() // 1800) - t0
        if 0 <= k < SLOTS_PER_DAY and t.tier in kwh:
            kwh[t.tier][k] += float(t.kwh)
            yen[t.tier][k] += float(t.kwh * (t.price + t.wheeling_fee))
    return {tier: np.where(kwh[tier] > 0, yen[tier] / np.maximum(kwh[tier], 1e-9), np.nan) for tier in kwh}


def result2_figure(out: Outcome, day: int) -> Figure:
    """The seed's Result 2 for one day: PV surplus, the price trend, the cars' charging log and their charge."""
    ja = use_japanese()
    c, p = out.community, out.community.params
    sl = slice(day * SLOTS_PER_DAY, (day + 1) * SLOTS_PER_DAY)
    fig, axes = plt.subplots(2, 2, figsize=(11.4, 7.6), layout="constrained")
    surplus = np.clip(c.pv() - c.load(), 0, None)[:, sl] / SLOT_H
    office = surplus[c.office]
    homes = surplus.sum(axis=0) - office
    ax = axes[0, 0]
    ax.stackplot(HOURS, office, homes, labels=[label("office", "事業所", ja), label("homes", "家庭", ja)],
                 colors=["#f2b632", "#f7dc8c"], step="post")
    ax.set_title(label("Surplus energy from PV of the day", "当日の太陽光余剰", ja), fontsize=10)
    ax.set_ylabel("kW")
    ax.legend(loc="upper left", fontsize=8)
    ax = axes[0, 1]
    prices = slot_prices(out, day)
    ax.step(HOURS, prices["A"], where="post", color="#1f77b4",
            label=label("on site, no wires (A)", "構内 託送なし", ja))
    ax.step(HOURS, prices["B"], where="post", color="#d62728",
            label=label("over the grid (B), with wheeling", "託送あり", ja))
    for value, name, ja_name, style in ((p.home_retail, "home retail", "家庭小売", "--"),
                                        (p.office_retail, "office tariff", "事業所料金", ":"),
                                        (p.buyback, "buy-back", "買取", "-.")):
        ax.axhline(value, color="#777", linestyle=style, linewidth=0.9, label=label(name, ja_name, ja))
    ax.set_ylim(0, max(p.home_retail, p.office_retail) * 1.15)
    ax.set_title(label("The price trend of the day (buyers' price)", "当日の約定価格", ja), fontsize=10)
    ax.set_ylabel("yen/kWh")
    ax.legend(loc="lower center", fontsize=7, ncol=2)
    ax = axes[1, 0]
    at_office = np.zeros(SLOTS_PER_DAY)
    at_home = np.zeros(SLOTS_PER_DAY)
    fed = np.zeros(SLOTS_PER_DAY)
    for v, car in enumerate(c.cars):
        where = car.loc[sl]
        at_office += np.where(where == c.office, out.car_in[v, sl], 0.0) / SLOT_H
        at_home += np.where((where != c.office) & (where != AWAY), out.car_in[v, sl], 0.0) / SLOT_H
        fed += out.car_out[v, sl] / SLOT_H
    ax.bar(HOURS, at_office, width=0.5, align="edge", color="#2ca02c",
           label=label("charging at the office", "事業所で充電", ja))
    ax.bar(HOURS, at_home, width=0.5, align="edge", bottom=at_office, color="#98df8a",
           label=label("charging at home", "自宅で充電", ja))
    ax.bar(HOURS, -fed, width=0.5, align="edge", color="#9467bd", label=label("discharging (V2G)", "放電", ja))
    ax.axhline(0, color="#444", linewidth=0.6)
    ax.set_title(label(f"Charging log of the {len(c.cars)} EVs", "EVの充放電記録", ja), fontsize=10)
    ax.set_ylabel("kW")
    ax.legend(loc="upper left", fontsize=7)
    ax = axes[1, 1]
    soc = 100 * out.car_soc[:, day * SLOTS_PER_DAY:(day + 1) * SLOTS_PER_DAY + 1] / p.phev_battery_kwh
    hours = np.arange(SLOTS_PER_DAY + 1) / 2
    for v in range(len(c.cars)):
        ax.plot(hours, soc[v], color="#8c8c8c", linewidth=0.7, label=label("each car", "各車", ja) if v == 0 else None)
    ax.plot(hours, soc.mean(axis=0), color="#d62728", linewidth=2, label=label("mean", "平均", ja))
    ax.set_ylim(0, 105)
    ax.set_title(label("Charging result of the EVs", "EVの充電状態", ja), fontsize=10)
    ax.set_ylabel(label("state of charge (%)", "SOC", ja))
    ax.legend(loc="lower right", fontsize=7)
    for ax in axes.flat:
        ax.set_xlim(0, 24)
        ax.set_xticks(range(0, 25, 3))
        ax.set_xlabel(label("hour", "時", ja))
    return fig


def seed_comparison_figure(h: Headline) -> Figure:
    """EV users' monthly bill on both platforms, and the average prices beside the seed's."""
    ja = use_japanese()
    fig, axes = plt.subplots(1, 2, figsize=(11.4, 4.2), layout="constrained")
    ax = axes[0]
    bars = ax.bar([label("grid only", "従来型", ja, "\n"), label("P2P platform", "P2P", ja, "\n")],
                  [h.ev_cost_grid_yen, h.ev_cost_p2p_yen], color=["#999", "#2ca02c"], width=0.5)
    ax.bar_label(bars, labels=[f"{h.ev_cost_grid_yen:,.0f}", f"{h.ev_cost_p2p_yen:,.0f}"], fontsize=8)
    ax.set_ylim(0, max(h.ev_cost_grid_yen, h.ev_cost_p2p_yen) * 1.2)
    ax.set_ylabel(label("yen per month", "円/月", ja))
    ax.set_title(label(f"EV users' bill: {h.ev_cost_reduction_pct:.1f} % lower (seed about 25 %)",
                       "EVユーザーの電気代", ja), fontsize=10)
    ax = axes[1]
    groups = [label("purchase", "購入", ja, "\n"), label("sale", "販売", ja, "\n")]
    x = np.arange(2)
    width = 0.26
    seed_vals = [SEED["avg_purchase_price"], SEED["avg_sale_price"]]
    ours = [h.ev_avg_purchase, h.ev_avg_sale]
    grid = [h.home_retail, h.buyback]
    for k, (vals, name, colour) in enumerate(((seed_vals, label("seed", "実証", ja), "#1f77b4"),
                                               (ours, label("ours", "本シミュレーション", ja), "#2ca02c"),
                                               (grid, label("grid", "系統", ja), "#999"))):
        b = ax.bar(x + (k - 1) * width, vals, width, label=name, color=colour)
        ax.bar_label(b, labels=[f"{v:.1f}" for v in vals], fontsize=7)
    ax.set_xticks(x, groups)
    ax.set_ylim(0, max(h.home_retail, *seed_vals, *ours) * 1.3)
    ax.set_ylabel("yen/kWh")
    ax.set_title(label("EV users' average prices", "平均購入・販売価格", ja), fontsize=10)
    ax.legend(fontsize=7, loc="upper right", ncol=3)
    return fig


def archetype_figure(metrics: dict[str, dict[str, float]]) -> Figure:
    """Four panels, one bar per platform: cost per participant, renewable share, peak import, curtailment."""
    ja = use_japanese()
    keys = list(metrics)
    names = [label(PLATFORMS[k][0].split(":")[0], PLATFORMS[k][1].split("(")[0], ja, "\n") for k in keys]
    colours = {"grid_only": "#999", "orchestra": "#1f77b4", "modern_jazz": "#2ca02c", "hard_rock": "#d62728"}
    panels = (("cost_per_participant_yen", "cost per participant (yen/month)", "1参加者あたり費用", "{:,.0f}"),
              ("renewable_share_pct", "renewable share (%)", "再エネ比率", "{:.1f}"),
              ("peak_grid_import_kw", "peak grid import (kW)", "系統受電ピーク", "{:.1f}"),
              ("curtailed_kwh", "PV curtailed (kWh)", "出力抑制量", "{:,.0f}"))
    fig, axes = plt.subplots(2, 2, figsize=(11.4, 7.4), layout="constrained")
    for ax, (key, en, ja_name, fmt) in zip(axes.flat, panels, strict=True):
        values = [metrics[k][key] for k in keys]
        bars = ax.bar(range(len(keys)), values, color=[colours.get(k, "#555") for k in keys], width=0.6)
        ax.bar_label(bars, labels=[fmt.format(v) for v in values], fontsize=8)
        top = max(max(values), 1e-9)
        low = min(min(values), 0.0)
        ax.set_ylim(low * 1.25 if low < 0 else 0, top * 1.22)
        ax.set_xticks(range(len(keys)), names, fontsize=8)
        ax.set_title(label(en, ja_name, ja), fontsize=10)
        ax.axhline(0, color="#444", linewidth=0.6)
    return fig
