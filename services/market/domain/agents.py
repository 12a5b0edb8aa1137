"""Bidding agents: from a forecast, a battery's state and its owner's profile to orders for one slot.

Pure functions. Every kind of participant (household with optional PV, battery and EV; office; shopping
centre; stand-alone battery; EV) is described by the same :class:`AgentInput`; what differs is which
parts are present. The reasoning per slot, with net = load - PV:

- Energy the participant must have (deficit its storage cannot cover, an EV's charge still needed
  before departure) is bid at the retail tariff: the grid is the alternative.
- Energy storage could cover or absorb is priced by the profile at the current state of charge
  (seed Table 1): buy below it, otherwise discharge; sell above it, otherwise store.
- PV surplus that storage cannot take is offered at the grid's buy-back price, the alternative.
- Spare storage is traded by the profile's mood: below 60 % state of charge it bids to charge, above it
  offers to discharge. Green owners add their premium, which applies to renewable kWh only.
- A planning profile given a forecast follows its plan of the day instead (:mod:`.planned`).

A participant nets its position into one side per slot (the book's rule), so orders are all buys or
all sells; several orders on the same side carry different prices.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Literal

from services.market.domain.day_plan import Forecast
from services.market.domain.profiles import Profile
from shared.contracts.energy import EnergyOrderPlaced
from shared.units import KWH_Q

SLOT_H = Decimal("0.5")
MID_SOC = Decimal("60")


@dataclass(frozen=True)
class StorageState:
    """A battery or EV battery: size, power and state of charge (percent)."""

    capacity_kwh: Decimal
    power_kw: Decimal
    soc_pct: Decimal
    min_soc_pct: Decimal = Decimal("10")
    max_soc_pct: Decimal = Decimal("100")

    def charge_room(self) -> Decimal:
        return max(Decimal(0), min(self.power_kw * SLOT_H, (self.max_soc_pct - self.soc_pct) * self.capacity_kwh / 100))

    def discharge_room(self) -> Decimal:
        return max(Decimal(0), min(self.power_kw * SLOT_H, (self.soc_pct - self.min_soc_pct) * self.capacity_kwh / 100))


@dataclass(frozen=True)
class EvState(StorageState):
    """An EV: plugged in or not, the state of charge its owner needs at departure, and whether it may
    discharge to the market (vehicle-to-grid)."""

    plugged: bool = True
    needed_soc_pct: Decimal = Decimal("0")
    slots_to_departure: int = 0
    v2g: bool = False

    def must_charge(self) -> Decimal:
        """kWh this slot must bring so the car reaches its needed charge (spread over remaining slots)."""
        if not self.plugged or self.needed_soc_pct <= self.soc_pct:
            return Decimal(0)
        needed = (self.needed_soc_pct - self.soc_pct) * self.capacity_kwh / 100
        per_slot = needed / max(1, self.slots_to_departure)
        return min(per_slot, self.power_kw * SLOT_H)


@dataclass(frozen=True)
class AgentInput:
    participant: str
    profile: Profile
    retail_price: Decimal
    buyback_price: Decimal
    load_kwh: Decimal = Decimal(0)
    pv_kwh: Decimal = Decimal(0)
    battery: StorageState | None = None
    ev: EvState | None = None
    site: str | None = None
    preferred_partners: tuple[str, ...] = ()
    forecast: Forecast | None = None  # only a planning profile's agent is given one


@dataclass(frozen=True)
class Intent:
    side: Literal["buy", "sell"]
    kwh: Decimal
    limit_price: Decimal
    renewable: bool = False
    green_premium: Decimal = Decimal(0)


def _q(kwh: Decimal) -> Decimal:
    return kwh.quantize(KWH_Q, rounding=ROUND_DOWN)


def decide(a: AgentInput) -> list[Intent]:
    """The orders (as intents) of one participant for one slot; empty when it has nothing to trade."""
    if a.profile.plans and a.forecast is not None:
        from services.market.domain.planned import decide_planned  # it builds on this module's types

        planned = decide_planned(a)
        if planned is not None:
            return planned
    storage = [s for s in (a.battery, a.ev) if s is not None and (not isinstance(s, EvState) or s.plugged)]
    soc = _mean_soc(storage)
    value = a.profile.buy_price(soc) if storage else None
    premium = a.profile.green_premium
    net = a.load_kwh - a.pv_kwh
    ev_need = a.ev.must_charge() if a.ev is not None else Decimal(0)
    room_in = sum((s.charge_room() for s in storage), Decimal(0)) - ev_need
    room_out = sum((s.discharge_room() for s in storage
                    if not isinstance(s, EvState) or (s.v2g and s.must_charge() == 0)), Decimal(0))
    buys: list[Intent] = []
    sells: list[Intent] = []
    must_buy = max(Decimal(0), net) + ev_need
    if must_buy > 0:
        covered = min(max(Decimal(0), net), room_out) if value is not None else Decimal(0)
        if covered > 0 and value is not None:  # covered is 0 without a storage value
            buys.append(Intent("buy", covered, value, green_premium=premium))
        if must_buy - covered > 0:
            buys.append(Intent("buy", must_buy - covered, a.retail_price, green_premium=premium))
        if value is not None and soc < MID_SOC and room_in > 0:
            buys.append(Intent("buy", room_in, value, green_premium=premium))
    else:
        surplus = -net
        stored = min(surplus, max(Decimal(0), room_in)) if value is not None else Decimal(0)
        if stored > 0 and value is not None:  # stored is 0 without a storage value
            sells.append(Intent("sell", stored, max(value, a.buyback_price), renewable=True))
        if surplus - stored > 0:
            sells.append(Intent("sell", surplus - stored, a.buyback_price, renewable=True))
        if value is not None and surplus == 0:
            if soc > MID_SOC and room_out > 0:
                sells.append(Intent("sell", room_out, max(value, a.buyback_price)))
            elif soc < MID_SOC and room_in > 0:
                buys.append(Intent("buy", room_in, value, green_premium=premium))
    out = [i for i in (buys or sells) if _q(i.kwh) > 0]
    return [Intent(i.side, _q(i.kwh), i.limit_price, i.renewable, i.green_premium if i.side == "buy" else Decimal(0))
            for i in out]


def _mean_soc(storage: list[StorageState]) -> Decimal:
    cap = sum((s.capacity_kwh for s in storage), Decimal(0))
    if cap <= 0:
        return Decimal(50)
    return sum((s.soc_pct * s.capacity_kwh for s in storage), Decimal(0)) / cap


def to_orders(a: AgentInput, slot: datetime, intents: list[Intent], placed_at: datetime) -> list[EnergyOrderPlaced]:
    """Order events with deterministic ids (participant, slot, position)."""
    stamp = slot.strftime("%Y%m%dT%H%M")
    return [EnergyOrderPlaced(
        order_id=f"{a.participant}-{stamp}-{k}", participant=a.participant, side=i.side, slot=slot, kwh=i.kwh,
        limit_price=i.limit_price, site=a.site, renewable=i.renewable or i.green_premium > 0,
        green_premium=i.green_premium, preferred_partners=a.preferred_partners, placed_at=placed_at)
        for k, i in enumerate(intents)]
