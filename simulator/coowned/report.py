"""The co-owned group's month as a report: each member's use, energy and bill, the fleet's hours, and the split
booked as one ``cost_share`` ledger entry (appended, signed and verified with the ledger's own core)."""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from services.mobility.coowned import cost_share_event
from services.mobility.domain.coownership.split import CostSplit, MemberBill, Prices, split_costs
from services.settlement.domain.chain import ChainHead, Entry, append
from services.settlement.domain.kinds.cost_share import NAME, CostShare
from services.settlement.domain.kinds.payments import payment_draft
from services.settlement.domain.signing import Signer
from services.settlement.domain.verify import verify
from shared.contracts.mobility import CostShareSettled
from simulator.coowned.config import GroupConfig
from simulator.coowned.synthetic import GroupMonth, prices_sen, simulate
from simulator.energy.weather import WEATHER_ATTRIBUTION, days_in
from simulator.paths import REPO_ROOT

DEFAULT_OUT = REPO_ROOT / "reports" / "coowned"
COLUMNS = ("member", "share", "hours", "km", "kWh", "PV %", "instalment", "insurance", "energy", "fleet energy",
           "credit", "bill")


@dataclass(frozen=True)
class CoownedReport:
    month: GroupMonth
    split: CostSplit
    event: CostShareSettled
    fact: CostShare
    entry: Entry
    verified: bool

    @property
    def period(self) -> str:
        return self.fact.period


def yen(sen: int) -> str:
    """Sen as yen with two decimals and thousands separators, exactly (no float)."""
    sign = "-" if sen < 0 else ""
    whole, part = divmod(abs(sen), 100)
    return f"{sign}{whole:,}.{part:02d}"


def period_label(config: GroupConfig, days: int) -> str:
    full = days == days_in(config.year, config.month)
    return f"{config.year}-{config.month:02d}" + ("" if full else f"-01+{days}d")


def to_event(config: GroupConfig, month: GroupMonth, split: CostSplit) -> CostShareSettled:
    """The split as the event settlement books from ``mobility.cost_shares``, exactly as the live service
    publishes it when an operator closes a month."""
    return cost_share_event(config.group, period_label(config, month.days), month.end, split)


def build(config: GroupConfig) -> CoownedReport:
    """Simulate the month, split its costs and book the split on a fresh chain (a throwaway key per seed)."""
    month = simulate(config)
    pv, grid = prices_sen(config)
    shares = {m.name: m.share for m in config.active_members}
    split = split_costs(month.book, shares, month.charges, Prices(pv, grid), month.revenue_sen)
    event = to_event(config, month, split)
    fact = CostShare.from_event(event)  # as settlement takes it off the topic
    signer = Signer.from_bytes(hashlib.sha256(f"citymatch co-owned report {config.seed}".encode()).digest())
    entries, _ = append(ChainHead("main"), [payment_draft(NAME, fact, month.end + timedelta(minutes=5))], signer)
    return CoownedReport(month, split, event, fact, entries[0], verify(entries, signer.public_key).ok)


def _row(m: MemberBill) -> list[str]:
    return [m.member, str(m.share), f"{m.use_min / 60:.1f}", f"{m.distance_m / 1000:.1f}", f"{m.wh / 1000:.1f}",
            f"{100 * m.renewable_share:.1f}", yen(m.instalment_sen), yen(m.insurance_sen), yen(m.energy_sen),
            yen(m.fleet_energy_sen), yen(-m.credit_sen), yen(m.bill_sen)]


