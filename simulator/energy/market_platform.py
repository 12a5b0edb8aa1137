"""Modern Jazz: the P2P platform as built. Agents bid every slot, the market clears, devices follow.

- Homes and the office bid through the market's agents (``services.market.domain.agents.decide``: seed
  Table 1 by state of charge and profile; must-have energy at the participant's retail tariff; PV surplus
  storage cannot take at the buy-back price).
- Each plug-in hybrid is its own participant, on the site where it is plugged in (its home or the office).
  Once a day its charging is planned by the charging service's core (``services.charging.domain.planner``)
  over the next 48 hours: driver first (every departure has the next trip's charge plus a reserve), the
  greenest slots by default, V2G where it earns. A planned charge is bid at the tariff of the site where the
  car is (the grid is the alternative there); a planned discharge is offered at the car's Table-1 price.
- The market (``services.market.market_slot.clear_orders``, pay-as-clear, wheeling fee on tier B, the grid
  as residual seller at the home tariff and buyer at buy-back) clears each slot. What the clearing left
  uncovered is settled by each participant's supply contract: imports at its own tariff, exports at buy-back.
- Storage follows the contracts: a home's battery absorbs its balance PV - load + bought - sold; a car takes
  what it bought and gives what it sold.

The agents know the day's load and PV exactly (a perfect forecast; the same information as the central
optimiser's, so the comparison is about coordination, not forecasting).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import numpy as np

from services.charging.domain.fleet import (
    NO_SITE,
    Fleet,
    Mode,
    Preference,
    Prices,
    Stay,
    Vehicle,
    Weights,
)
from services.charging.domain.fleet import Site as ChargingSite
from services.charging.domain.planner import plan
from services.market.domain.agents import AgentInput, StorageState, decide, to_orders
from services.market.domain.day_plan import Forecast
from services.market.domain.price_memory import PriceMemory
from services.market.domain.profiles import BUILTIN_PROFILES
from services.market.market_slot import GRID_PARTICIPANT, clear_orders
from services.market.settings import MarketSettings
from shared.contracts.energy import EnergyOrderPlaced, TradeMatched
from simulator.energy.community import AWAY, SLOT_H, SLOTS_PER_DAY, TZ, CommunityDays
from simulator.energy.outcome import Account, Outcome

PLAN_SLOTS = 2 * SLOTS_PER_DAY
GATE_LEAD = timedelta(minutes=30)
_KWH = Decimal("0.001")
_MID_SOC_ASK_PCT = 60


def _d(x: float) -> Decimal:
    return Decimal(str(round(max(x, 0.0), 3))).quantize(_KWH)


@dataclass(frozen=True)
class ExpectedPrices:
    """What the car agents expect (yen/kWh); derived from the tariffs and the market's rules, not fitted.

    - ``grid``: a kWh from the market or the grid: the home tariff (the must-have bid's alternative).
    - ``pv[s]``: a kWh of site s's PV surplus: the tier A pay-as-clear price when PV offered at the buy-back
      price meets bids at the site's tariff, (buy-back + tariff) / 2.
    - ``v2g``: a discharged kWh from ``v2g_from_hour`` to midnight: the pay-as-clear price when the car's
      ask (Table 1 price first at 60 %) meets its home's bid at the home tariff; nothing at other hours.
    """

    grid: float
    pv: np.ndarray
    v2g_evening: float


def expected_prices(community: CommunityDays) -> ExpectedPrices:
    p = community.params
    ask = float(BUILTIN_PROFILES["price_first"].sell_price(_MID_SOC_ASK_PCT))
    return ExpectedPrices(p.home_retail, (p.buyback + community.tariffs()) / 2, (ask + p.home_retail) / 2)


def _forecast(c: CommunityDays, memory: PriceMemory, s: int, t: int, load: np.ndarray,
              pv: np.ndarray) -> Forecast:
    """Site s's next day from slot t: the market's book of each half-hour, its own load and PV (the month's,
    as a perfect forecast; past the month's end, the same slot a day earlier)."""
    site, p = c.sites[s], c.params
    ahead = [u if u < c.horizon else u - SLOTS_PER_DAY for u in range(t, t + SLOTS_PER_DAY)]
    prices = memory.forecast(site.id, site.id, [c.slot_time(u) for u in range(t, t + SLOTS_PER_DAY)],
                             Decimal(str(site.tariff)), Decimal(str(p.buyback)))
    return Forecast(prices, tuple(float(load[s, u] - pv[s, u]) for u in ahead))


def market_settings(community: CommunityDays) -> MarketSettings:
    p = community.params
    return MarketSettings(pricing=p.pricing, wheeling_fee=Decimal(str(p.wheeling_fee)),
                          grid_retail_price=Decimal(str(p.home_retail)), grid_buyback_price=Decimal(str(p.buyback)))


def plan_cars(community: CommunityDays, t0: int, soc_kwh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Planned charge and discharge (kWh, (cars, slots)) from slot ``t0`` over the next 48 h."""
    c, p = community, community.params
    H = min(PLAN_SLOTS, c.horizon - t0)
    homes = c.ev_homes()
    fleet_sites = [c.office, *homes]
    index = {s: k for k, s in enumerate(fleet_sites)}
    prices = expected_prices(c)
    load, pv = c.load()[:, t0:t0 + H], c.pv()[:, t0:t0 + H]
    sites = []
    for s in fleet_sites:
        chargers = p.office_chargers if s == c.office else 1
        surplus = np.round(np.clip(pv[s] - load[s], 0, None) * 1000).astype(np.int64)
        big = np.full(H, 10 ** 9, dtype=np.int64)
        sites.append(ChargingSite(c.sites[s].id, chargers, int(p.charger_kw * 1000), big, surplus, big))
    hour = (np.arange(t0, t0 + H) % SLOTS_PER_DAY) / 2
    sell = np.where(hour >= p.v2g_from_hour, prices.v2g_evening, 0.0)
    fleet_prices = Prices(np.full(H, round(prices.grid * 100), dtype=np.int64),
                          np.round(sell * 100).astype(np.int64),
                          np.tile(np.round(prices.pv[fleet_sites] * 100).astype(np.int64)[:, None], (1, H)))
    vehicles = []
    for v, car in enumerate(c.cars):
        stays = _stays(car.loc[t0:t0 + H], car.need_kwh[t0:t0 + H], car.drive_kwh[t0:t0 + H], index)
        vehicles.append(Vehicle(car.id, round(p.phev_battery_kwh * 1000), round(soc_kwh[v] * 1000),
                                int(p.phev_charge_kw * 1000), tuple(stays),
                                max_discharge_w=int(p.phev_discharge_kw * 1000) if p.v2g else 0, v2g=p.v2g,
                                mode=Mode.DEPARTURE, preference=Preference(p.ev_preference)))
    result = plan(Fleet(H, tuple(sites), tuple(vehicles), fleet_prices, Weights()))
    charge = np.zeros((len(c.cars), H))
    discharge = np.zeros((len(c.cars), H))
    np.add.at(charge, (result.cells.v, result.cells.t), result.charge_wh / 1000)
    np.add.at(discharge, (result.cells.v, result.cells.t), result.discharge_wh / 1000)
    return charge, discharge


def _stays(loc: np.ndarray, need: np.ndarray, drive: np.ndarray, index: dict[int, int]) -> list[Stay]:
    """Runs of one site in ``loc`` as planner stays: a departure needs ``need`` at its slot; the trip
    after it takes the energy of its away slots."""
    H = len(loc)
    stays = []
    t = 0
    while t < H:
        if loc[t] == AWAY:
            t += 1
            continue
        start, site = t, int(loc[t])
        while t < H and loc[t] == site:
            t += 1
        trip_end = t
        while trip_end < H and loc[trip_end] == AWAY:
            trip_end += 1
        trip = float(drive[t:trip_end].sum()) if t < H else 0.0
        need_wh = round(need[t] * 1000) if t < H else 0
        stays.append(Stay(index.get(site, NO_SITE), start, t, need_wh, round(trip * 1000)))
    return stays


def run_market(community: CommunityDays) -> Outcome:
    """The month, slot by slot, on the P2P platform."""
    c, p = community, community.params
    out = Outcome.empty("modern_jazz", c)
    settings = market_settings(c)
    load, pv = c.load(), c.pv()
    cap = np.array([s.battery_kwh for s in c.sites])
    power = np.array([s.battery_kw for s in c.sites]) * SLOT_H
    out.battery_soc[:, 0] = cap * p.battery_soc0_pct / 100
    out.car_soc[:, 0] = p.phev_battery_kwh * p.phev_soc0_pct / 100
    accounts = {s.id: Account() for s in c.sites}
    car_accounts = {car.id: Account() for car in c.cars}
    owner = {car.id: c.sites[car.home].id for car in c.cars}
    trades: list[TradeMatched] = []
    site_of = {s.id: k for k, s in enumerate(c.sites)}
    planned = np.zeros((len(c.cars), 0))
    memory = PriceMemory(TZ, p.wheeling_fee)  # the book of each half-hour, for a site whose profile plans
    planned_out = planned
    for t in range(c.horizon):
        if t % SLOTS_PER_DAY == 0:
            planned, planned_out = plan_cars(c, t, out.car_soc[:, t])
        k = t % SLOTS_PER_DAY
        slot = c.slot_time(t)
        placed = slot - GATE_LEAD
        orders: list[EnergyOrderPlaced] = []
        for s, site in enumerate(c.sites):
            battery = None
            if site.battery_kwh > 0:
                battery = StorageState(Decimal(str(site.battery_kwh)), Decimal(str(site.battery_kw)),
                                       Decimal(str(round(out.battery_soc[s, t] / site.battery_kwh * 100, 2))))
            profile = BUILTIN_PROFILES[site.profile]
            forecast = _forecast(c, memory, s, t, load, pv) if profile.plans and battery is not None else None
            agent = AgentInput(site.id, profile, Decimal(str(site.tariff)),
                               Decimal(str(p.buyback)), load_kwh=_d(load[s, t]), pv_kwh=_d(pv[s, t]),
                               battery=battery, site=site.id, forecast=forecast)
            orders += to_orders(agent, slot, decide(agent), placed)
        car_buy = np.zeros(len(c.cars))
        car_sell = np.zeros(len(c.cars))
        for v, car in enumerate(c.cars):
            s = int(car.loc[t])
            if s == AWAY:
                continue
            soc = out.car_soc[v, t]
            next_need = _next_need(car.need_kwh, t)
            car_buy[v] = min(planned[v, k], p.phev_charge_kw * SLOT_H, p.phev_battery_kwh - soc)
            car_sell[v] = min(planned_out[v, k], p.phev_discharge_kw * SLOT_H, max(0.0, soc - next_need))
            stamp = slot.strftime("%Y%m%dT%H%M")
            if _d(car_buy[v]) > 0:
                orders.append(EnergyOrderPlaced(
                    order_id=f"{car.id}-{stamp}-0", participant=car.id, side="buy", slot=slot, kwh=_d(car_buy[v]),
                    limit_price=Decimal(str(c.sites[s].tariff)), site=c.sites[s].id, placed_at=placed))
            elif _d(car_sell[v]) > 0:
                pct = Decimal(str(round(soc / p.phev_battery_kwh * 100, 2)))
                ask = max(BUILTIN_PROFILES["price_first"].sell_price(pct), Decimal(str(p.buyback)))
                orders.append(EnergyOrderPlaced(
                    order_id=f"{car.id}-{stamp}-0", participant=car.id, side="sell", slot=slot,
                    kwh=_d(car_sell[v]), limit_price=ask, site=c.sites[s].id, placed_at=placed))
        cleared = clear_orders(slot, orders, settings)[0] if orders else []
        memory.record(slot, orders, cleared)
        trades += cleared
        bought: dict[str, float] = {}
        sold: dict[str, float] = {}
        for tr in cleared:
            kwh = float(tr.kwh)
            if tr.buyer != GRID_PARTICIPANT:
                bought[tr.buyer] = bought.get(tr.buyer, 0.0) + kwh
            if tr.seller != GRID_PARTICIPANT:
                sold[tr.seller] = sold.get(tr.seller, 0.0) + kwh
            _book(tr, kwh, accounts, car_accounts, owner)
            buyer_site = site_of.get(tr.buyer_site or "", -1)
            seller_site = site_of.get(tr.seller_site or "", -1)
            if tr.seller == GRID_PARTICIPANT:
                out.import_kwh[buyer_site, t] += kwh
            elif tr.buyer == GRID_PARTICIPANT:
                out.export_kwh[seller_site, t] += kwh
            elif tr.tier == "B":
                out.sent_kwh[seller_site, t] += kwh
                out.received_kwh[buyer_site, t] += kwh
        _follow(c, out, t, load, pv, cap, power, bought, sold, accounts)
        for v, car in enumerate(c.cars):
            s = int(car.loc[t])
            soc = out.car_soc[v, t]
            if s != AWAY:
                got = bought.get(car.id, 0.0)
                gave = sold.get(car.id, 0.0)
                short = max(0.0, car_buy[v] - got)     # the supply contract of the site covers the rest
                if short > 0:
                    out.import_kwh[s, t] += short
                    price = c.sites[s].tariff
                    car_accounts[car.id].buy(short, price)
                    accounts[owner[car.id]].buy(short, price)
                out.car_in[v, t] = got + short
                out.car_out[v, t] = gave
                soc += got + short - gave
            if car.drive_kwh[t] > soc + 1e-9:
                out.petrol_kwh[v] += car.drive_kwh[t] - soc
            out.car_soc[v, t + 1] = max(0.0, soc - car.drive_kwh[t])
    out.accounts, out.car_accounts = accounts, car_accounts
    out.detail["trades"] = trades
    return out


def _next_need(need: np.ndarray, t: int) -> float:
    later = np.nonzero(need[t:])[0]
    return float(need[t + later[0]]) if len(later) else 0.0


def _book(tr: TradeMatched, kwh: float, accounts: dict[str, Account], car_accounts: dict[str, Account],
          owner: dict[str, str]) -> None:
    """Money of one trade on the accounts; a trade between a household and its own car is internal."""
    buyer_acct = owner.get(tr.buyer, tr.buyer)
    seller_acct = owner.get(tr.seller, tr.seller)
    price, fee = float(tr.price), float(tr.wheeling_fee)
    if tr.buyer in car_accounts:
        car_accounts[tr.buyer].buy(kwh, price + fee)
    if tr.seller in car_accounts:
        car_accounts[tr.seller].sell(kwh, price)
    if buyer_acct == seller_acct:
        if buyer_acct in accounts:
            accounts[buyer_acct].fees_yen += kwh * fee
        return
    if buyer_acct in accounts:
        accounts[buyer_acct].buy(kwh, price + fee)
    if seller_acct in accounts:
        accounts[seller_acct].sell(kwh, price)


def _follow(c: CommunityDays, out: Outcome, t: int, load: np.ndarray, pv: np.ndarray, cap: np.ndarray,
            power: np.ndarray, bought: dict[str, float], sold: dict[str, float], accounts: dict[str, Account]
            ) -> None:
    """Each home's battery absorbs its balance PV - load + bought - sold; the supply contract the rest."""
    p = c.params
    for s, site in enumerate(c.sites):
        balance = pv[s, t] - load[s, t] + bought.get(site.id, 0.0) - sold.get(site.id, 0.0)
        soc = out.battery_soc[s, t]
        if cap[s] > 0:
            step = max(-power[s], min(power[s], balance))
            new = max(0.0, min(cap[s], soc + step))
            out.battery_in[s, t] = max(0.0, new - soc)
            out.battery_out[s, t] = max(0.0, soc - new)
            balance -= new - soc
            soc = new
        out.battery_soc[s, t + 1] = soc
        if balance < 0:
            out.import_kwh[s, t] += -balance
            accounts[site.id].buy(-balance, site.tariff)
        elif balance > 0:
            out.export_kwh[s, t] += balance
            accounts[site.id].sell(balance, p.buyback)
