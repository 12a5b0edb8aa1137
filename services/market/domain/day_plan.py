"""A storage owner's plan for the next day: when to charge and discharge, given a forecast of prices.

Why: the state-of-charge tables (:mod:`services.market.domain.profiles`) decide one slot at a time, so a
battery that is more than 60 % charged at midnight sells at whatever the night pays and has nothing left
for the evening peak. Planning the coming slots at once puts each kWh where the forecast pays most.

The plan is an exact linear programme (GLOP), deterministic for the same inputs. Per slot t, in kWh:
``charge_t`` and ``discharge_t`` (each at most power x half an hour), ``buy_t`` and ``sell_t`` traded at
the forecast prices (first the book others are expected to hold, then the grid's tariff), and the stored
energy ``e_t`` within the minimum and maximum state of charge:

    buy_t - sell_t = net_load_t + charge_t - discharge_t
    e_{t+1} = e_t + charge_t * sqrt(eff) - discharge_t / sqrt(eff)

maximising the money of the trades, less a small wear cost per kWh moved (so a flat forecast leaves the
battery idle rather than at an arbitrary vertex), plus what the energy left at the end is worth (by
default the mean buy-back price: what it surely fetches; a book's bids are a forecast, not a promise). A car
that must leave with a given charge gets a floor on its stored energy at the end of the horizon.

The dual of the first slot's energy balance is what one more stored kWh is worth to the rest of the
plan: the agent bids up to it to charge and asks at least it to discharge, so the market still clears
the plan's first slot like any order and a missed trade is simply re-planned next slot.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ortools.linear_solver.python import model_builder as mb

SLOT_H = 0.5
WEAR_YEN_PER_KWH = 0.01  # tie-break only: well under a sen per kWh moved
# Ties between slots of equal price, far below a sen. A deeper book is likelier to take the kWh (so among
# equal bids a sale goes to the load's peak, not to midnight); and sooner is surer, so a rolling re-plan does
# not put off to the next day forever a sale it could make today at the same price.
DEPTH_YEN_PER_KWH = 1e-3  # times the level's share of the horizon's deepest level
SOONER_YEN_PER_KWH_SLOT = 1e-6


class PlanError(ValueError):
    """The inputs do not describe a plan (lengths differ, limits inverted) or the solver found none."""


@dataclass(frozen=True)
class SlotPrice:
    """Expected prices of one slot (yen/kWh): what buying a kWh costs and what selling one fetches, as much
    as one likes (the grid's tariffs), and the book others are expected to hold beyond that: ``bids``
    (kWh, yen) a sale may fetch up to that many kWh, ``asks`` (kWh, yen) a purchase may get."""

    buy: float
    sell: float
    bids: tuple[tuple[float, float], ...] = ()
    asks: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class Storage:
    """A battery as the plan sees it: energies in kWh, the round trip's efficiency (1 = lossless)."""

    capacity_kwh: float
    power_kw: float
    soc_pct: float
    min_soc_pct: float = 10.0
    max_soc_pct: float = 100.0
    efficiency: float = 1.0
    end_floor_kwh: float = 0.0  # stored energy the horizon must end with (a car's need at departure)

    def __post_init__(self) -> None:
        if self.capacity_kwh <= 0 or self.power_kw < 0:
            raise PlanError("a battery needs a positive capacity and a non-negative power")
        if not 0 <= self.min_soc_pct <= self.max_soc_pct <= 100:
            raise PlanError(f"state of charge limits {self.min_soc_pct}..{self.max_soc_pct} % are not in order")
        if not 0 < self.efficiency <= 1:
            raise PlanError(f"efficiency {self.efficiency} is outside (0, 1]")


@dataclass(frozen=True)
class DayPlan:
    """kWh per slot (positive), the stored energy after each slot and the value of stored energy."""

    charge: tuple[float, ...]
    discharge: tuple[float, ...]
    buy: tuple[float, ...]
    sell: tuple[float, ...]
    stored_kwh: tuple[float, ...]
    value_after_first: float  # yen per kWh stored at the end of the first slot
    objective_yen: float


def plan_day(storage: Storage, prices: Sequence[SlotPrice], net_load: Sequence[float] | None = None,
             end_value: float | None = None) -> DayPlan:
    """The plan over ``len(prices)`` slots from ``storage``'s present charge.

    ``net_load`` is the owner's forecast load minus PV per slot (kWh, 0 for a stand-alone battery);
    ``end_value`` is what a kWh still stored after the last slot is worth (yen)."""
    n = len(prices)
    if n == 0:
        raise PlanError("a plan needs at least one slot")
    load = [0.0] * n if net_load is None else [float(x) for x in net_load]
    if len(load) != n:
        raise PlanError(f"{len(load)} net loads for {n} slots")
    for p in prices:
        if max([p.sell, *(y for _, y in p.bids)]) > min([p.buy, *(y for _, y in p.asks)]) + 1e-9:
            raise PlanError(f"a slot sells above what it buys at ({p}): the plan would trade with itself")
    s = storage
    e_min, e_max = s.capacity_kwh * s.min_soc_pct / 100, s.capacity_kwh * s.max_soc_pct / 100
    e0 = min(max(s.capacity_kwh * s.soc_pct / 100, 0.0), s.capacity_kwh)
    step = s.power_kw * SLOT_H
    root = math.sqrt(s.efficiency)
    tail = end_value if end_value is not None else sum(p.sell for p in prices) / n

    model = mb.Model()
    charge = [model.new_num_var(0.0, step, f"c{t}") for t in range(n)]
    discharge = [model.new_num_var(0.0, step, f"d{t}") for t in range(n)]
    buy = [model.new_num_var(0.0, math.inf, f"b{t}") for t in range(n)]
    sell = [model.new_num_var(0.0, math.inf, f"s{t}") for t in range(n)]
    money: list[mb.LinearExpr] = []
    deepest = max([q for p in prices for q, _ in (*p.bids, *p.asks)], default=1.0) or 1.0
    for t, p in enumerate(prices):
        to_bids = [model.new_num_var(0.0, max(0.0, q), f"sb{t}_{j}") for j, (q, _) in enumerate(p.bids)]
        from_asks = [model.new_num_var(0.0, max(0.0, q), f"ba{t}_{j}") for j, (q, _) in enumerate(p.asks)]
        to_grid, from_grid = model.new_num_var(0.0, math.inf, f"sg{t}"), model.new_num_var(0.0, math.inf, f"bg{t}")
        model.add(sell[t] - to_grid - sum(to_bids) == 0)
        model.add(buy[t] - from_grid - sum(from_asks) == 0)
        bonus = [DEPTH_YEN_PER_KWH * q / deepest for q, _ in (*p.bids, *p.asks)]
        money.append(p.sell * to_grid - p.buy * from_grid
                     + sum((y + b) * x for (_, y), b, x in zip(p.bids, bonus, to_bids, strict=False))
                     - sum((y - b) * x for (_, y), b, x in zip(p.asks, bonus[len(p.bids):], from_asks, strict=True))
                     - SOONER_YEN_PER_KWH_SLOT * t * (sell[t] + buy[t]))
    # Stored energy after each slot; a start outside the limits may only move towards them.
    stored = [model.new_num_var(min(e_min, e0), max(e_max, e0), f"e{t}") for t in range(n)]
    balances = []
    for t in range(n):
        model.add(buy[t] - sell[t] - charge[t] + discharge[t] == load[t])
        moved = stored[t] - root * charge[t] + discharge[t] * (1 / root)
        balances.append(model.add(moved == e0) if t == 0 else model.add(moved - stored[t - 1] == 0))
    if s.end_floor_kwh > 0:  # as much of the floor as the power can still reach
        model.add(stored[-1] >= min(s.end_floor_kwh, max(e_max, e0), e0 + n * step * root))
    model.maximize(sum(money[t] - WEAR_YEN_PER_KWH * (charge[t] + discharge[t]) for t in range(n))
                   + tail * stored[-1])
    engine = mb.Solver("GLOP")
    status = engine.solve(model)
    if status != mb.SolveStatus.OPTIMAL:
        raise PlanError(f"the plan's LP ended with status {status}")

    def values(xs: list[mb.Variable]) -> tuple[float, ...]:
        return tuple(max(0.0, float(engine.value(x))) for x in xs)

    # The second slot's balance row reads stored_1 - stored_0 - ... == 0: its dual is the objective's gain per
    # kWh more on its right-hand side, i.e. per kWh found in store after the first slot.
    later = float(engine.dual_value(balances[1])) if n > 1 else tail
    return DayPlan(values(charge), values(discharge), values(buy), values(sell), values(stored),
                   value_after_first=later, objective_yen=float(engine.objective_value))


@dataclass(frozen=True)
class Forecast:
    """What a planning agent knows of the coming slots, this one first: expected prices and its own net load
    (load - PV, kWh; empty for none)."""

    prices: tuple[SlotPrice, ...]
    net_load: tuple[float, ...] = ()