def table(report: CoownedReport) -> list[str]:
    """The per-member table (yen), a totals row, then the fleet, the bookings and the ledger lines."""
    s, mo = report.split, report.month
    rows = [list(COLUMNS), *(_row(m) for m in s.members)]
    total = ["all", str(sum(m.share for m in s.members)), f"{sum(m.use_min for m in s.members) / 60:.1f}",
             f"{sum(m.distance_m for m in s.members) / 1000:.1f}", f"{sum(m.wh for m in s.members) / 1000:.1f}",
             f"{100 * sum(m.renewable_wh for m in s.members) / max(1, sum(m.wh for m in s.members)):.1f}",
             yen(s.instalment_sen), yen(s.insurance_sen), yen(s.energy_sen - s.fleet_energy_sen),
             yen(s.fleet_energy_sen), yen(-s.revenue_sen), yen(s.bills_sen)]
    rows.append(total)
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    fmt = [r[0].ljust(widths[0]) + "  " + "  ".join(c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True))
           for r in rows]
    fmt.insert(1, "-" * len(fmt[0]))
    fmt.insert(len(fmt) - 1, "-" * len(fmt[0]))
    charged = sum(c.wh for c in mo.charges)
    pv = sum(c.pv_wh for c in mo.charges)
    jobs = ", ".join(f"{n} {k} jobs" for k, n in sorted(mo.fleet_jobs.items()))
    return [
        f"{report.fact.group} · {report.period} ({mo.days} days from {mo.start.date()}, Japan time) · seed "
        f"{mo.config.seed} · {len(s.members)} members, {len(mo.book.cars)} cars ({', '.join(sorted(mo.book.cars))})",
        "amounts in yen; credit = the fleet's payout for the remaining hours, by ownership share; "
        "bill = instalment + insurance + energy + fleet energy - credit",
        *fmt,
        f"bookings: {mo.requests} asked, {mo.requests - len(mo.refused)} booked ({mo.moved} on another car than "
        f"the one asked for), {len(mo.refused)} refused (no car free)"
        + (f": e.g. {mo.refused[0].booking.member}: {mo.refused[0].reason}" if mo.refused else ""),
        f"fleet: {mo.offered_min / 60:.1f} h offered, {s.fleet_min / 60:.1f} h used ({jobs}), "
        f"{s.fleet_distance_m / 1000:.1f} km, {s.fleet_wh / 1000:.1f} kWh, paid {yen(s.revenue_sen)} yen",
        f"charging: {charged / 1000:.1f} kWh, {100 * pv / max(1, charged):.1f} % from the carport's "
        f"{mo.config.pv_kwp:g} kWp PV ({mo.pv_wh / 1000:.1f} kWh produced), {mo.public_wh / 1000:.1f} kWh "
        f"public; PV {mo.config.pv_yen_per_kwh}, grid {mo.config.grid_yen_per_kwh} yen/kWh; "
        f"energy {yen(s.energy_sen)} yen",
        f"ledger: {NAME} {report.entry.ref} slot {report.entry.slot} hash {report.entry.hash[:16]}… "
        f"postings balance, verify {'ok' if report.verified else 'FAILED'}",
        f"weather: {WEATHER_ATTRIBUTION}",
    ]


def summary(report: CoownedReport) -> dict[str, Any]:
    s = report.split
    return {"group": report.fact.group, "period": report.period, "seed": report.month.config.seed,
            "members": [{**report.fact.members[i].to_json(), "share": m.share} for i, m in enumerate(s.members)],
            "instalment_sen": s.instalment_sen, "insurance_sen": s.insurance_sen, "energy_sen": s.energy_sen,
            "fleet_energy_sen": s.fleet_energy_sen, "revenue_sen": s.revenue_sen, "bills_sen": s.bills_sen,
            "fleet_min": s.fleet_min, "offered_min": report.month.offered_min,
            "ledger": {"kind": NAME, "ref": report.entry.ref, "hash": report.entry.hash, "verified": report.verified}}


def write(report: CoownedReport, out: Path, plot: bool = False) -> list[Path]:
    """members.csv, summary.json, the event as published (cost_share_event.json), and with ``plot``
    bills.png; returns what was written."""
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "members.csv", out / "summary.json", out / "cost_share_event.json"]
    with written[0].open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        w.writerows(_row(m) for m in report.split.members)
    written[1].write_text(json.dumps(summary(report), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    written[2].write_text(report.event.model_dump_json(indent=2) + "\n", encoding="utf-8")
    if plot:
        from simulator.coowned.figure import bills_figure

        path = out / "bills.png"
        bills_figure(report.split, f"{report.fact.group} {report.period}").savefig(path, dpi=120)
        written.append(path)
    return written

