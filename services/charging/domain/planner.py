"""``plan(fleet) -> Plan``: the relaxed flow (a lower bound), occupancy rounding, and a plan that checks itself.

The objective, in 1e-5 yen (Wh x sen/kWh), adds: a huge weight per Wh a promised departure lacks; a large
one per Wh an owner's Now / Min+PV asks for and does not get; for green cars a bonus per Wh of local PV
absorbed; what the energy costs (PV at its price, the grid at the market's price) minus what V2G earns;
a penalty per Wh of grid import above a site's soft threshold. The relaxed flow's cost is a lower bound
on every plan with one car per charger, so ``gap`` is a proven optimality gap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from services.charging.domain.fleet import Fleet, kw_to_wh_per_slot
from services.charging.domain.network import Cells, ChargingNetwork
from services.charging.domain.occupancy import assign_chargers, choose_cells, overfull


@dataclass(frozen=True)
class Plan:
    """Where and when each car charges, per (car, slot) cell, with the energy's origin and what it lacks."""

    fleet: Fleet
    cells: Cells
    pv_wh: np.ndarray          # per cell: charged from the site's PV surplus
    grid_wh: np.ndarray        # per cell: charged from the market / grid
    discharge_wh: np.ndarray   # per cell: fed back (V2G)
    charger: np.ndarray        # per cell: charger number at its site, -1 without a booking
    soc_wh: np.ndarray         # (cars, horizon + 1): battery at the start of each slot
    shortfall_wh: np.ndarray   # per departure (``departures`` order): Wh the promised charge lacks
    departures_v: np.ndarray
    departures_t: np.ndarray
    objective: int
    bound: int
    rounds: int

    @property
    def charge_wh(self) -> np.ndarray:
        charge: np.ndarray = self.pv_wh + self.grid_wh
        return charge

    @property
    def gap(self) -> float:
        """(objective - bound) / |objective|: how far from optimal the plan can at most be."""
        return (self.objective - self.bound) / max(abs(self.objective), 1)

    def site_slot(self, values: np.ndarray) -> np.ndarray:
        """Sum a per-cell quantity into (sites, horizon)."""
        T, S = self.fleet.horizon, len(self.fleet.sites)
        return np.bincount(self.cells.s * T + self.cells.t, weights=values, minlength=S * T).reshape(S, T)

    def renewable_share(self) -> float:
        total = int(self.charge_wh.sum())
        return float(self.pv_wh.sum() / total) if total else 0.0

    def unmet_departures(self) -> int:
        return int((self.shortfall_wh > 0).sum())

    def energy_cost_sen_wh(self) -> np.ndarray:
        """Per car: what its energy costs (PV and grid at their prices) minus what its V2G earns."""
        f, c = self.fleet, self.cells
        pv_price = f.pv_price()[c.s, c.t]
        per_cell = self.pv_wh * pv_price + self.grid_wh * f.prices.buy_sen[c.t] \
            - self.discharge_wh * f.prices.sell_sen[c.t]
        return np.bincount(c.v, weights=per_cell, minlength=len(f.vehicles))

    def problems(self) -> list[str]:
        """Broken rules, if any (an empty list for every plan ``plan`` returns)."""
        f, c, T = self.fleet, self.cells, self.fleet.horizon
        out = []
        charge = self.charge_wh
        if (charge > c.rate).any():
            out.append("a car charges above its or its charger's rate")
        if (self.discharge_wh > c.discharge).any():
            out.append("a car discharges above its rate")
        busy = (charge + self.discharge_wh) > 0
        chargers = np.array([s.chargers for s in f.sites], dtype=np.int64)
        if overfull(c, T, chargers, busy).any():
            out.append("more cars charge at a site than it has chargers")
        if (busy != (self.charger >= 0)).any():
            out.append("a charging cell has no charger booked")
        cap = np.stack([np.minimum(s.limit_wh, s.chargers * kw_to_wh_per_slot(s.charger_w / 1000)) for s in f.sites]) \
            if f.sites else np.zeros((0, T))
        if (self.site_slot(charge) > cap).any():
            out.append("a site's charging exceeds its limit")
        if (self.site_slot(self.pv_wh) > np.stack([s.pv_wh for s in f.sites])).any():
            out.append("more PV charged than the forecast surplus")
        battery = np.array([v.battery_wh for v in f.vehicles])[:, None]
        if (self.soc_wh < 0).any() or (self.soc_wh > battery).any():
            out.append("a battery leaves 0..capacity")
        return out


