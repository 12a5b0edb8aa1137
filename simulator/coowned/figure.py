"""The bills as a picture: per member, what they are charged stacked up, the credit below zero, the bill marked."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from services.mobility.domain.coownership.split import CostSplit


def bills_figure(split: CostSplit, title: str) -> Figure:
    names = [m.member for m in split.members]
    parts = {"instalment": [m.instalment_sen for m in split.members],
             "insurance": [m.insurance_sen for m in split.members],
             "energy": [m.energy_sen for m in split.members],
             "fleet energy": [m.fleet_energy_sen for m in split.members]}
    fig, ax = plt.subplots(figsize=(7, 4))
    bottom = [0.0] * len(names)
    colours = {"instalment": "#4c72b0", "insurance": "#dd8452", "energy": "#c9b03a", "fleet energy": "#8172b3"}
    for label, values in parts.items():
        yen = [v / 100 for v in values]
        ax.bar(names, yen, bottom=bottom, label=label, color=colours[label])
        bottom = [b + y for b, y in zip(bottom, yen, strict=True)]
    ax.bar(names, [-m.credit_sen / 100 for m in split.members], label="credit (rides, deliveries)", color="#55a868")
    ax.scatter(names, [m.bill_sen / 100 for m in split.members], color="black", zorder=3, label="bill")
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_ylabel("yen")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
