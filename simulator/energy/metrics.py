"""The figures the reports show, computed one way for every platform (pure functions of an Outcome).

- cost per participant: what the community pays outside itself (grid energy at the tariffs, wheeling fees,
  minus buy-back) divided by its participants (the homes and the office);
- renewable share: local PV consumed in the community / everything consumed (local PV + grid imports; the
  grid's own renewable part is not counted);
- peak grid import: the largest community import in a slot, as kW; energy curtailed: PV thrown away.
- EV users: the households with a plug-in hybrid, home and car as one account: what they bought from
  others (peers or grid, wheeling included) and sold to others, per kWh; trades between a home and its own
  car are internal and do not count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.energy.community import SLOT_H
from simulator.energy.outcome import Account, Outcome

SEED = {
    "ev_cost_reduction_pct": 25.0,
    "overall_improvement_pct": 25.4,
    "avg_purchase_price": 21.6,
    "purchase_below_grid": 4.6,
    "avg_sale_price": 20.0,
    "sale_above_buyback": 13.0,
    "bound_floor_pct": 37.5,
    "bound_no_wires_pct": 60.0,
}


def platform_metrics(out: Outcome) -> dict[str, float]:
    c = out.community
    pv_used = float(c.pv().sum() - out.curtailed_kwh.sum() - out.export_kwh.sum())
    imported = float(out.import_kwh.sum())
    cost = out.community_cost_yen()
    participants = len(c.sites)
    return {
        "community_cost_yen": cost,
        "cost_per_participant_yen": cost / participants,
        "participants": participants,
        "renewable_share_pct": 100 * pv_used / (pv_used + imported) if pv_used + imported else 0.0,
        "peak_grid_import_kw": float(out.import_kwh.sum(axis=0).max()) / SLOT_H,
        "curtailed_kwh": float(out.curtailed_kwh.sum()),
        "grid_import_kwh": imported,
        "grid_export_kwh": float(out.export_kwh.sum()),
        "between_sites_kwh": float(out.received_kwh.sum()),
        "ev_charged_kwh": float(out.car_in.sum()),
        "ev_discharged_kwh": float(out.car_out.sum()),
        "ev_charged_at_office_kwh": _charged_at(out, c.office),
        "petrol_kwh": float(out.petrol_kwh.sum()),
    }


def _charged_at(out: Outcome, site: int) -> float:
    return float(sum(out.car_in[v][car.loc == site].sum() for v, car in enumerate(out.community.cars)))


def shortfall_vs(metrics: dict[str, float], bound: dict[str, float]) -> tuple[float, float]:
    """(yen, %) by which a platform's community cost exceeds the central optimum's."""
    gap = metrics["community_cost_yen"] - bound["community_cost_yen"]
    return gap, 100 * gap / abs(bound["community_cost_yen"]) if bound["community_cost_yen"] else 0.0


def merged(accounts: list[Account]) -> Account:
    out = Account()
    for a in accounts:
        out.bought_kwh += a.bought_kwh
        out.paid_yen += a.paid_yen
        out.sold_kwh += a.sold_kwh
        out.received_yen += a.received_yen
        out.fees_yen += a.fees_yen
    return out


def ev_users(out: Outcome) -> Account:
    """The households with a plug-in hybrid as one account (home and car together)."""
    if out.accounts is None:
        raise ValueError(f"{out.platform} keeps no individual accounts")
    c = out.community
    return merged([out.accounts[c.sites[h].id] for h in c.ev_homes()])


def everyone(out: Outcome) -> Account:
    if out.accounts is None:
        raise ValueError(f"{out.platform} keeps no individual accounts")
    return merged(list(out.accounts.values()))


def cars(out: Outcome) -> Account:
    """The cars' own trades (what they bought and sold, their own homes included)."""
    if out.car_accounts is None:
        raise ValueError(f"{out.platform} keeps no car accounts")
    return merged(list(out.car_accounts.values()))


def group_costs(out: Outcome) -> dict[str, float]:
    """Net cost (yen) of the EV households, the other homes and the office."""
    if out.accounts is None:
        raise ValueError(f"{out.platform} keeps no individual accounts")
    c = out.community
    ev = {c.sites[h].id for h in c.ev_homes()}
    groups = {"ev_households": 0.0, "other_homes": 0.0, "office": 0.0}
    for s in c.sites:
        key = "office" if s.kind == "office" else "ev_households" if s.id in ev else "other_homes"
        groups[key] += out.accounts[s.id].net_cost_yen
    return groups


def price(yen: float, kwh: float) -> float:
    return yen / kwh if kwh else float("nan")


@dataclass(frozen=True)
class Headline:
    """The seed's figures for the Higashi-Fuji month, measured on our run."""

    ev_cost_grid_yen: float
    ev_cost_p2p_yen: float
    all_cost_grid_yen: float
    all_cost_p2p_yen: float
    ev_avg_purchase: float
    ev_avg_sale: float
    car_avg_purchase: float
    car_avg_sale: float
    car_cost_grid_yen: float
    car_cost_p2p_yen: float
    home_retail: float
    buyback: float
    bound_floor_pct: float
    bound_no_wires_pct: float
    tier_b_energy_saving_pct: float
    tier_a_saving_pct: float
    trades_avg_purchase: float
    trades_avg_sale: float
    trades_kwh: float
    tier_a_share_pct: float
    sale_tier_b_cap: float

    @property
    def ev_cost_reduction_pct(self) -> float:
        return 100 * (1 - self.ev_cost_p2p_yen / self.ev_cost_grid_yen)

    @property
    def overall_improvement_pct(self) -> float:
        return 100 * (1 - self.all_cost_p2p_yen / self.all_cost_grid_yen)

    @property
    def car_cost_reduction_pct(self) -> float:
        return 100 * (1 - self.car_cost_p2p_yen / self.car_cost_grid_yen)


