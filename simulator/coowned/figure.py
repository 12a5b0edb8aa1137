"""The bills as a picture: per member, what they are charged stacked up, the credit below zero, the bill marked.

Labels are in English and Japanese where a Japanese font is installed (``simulator.fonts.use_japanese``)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from services.mobility.domain.coownership.split import CostSplit
from simulator.energy.figures import label
from simulator.fonts import use_japanese


def bills_figure(split: CostSplit, title: str) -> Figure:
    ja = use_japanese()
    names = [m.member for m in split.members]
    parts = {("instalment", "割賦"): [m.instalment_sen for m in split.members],
             ("insurance", "保険"): [m.insurance_sen for m in split.members],
             ("energy", "電力"): [m.energy_sen for m in split.members],
             ("fleet energy", "貸出分の電力"): [m.fleet_energy_sen for m in split.members]}
    fig, ax = plt.subplots(figsize=(7, 4))
    bottom = [0.0] * len(names)
    colours = {"instalment": "#4c72b0", "insurance": "#dd8452", "energy": "#c9b03a", "fleet energy": "#8172b3"}
    for (en, jp), values in parts.items():
        yen = [v / 100 for v in values]
        ax.bar(names, yen, bottom=bottom, label=label(en, jp, ja), color=colours[en])
        bottom = [b + y for b, y in zip(bottom, yen, strict=True)]
    ax.bar(names, [-m.credit_sen / 100 for m in split.members],
           label=label("credit (rides, deliveries)", "還元（乗車・配達）", ja), color="#55a868")
    ax.scatter(names, [m.bill_sen / 100 for m in split.members], color="black", zorder=3,
               label=label("bill", "請求額", ja))
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_ylabel(label("yen", "円", ja))
    ax.set_title(label(title, "共同所有 EV の費用分担", ja, sep="\n"))
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
