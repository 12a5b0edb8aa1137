"""The fleet's day as one min-cost flow over a time-expanded network, built from numpy arrays.

Energy (Wh) flows from the source through a site's slot node (the site's limit for charging), then either
its PV node (the PV surplus, at the PV price) or its grid node (at the market price, with a peak penalty
above the soft threshold), into a car's charging cell (the car plugged in at that site in that slot; at
most the charger's and the car's rate), and on into the car's battery chain ``X(v, t) -> X(v, t+1)``
(state of charge above the reserve). Each of the chain's nodes is split in two, what arrives and what
leaves, joined by an arc capped at the battery above the reserve: a slot's charging arrives before the cap
and a later slot's discharge leaves after it, so a full car can never buy cheap, hold more than its battery
for a slot and sell the excess back. Trips take their energy at the next arrival.
A departure's promised charge is a lower bound on the chain's arc at the departure; a reverse arc with
the shortfall weight lets the flow stay feasible and measures what is missing (driver first: it costs
more than anything else can earn). Discharge (V2G) leaves a cell to the sink at the sell price.

The relaxation allows any number of cars at a site in a slot as long as their energy fits the chargers'
total power; ``occupancy`` then rounds to one car per charger. Because all arcs are integral, the solver
(``SimpleMinCostFlow``) is exact, and re-solving after forbidding cells only changes capacities.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from services.charging.domain.fleet import NO_SITE, Fleet, Mode, Preference, kw_to_wh_per_slot

SRC, SINK = 0, 1


class SolveError(RuntimeError):
    """The flow solver did not reach an optimum (cannot happen for a valid fleet: every demand has a slack)."""


@dataclass
class Cells:
    """The (car, slot) pairs where a car is plugged in, as columns."""

    v: np.ndarray
    t: np.ndarray
    s: np.ndarray
    rate: np.ndarray
    forced: np.ndarray      # Wh per slot an owner's Now / Min+PV setting asks for
    discharge: np.ndarray   # Wh per slot the car may feed back (0 without V2G)
    continuing: np.ndarray  # the same car was plugged in at the same site in the previous slot
    age: np.ndarray         # slots since this stay's plug-in (0 in its first slot)
    stay: np.ndarray        # which stay (a run of plugged-in slots of one car at one site) the cell is in

    def __len__(self) -> int:
        return len(self.v)


@dataclass
class Departure:
    """A promised departure as columns: car, slot, lower bound (Wh above reserve)."""

    v: np.ndarray
    t: np.ndarray
    lb: np.ndarray
    trip_arrival: np.ndarray  # slot whose arrival takes the trip's energy (horizon = beyond it)


def _cells(fleet: Fleet, allowed: np.ndarray | None = None) -> Cells:
    loc = fleet.presence()
    rate_all = fleet.rate_wh(loc)
    v, t = np.nonzero(loc != NO_SITE)
    prev = np.full(len(v), NO_SITE)
    has_prev = t > 0
    prev[has_prev] = loc[v[has_prev], t[has_prev] - 1]
    continuing = prev == loc[v, t]
    new_stay = ~continuing
    stay = np.cumsum(new_stay) - 1
    first_slot = t[np.nonzero(new_stay)[0]]
    age = t - first_slot[stay] if len(t) else t
    if allowed is not None:
        v, t, continuing, age, stay = v[allowed], t[allowed], continuing[allowed], age[allowed], stay[allowed]
    s = loc[v, t]
    rate = rate_all[v, t]
    mode = np.array([veh.mode.value for veh in fleet.vehicles])[v] if len(v) else np.array([], dtype=str)
    minimum = np.array([kw_to_wh_per_slot(veh.min_charge_w / 1000) for veh in fleet.vehicles], dtype=np.int64)
    forced = np.zeros(len(v), dtype=np.int64)
    forced = np.where(mode == Mode.NOW.value, rate, forced)
    forced = np.where(mode == Mode.MIN_PV.value, np.minimum(minimum[v] if len(v) else 0, rate), forced)
    forced = np.where(mode == Mode.OFF.value, 0, forced)
    dis_car = np.array([kw_to_wh_per_slot(veh.max_discharge_w / 1000) if veh.v2g else 0
                        for veh in fleet.vehicles], dtype=np.int64)
    charger = np.array([kw_to_wh_per_slot(site.charger_w / 1000) if site.bidirectional else 0
                        for site in fleet.sites], dtype=np.int64)
    discharge = np.where(mode == Mode.DEPARTURE.value, np.minimum(dis_car[v], charger[s]) if len(v) else 0, 0)
    return Cells(v, t, s, rate, forced.astype(np.int64), discharge.astype(np.int64), continuing, age, stay)


def _departures(fleet: Fleet) -> tuple[Departure, np.ndarray, np.ndarray]:
    """Promised departures, plus the trip demands (car, slot, Wh) the battery chain must deliver."""
    dv, dt, dlb, darr, tv, tt, tw = [], [], [], [], [], [], []
    T = fleet.horizon
    for i, veh in enumerate(fleet.vehicles):
        reserve = min(veh.reserve_wh, veh.soc_wh)
        for k, stay in enumerate(veh.stays):
            if stay.depart >= T:
                continue
            arrival = veh.stays[k + 1].arrive if k + 1 < len(veh.stays) else T
            arrival = min(arrival, T)
            if stay.trip_wh > 0:
                tv.append(i)
                tt.append(arrival)
                tw.append(stay.trip_wh)
            lb = max(stay.need_wh - reserve, 0) if veh.mode.promises_departure else 0
            dv.append(i)
            dt.append(stay.depart)
            dlb.append(lb)
            darr.append(arrival)
    def as_int(xs: list[int]) -> np.ndarray:
        return np.array(xs, dtype=np.int64)

    return (Departure(as_int(dv), as_int(dt), as_int(dlb), as_int(darr)),
            np.stack([as_int(tv), as_int(tt), as_int(tw)]) if tv else np.zeros((3, 0), dtype=np.int64),
            np.array([min(v.reserve_wh, v.soc_wh) for v in fleet.vehicles], dtype=np.int64))


def _events(fleet: Fleet, cells: Cells, departures: Departure, trips: np.ndarray) -> np.ndarray:
    """Sorted keys ``car * (T + 2) + slot`` of the battery chain's nodes: the horizon's ends, every arrival
    and departure, and, for cars that may discharge, every slot they are plugged in (so V2G can only feed
    back energy already in the battery). Between two such times a car's charge only grows, so the battery's
    capacity needs checking only where the chain has a node."""
    T, V = fleet.horizon, len(fleet.vehicles)
    width = T + 2
    cars = np.arange(V, dtype=np.int64)
    keys = [cars * width, cars * width + T, departures.v * width + departures.t, trips[0] * width + trips[1]]
    for v, veh in enumerate(fleet.vehicles):
        keys.append(np.array([v * width + min(st.arrive, T) for st in veh.stays], dtype=np.int64))
    v2g = cells.discharge > 0
    keys += [cells.v[v2g] * width + cells.t[v2g], cells.v[v2g] * width + cells.t[v2g] + 1]
    return np.unique(np.concatenate(keys))


class ChargingNetwork:
    """The flow network of one fleet; ``allowed`` (a mask over all plugged-in cells) leaves cells out."""

    def __init__(self, fleet: Fleet, allowed: np.ndarray | None = None):
        self.fleet = fleet
        T, S, V = fleet.horizon, len(fleet.sites), len(fleet.vehicles)
        width = T + 2
        w = fleet.weights
        self.cells = c = _cells(fleet, allowed)
        self.departures, trips, reserve = _departures(fleet)
        d = self.departures
        self.reserve = reserve
        self.trips = trips
        events = _events(fleet, c, d, trips)
        n_cells, n_ev = len(c), len(events)
        base_s, base_pv, base_gr = 2, 2 + S * T, 2 + 2 * S * T
        base_mg, base_mc = 2 + 3 * S * T, 2 + 4 * S * T
        base_x = 2 + 5 * S * T
        base_out = base_x + n_ev
        self.n_nodes = base_out + n_ev
        # an event's arriving side (charging, trips, the chain from before) and leaving side (discharge, the
        # chain onwards, the horizon's end), n_ev apart
        def node_at(v: np.ndarray, t: np.ndarray | int) -> np.ndarray:  # the first event at or after t
            return base_x + np.searchsorted(events, v * width + t)

        def leaving_before(v: np.ndarray, t: np.ndarray | int) -> np.ndarray:
            return base_out + np.searchsorted(events, v * width + t, side="right") - 1

        st = np.arange(S * T)

        charger_total = np.array([s.chargers * kw_to_wh_per_slot(s.charger_w / 1000) for s in fleet.sites],
                                 dtype=np.int64)
        limit = np.stack([np.asarray(s.limit_wh, dtype=np.int64) for s in fleet.sites]) if S else np.zeros((0, T))
        self.site_cap = np.minimum(limit, charger_total[:, None]).astype(np.int64)
        pv = np.stack([np.asarray(s.pv_wh, dtype=np.int64) for s in fleet.sites]) if S else np.zeros((0, T))
        soft = np.stack([np.asarray(s.soft_wh, dtype=np.int64) for s in fleet.sites]) if S else np.zeros((0, T))
        soft = np.minimum(soft, self.site_cap)
        buy = np.tile(fleet.prices.buy_sen.astype(np.int64), S)
        sell = fleet.prices.sell_sen.astype(np.int64)

        battery = np.array([v.battery_wh for v in fleet.vehicles], dtype=np.int64)
        green = np.array([w.green_sen if v.preference == Preference.GREEN else 0 for v in fleet.vehicles],
                         dtype=np.int64)
        mode = np.array([v.mode.value for v in fleet.vehicles])
        cm = mode[c.v] if n_cells else np.array([], dtype=str)
        site_slot = c.s * T + c.t
        # A cell takes its energy in one arc: from the site's green or cheap pool (PV and grid mixed; the green
        # pool pays the bonus on its PV) or, in PV mode, from the PV node itself. Min+PV adds a PV-only arc.
        # a Now car wants its energy early, not green: it draws from the cheap pool
        is_green = (green[c.v] > 0) & (cm != Mode.NOW.value)
        pool = np.where(is_green, base_mg, base_mc) + site_slot
        pv_only = cm == Mode.PV.value
        main_from = np.where(pv_only, base_pv + site_slot, pool)
        main_cap = np.where(cm == Mode.OFF.value, 0, np.where(cm == Mode.MIN_PV.value, c.forced, c.rate))
        age = c.age
        main_cost = np.where(cm == Mode.NOW.value, -w.forced_sen + w.now_delay_sen * age,
                             np.where(cm == Mode.MIN_PV.value, -w.forced_sen,
                                      np.where(pv_only, -green[c.v], 0)))
        extra = cm == Mode.MIN_PV.value
        self.main_from_pv = pv_only
        self.green_cell = is_green

        # the battery chain: one arc from each event to the next of the same car (none after the horizon's end)
        ev_car = events // width
        has_next = np.r_[ev_car[1:] == ev_car[:-1], False]
        chain_from = np.nonzero(has_next)[0]
        lb_at_event = np.zeros(n_ev, dtype=np.int64)
        inside = d.t < T
        np.add.at(lb_at_event, np.searchsorted(events, d.v[inside] * width + d.t[inside]), d.lb[inside])
        chain_lb = lb_at_event[chain_from]
        usable = np.maximum(battery - reserve, 0)
        chain_cap = usable[ev_car[chain_from]] - chain_lb
        if (chain_cap < 0).any():
            raise SolveError("a departure's need exceeds its battery")
        supplies = np.zeros(self.n_nodes, dtype=np.int64)
        np.add.at(supplies, node_at(np.arange(V), 0),
                  np.array([v.soc_wh for v in fleet.vehicles], dtype=np.int64) - reserve)
        np.add.at(supplies, node_at(trips[0], trips[1]), -trips[2])
        np.add.at(supplies, base_out + chain_from, -chain_lb)
        np.add.at(supplies, base_x + chain_from + 1, chain_lb)

        v2g = c.discharge > 0
        short = d.lb > 0
        groups = [
            ("site", np.full(S * T, SRC), base_s + st, self.site_cap.ravel(), np.zeros(S * T)),
            ("pv", base_s + st, base_pv + st, np.minimum(pv, self.site_cap).ravel(), fleet.pv_price().ravel()),
            ("grid_soft", base_s + st, base_gr + st, soft.ravel(), buy),
            ("grid_peak", base_s + st, base_gr + st, (self.site_cap - soft).ravel(), buy + w.peak_sen),
            ("pv_green", base_pv + st, base_mg + st, self.site_cap.ravel(), np.full(S * T, -w.green_sen)),
            ("pv_cheap", base_pv + st, base_mc + st, self.site_cap.ravel(), np.zeros(S * T)),
            ("grid_green", base_gr + st, base_mg + st, self.site_cap.ravel(), np.zeros(S * T)),
            ("grid_cheap", base_gr + st, base_mc + st, self.site_cap.ravel(), np.zeros(S * T)),
            ("cell_main", main_from, node_at(c.v, c.t + 1), main_cap, main_cost),
            ("cell_extra", base_pv + site_slot[extra], node_at(c.v[extra], c.t[extra] + 1),
             (c.rate - c.forced)[extra], -green[c.v[extra]]),
            ("discharge", leaving_before(c.v[v2g], c.t[v2g]), np.full(int(v2g.sum()), SINK), c.discharge[v2g],
             -sell[c.t[v2g]] + green[c.v[v2g]] + w.wear_sen),
            ("held", base_x + np.arange(n_ev), base_out + np.arange(n_ev), usable[ev_car], np.zeros(n_ev)),
            ("chain", base_out + chain_from, base_x + chain_from + 1, chain_cap, np.zeros(len(chain_from))),
            ("shortfall", node_at(d.v[short], d.t[short]) + 1, node_at(d.v[short], d.t[short]) + n_ev, d.lb[short],
             np.full(int(short.sum()), w.shortfall_sen)),
            ("stranded", np.full(trips.shape[1], SRC), node_at(trips[0], trips[1]), trips[2],
             np.full(trips.shape[1], w.shortfall_sen)),
            ("end", node_at(np.arange(V), T) + n_ev, np.full(V, SINK), usable, np.zeros(V)),
        ]
        # The sink hands its energy back to the source: a circulation, so no large supply has to be pushed
        # through a bypass (which slowed the solver down a lot).
        groups.append(("loop", np.array([SINK]), np.array([SRC]), np.array([int(self.site_cap.sum() + battery.sum()
                                                                            + trips[2].sum() + 1)]), np.zeros(1)))
        self.extra_arc_of_cell = np.full(n_cells, -1, dtype=np.int64)
        self.extra_arc_of_cell[extra] = np.arange(int(extra.sum()))
        self.discharge_arc_of_cell = np.full(n_cells, -1, dtype=np.int64)
        self.discharge_arc_of_cell[v2g] = np.arange(int(v2g.sum()))
        self.short_index = np.nonzero(short)[0]
        self.smcf = min_cost_flow.SimpleMinCostFlow()
        self.arcs: dict[str, np.ndarray] = {}
        for name, tails, heads, caps, costs in groups:
            self.arcs[name] = self.smcf.add_arcs_with_capacity_and_unit_cost(
                np.asarray(tails, dtype=np.int64), np.asarray(heads, dtype=np.int64),
                np.asarray(caps, dtype=np.int64), np.asarray(costs, dtype=np.int64))
        supplies[SINK] = -supplies[2:].sum()
        self.smcf.set_nodes_supplies(np.arange(self.n_nodes), supplies)
        self.forbidden = np.zeros(n_cells, dtype=bool)
        self.stay_of_cell = c.stay

    def forbid(self, cells: np.ndarray) -> None:
        """No charging and no discharge in these cells (the car gets no charger in that slot)."""
        self.forbidden[cells] = True
        self.smcf.set_arc_capacities(self.arcs["cell_main"][cells], np.zeros(len(cells), dtype=np.int64))
        for name, arc_of_cell in (("cell_extra", self.extra_arc_of_cell), ("discharge", self.discharge_arc_of_cell)):
            hit = arc_of_cell[cells]
            hit = hit[hit >= 0]
            if len(hit):
                self.smcf.set_arc_capacities(self.arcs[name][hit], np.zeros(len(hit), dtype=np.int64))

    def per_cell(self, flows: dict[str, np.ndarray], name: str) -> np.ndarray:
        """Flow of an optional per-cell arc group (``cell_extra``, ``discharge``), 0 where a cell has none."""
        arc_of_cell = self.extra_arc_of_cell if name == "cell_extra" else self.discharge_arc_of_cell
        out = np.zeros(len(arc_of_cell), dtype=np.int64)
        has = arc_of_cell >= 0
        out[has] = flows[name][arc_of_cell[has]]
        return out

    def origin(self, flows: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(PV Wh, grid Wh) per cell. A pool mixes PV and grid; each car in it gets the pool's PV share."""
        c, T = self.cells, self.fleet.horizon
        main = flows["cell_main"]
        pv_in = {True: flows["pv_green"], False: flows["pv_cheap"]}
        grid_in = {True: flows["grid_green"], False: flows["grid_cheap"]}
        share = np.zeros(len(c))
        for green in (True, False):
            total = pv_in[green] + grid_in[green]
            frac = np.divide(pv_in[green], total, out=np.zeros(len(total)), where=total > 0)
            sel = self.green_cell == green
            share[sel] = frac[(c.s * T + c.t)[sel]]
        pv_main = np.where(self.main_from_pv, main, np.floor(main * share).astype(np.int64))
        pv = pv_main + self.per_cell(flows, "cell_extra")
        return pv, main - pv_main

    def solve(self) -> tuple[int, dict[str, np.ndarray]]:
        status = self.smcf.solve()
        if status != self.smcf.OPTIMAL:
            raise SolveError(f"min-cost flow ended with status {status}")
        return self.smcf.optimal_cost(), {name: self.smcf.flows(arcs) for name, arcs in self.arcs.items()}