def plan(fleet: Fleet) -> Plan:
    """Relax (any number of cars per site and slot within the chargers' power), round the occupancy with a
    scheduling flow, then re-solve the energy with the chosen cells only."""
    net = ChargingNetwork(fleet)
    bound, flows = net.solve()
    chargers = np.array([s.chargers for s in fleet.sites], dtype=np.int64)
    charge = flows["cell_main"] + net.per_cell(flows, "cell_extra")
    discharge = net.per_cell(flows, "discharge")
    soc = _battery(fleet, net, charge, discharge, flows["stranded"])
    keep = choose_cells(net.cells, fleet.horizon, chargers, charge, discharge, net.stay_of_cell,
                        _mandatory(fleet, net, soc))
    rounds = 1
    cost = bound
    if not keep.all():
        net = ChargingNetwork(fleet, allowed=keep)   # a fresh, smaller network solves faster than zeroed arcs
        cost, flows = net.solve()
        rounds = 2
    return _result(fleet, net, cost, flows, bound, rounds)


def _battery(fleet: Fleet, net: ChargingNetwork, charge: np.ndarray, discharge: np.ndarray,
             stranded: np.ndarray) -> np.ndarray:
    """Battery (Wh) at the start of each slot, (cars, horizon + 1), from what physically happens: charge,
    discharge, trips, and the energy a trip lacked (which the chain had to lend so the car still arrives)."""
    c, T, V = net.cells, fleet.horizon, len(fleet.vehicles)
    change = np.zeros((V, T + 1), dtype=np.int64)
    np.add.at(change, (c.v, c.t + 1), charge - discharge)
    np.add.at(change, (net.trips[0], net.trips[1]), stranded - net.trips[2])
    soc0 = np.array([v.soc_wh for v in fleet.vehicles], dtype=np.int64)
    return soc0[:, None] + np.cumsum(change, axis=1)


def _mandatory(fleet: Fleet, net: ChargingNetwork, soc: np.ndarray) -> np.ndarray:
    """Per stay (run of cells): what its promised departure needs beyond the charge the car arrives with."""
    c = net.cells
    n_stays = int(net.stay_of_cell.max()) + 1 if len(c) else 0
    first = np.r_[0, np.nonzero(np.diff(net.stay_of_cell))[0] + 1] if len(c) else np.zeros(0, dtype=np.int64)
    out = np.zeros(n_stays)
    for k, cell in enumerate(first):
        v, t = int(c.v[cell]), int(c.t[cell])
        veh = fleet.vehicles[v]
        if not veh.mode.promises_departure:
            continue
        stay = next(st for st in veh.stays if st.arrive <= t < st.depart)
        if stay.depart < fleet.horizon:
            out[k] = max(stay.need_wh - int(soc[v, t]), 0)
    return out


def _result(fleet: Fleet, net: ChargingNetwork, cost: int, flows: dict[str, np.ndarray], bound: int,
            rounds: int) -> Plan:
    c, d, T = net.cells, net.departures, fleet.horizon
    discharge = net.per_cell(flows, "discharge")
    pv, grid = net.origin(flows)
    busy = (pv + grid + discharge) > 0
    chargers = np.array([s.chargers for s in fleet.sites], dtype=np.int64)
    short = np.zeros(len(d.v), dtype=np.int64)
    short[net.short_index] = flows["shortfall"]
    soc = _battery(fleet, net, pv + grid, discharge, flows["stranded"])
    stranded = _stranded_per_departure(net, flows["stranded"])
    return Plan(fleet=fleet, cells=c, pv_wh=pv, grid_wh=grid, discharge_wh=discharge,
                charger=assign_chargers(c, T, chargers, busy), soc_wh=soc, shortfall_wh=short + stranded,
                departures_v=d.v, departures_t=d.t, objective=cost, bound=bound, rounds=rounds)


def _stranded_per_departure(net: ChargingNetwork, stranded: np.ndarray) -> np.ndarray:
    """Energy a trip lacked on arrival, charged to the departure that started the trip."""
    d = net.departures
    out = np.zeros(len(d.v), dtype=np.int64)
    trips = net.trips
    for k in np.nonzero(stranded)[0]:
        match = np.nonzero((d.v == trips[0][k]) & (d.trip_arrival == trips[1][k]))[0]
        if len(match):
            out[match[0]] += stranded[k]
    return out