def headline(p2p: Outcome, grid: Outcome) -> Headline:
    p = p2p.community.params
    ev_p, ev_g = ev_users(p2p), ev_users(grid)
    car_p, car_g = cars(p2p), cars(grid)
    trades = [t for t in p2p.detail.get("trades", []) if "grid" not in (t.buyer, t.seller)]
    kwh = sum(float(t.kwh) for t in trades)
    paid = sum(float(t.kwh * (t.price + t.wheeling_fee)) for t in trades)
    got = sum(float(t.kwh * t.price) for t in trades)
    owners = {car.id: p2p.community.sites[car.home].id for car in p2p.community.cars}
    ev_ids = set(owners) | set(owners.values())
    ev_buys = [t for t in trades if t.buyer in ev_ids and owners.get(t.buyer, t.buyer) != owners.get(t.seller,
                                                                                                        t.seller)]
    b_kwh = sum(float(t.kwh) for t in ev_buys if t.tier == "B")
    b_price = price(sum(float(t.kwh * t.price) for t in ev_buys if t.tier == "B"), b_kwh)
    a_kwh = sum(float(t.kwh) for t in ev_buys if t.tier == "A")
    a_price = price(sum(float(t.kwh * t.price) for t in ev_buys if t.tier == "A"), a_kwh)
    energy_part = p.home_retail - p.wheeling_fee
    bound_floor, bound_no_wires = seed_bounds(p.home_retail, p.wheeling_fee, p.post_fit_floor)
    return Headline(
        ev_cost_grid_yen=ev_g.net_cost_yen, ev_cost_p2p_yen=ev_p.net_cost_yen,
        all_cost_grid_yen=everyone(grid).net_cost_yen, all_cost_p2p_yen=everyone(p2p).net_cost_yen,
        ev_avg_purchase=price(ev_p.paid_yen, ev_p.bought_kwh), ev_avg_sale=price(ev_p.received_yen, ev_p.sold_kwh),
        car_avg_purchase=price(car_p.paid_yen, car_p.bought_kwh),
        car_avg_sale=price(car_p.received_yen, car_p.sold_kwh),
        car_cost_grid_yen=car_g.net_cost_yen, car_cost_p2p_yen=car_p.net_cost_yen,
        home_retail=p.home_retail, buyback=p.buyback,
        bound_floor_pct=bound_floor, bound_no_wires_pct=bound_no_wires,
        tier_b_energy_saving_pct=100 * (energy_part - b_price) / energy_part if b_kwh else float("nan"),
        tier_a_saving_pct=100 * (p.home_retail - a_price) / p.home_retail if a_kwh else float("nan"),
        trades_avg_purchase=price(paid, kwh), trades_avg_sale=price(got, kwh), trades_kwh=kwh,
        tier_a_share_pct=100 * sum(float(t.kwh) for t in trades if t.tier == "A") / kwh if kwh else 0.0,
        sale_tier_b_cap=energy_part,
    )


def seed_bounds(home_retail: float, wheeling_fee: float, floor: float) -> tuple[float, float]:
    """The seed's two upper bounds on the saving (%): over the wires, on the energy part of the price, when a
    trade clears at the post-FIT floor; and on a private line, where retail becomes the floor price."""
    energy_part = home_retail - wheeling_fee
    return 100 * (energy_part - floor) / energy_part, 100 * (home_retail - floor) / home_retail


def required_private_line_share(sale: float, retail: float, fee: float) -> float:
    """Least share of sold kWh that must avoid the grid's wires for an average sale price ``sale``: over the
    wires a seller gets at most retail - fee, on a private line at most retail."""
    cap_b = retail - fee
    if sale <= cap_b:
        return 0.0
    return 100 * (sale - cap_b) / fee if fee else 0.0


def hourly_balance_ok(out: Outcome, tol: float = 1e-6) -> bool:
    return bool(np.abs(out.balance_residual()).max() <= tol)


def ev_breakdown(p2p: Outcome) -> dict[str, dict[str, tuple[float, float]]]:
    """EV users' purchases and sales by channel: (kWh, yen). Channels: on site without wires (A), over the
    grid's wires to or from peers (B), and the grid itself (tariff or buy-back)."""
    c = p2p.community
    owners = {car.id: c.sites[car.home].id for car in c.cars}
    households = set(owners.values())
    acct = lambda pid: owners.get(pid, pid)  # noqa: E731
    buys = {"A": [0.0, 0.0], "B": [0.0, 0.0], "grid": [0.0, 0.0]}
    sells = {"A": [0.0, 0.0], "B": [0.0, 0.0], "grid": [0.0, 0.0]}
    for t in p2p.detail.get("trades", []):
        if "grid" in (t.buyer, t.seller) or acct(t.buyer) == acct(t.seller):
            continue
        kwh = float(t.kwh)
        if acct(t.buyer) in households:
            buys[t.tier][0] += kwh
            buys[t.tier][1] += kwh * float(t.price + t.wheeling_fee)
        if acct(t.seller) in households:
            sells[t.tier][0] += kwh
            sells[t.tier][1] += kwh * float(t.price)
    total = ev_users(p2p)
    buys["grid"] = [total.bought_kwh - buys["A"][0] - buys["B"][0], total.paid_yen - buys["A"][1] - buys["B"][1]]
    sells["grid"] = [total.sold_kwh - sells["A"][0] - sells["B"][0],
                     total.received_yen - sells["A"][1] - sells["B"][1]]
    return {"buy": {k: (v[0], v[1]) for k, v in buys.items()}, "sell": {k: (v[0], v[1]) for k, v in sells.items()}}
