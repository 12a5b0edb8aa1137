"""A community: its sites, participants, devices, profiles and tariffs (what a community YAML describes).

Pure data plus the two things the market needs from it: the market settings (registry, line limits,
tariffs) and the agents' inputs for a slot. Reading and validating the YAML file is the adapter's job
(``services.market.adapters.community_yaml``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from services.market.domain.agents import AgentInput, EvState, StorageState, decide, to_orders
from services.market.domain.day_plan import Forecast
from services.market.domain.load import load_kwh
from services.market.domain.price_memory import PriceMemory
from services.market.domain.profiles import Profile
from services.market.domain.registry import Device, Participant
from services.market.domain.solar import SiteLocation, pv_kwh
from shared.contracts.energy import EnergyOrderPlaced
from shared.units import SLOT

PLAN_SLOTS = 48  # a planning member looks one day ahead from every slot (no cliff at midnight)

if TYPE_CHECKING:
    from services.market.settings import MarketSettings


@dataclass(frozen=True)
class Battery:
    capacity_kwh: Decimal
    power_kw: Decimal
    soc_pct: Decimal = Decimal("50")


@dataclass(frozen=True)
class Ev:
    capacity_kwh: Decimal
    power_kw: Decimal
    soc_pct: Decimal = Decimal("50")
    plugged_from: int = 18       # local hour the car is plugged in
    plugged_until: int = 7       # local hour it leaves
    needed_soc_pct: Decimal = Decimal("80")
    v2g: bool = False

    def plugged_at(self, hour: int) -> bool:
        if self.plugged_from <= self.plugged_until:
            return self.plugged_from <= hour < self.plugged_until
        return hour >= self.plugged_from or hour < self.plugged_until

    def slots_to_departure(self, local: datetime) -> int:
        hours = (self.plugged_until - local.hour) % 24
        return max(1, hours * 2 - local.minute // 30)


@dataclass(frozen=True)
class Member:
    """One participant as the community file describes it."""

    participant_id: str
    kind: str
    profile: str
    site: str | None = None
    daily_load_kwh: Decimal = Decimal("0")
    load_shape: str = "household"
    pv_kwp: Decimal = Decimal("0")
    battery: Battery | None = None
    ev: Ev | None = None
    retail_price: Decimal | None = None
    preferred_partners: tuple[str, ...] = ()
    max_order_kwh: Decimal | None = None

    def devices(self) -> tuple[Device, ...]:
        out = []
        if self.pv_kwp > 0:
            out.append(Device(f"{self.participant_id}/pv", "pv", Decimal(0), self.pv_kwp))
        if self.battery:
            out.append(Device(f"{self.participant_id}/battery", "battery", self.battery.capacity_kwh,
                              self.battery.power_kw))
        if self.ev:
            out.append(Device(f"{self.participant_id}/ev", "ev", self.ev.capacity_kwh, self.ev.power_kw))
        return tuple(out)

    def slot_limit_kwh(self) -> Decimal:
        """Most this member can trade in one slot: peak load, PV and storage power, with headroom."""
        if self.max_order_kwh is not None:
            return self.max_order_kwh
        storage = sum((d.power_kw for d in self.devices() if d.is_storage), Decimal(0))
        bound = self.daily_load_kwh * Decimal("0.15") + (self.pv_kwp + storage) * Decimal("0.5") + 1
        return bound.to_integral_value(rounding=ROUND_CEILING)


@dataclass(frozen=True)
class Community:
    name: str
    location: SiteLocation
    retail_price: Decimal
    buyback_price: Decimal
    wheeling_fee: Decimal
    gate_closure: timedelta
    pricing: str
    profiles: Mapping[str, Profile]
    line_capacity_kwh: Mapping[str, Decimal]
    members: tuple[Member, ...]
    sites: tuple[str, ...] = field(default=())

    def member(self, participant_id: str) -> Member:
        for m in self.members:
            if m.participant_id == participant_id:
                return m
        raise KeyError(f"no participant {participant_id!r} in community {self.name!r}")

    def registry(self) -> dict[str, Participant]:
        return {m.participant_id: Participant(m.participant_id, m.kind, m.site, m.slot_limit_kwh(), m.devices())
                for m in self.members}

    def market_settings(self, **overrides: Any) -> MarketSettings:
        """MarketSettings for this community (imported here to keep the domain free of the service layer)."""
        from services.market.settings import MarketSettings

        values: dict[str, Any] = dict(
            gate_closure=self.gate_closure, pricing=self.pricing, wheeling_fee=self.wheeling_fee,
            grid_retail_price=self.retail_price, grid_buyback_price=self.buyback_price,
            line_capacity_kwh=dict(self.line_capacity_kwh), participants=self.registry())
        values.update(overrides)
        return MarketSettings(**values)

    def agent_inputs(self, slot: datetime, weather_factor: float = 1.0,
                     soc: Mapping[str, Decimal] | None = None, memory: PriceMemory | None = None) -> list[AgentInput]:
        """What each member's agent knows about ``slot``: forecast load and PV, storage states; a planning
        member with storage also gets the coming day's forecast when ``memory`` of the market is given."""
        soc = soc or {}
        local = slot.astimezone(ZoneInfo(self.location.tz))
        out = []
        for m in self.members:
            battery = ev = None
            if m.battery:
                battery = StorageState(m.battery.capacity_kwh, m.battery.power_kw,
                                       soc.get(f"{m.participant_id}/battery", m.battery.soc_pct))
            if m.ev:
                ev = EvState(m.ev.capacity_kwh, m.ev.power_kw, soc.get(f"{m.participant_id}/ev", m.ev.soc_pct),
                             plugged=m.ev.plugged_at(local.hour), needed_soc_pct=m.ev.needed_soc_pct,
                             slots_to_departure=m.ev.slots_to_departure(local), v2g=m.ev.v2g)
            out.append(AgentInput(
                participant=m.participant_id, profile=self.profiles[m.profile],
                retail_price=m.retail_price or self.retail_price, buyback_price=self.buyback_price,
                load_kwh=load_kwh(slot, m.daily_load_kwh, m.load_shape, self.location.tz) if m.daily_load_kwh else
                Decimal(0),
                pv_kwh=pv_kwh(slot, m.pv_kwp, weather_factor, location=self.location) if m.pv_kwp else Decimal(0),
                battery=battery, ev=ev, site=m.site, preferred_partners=m.preferred_partners,
                forecast=self._forecast(m, slot, weather_factor, memory) if battery or ev else None))
        return out

    def _forecast(self, m: Member, slot: datetime, weather_factor: float,
                  memory: PriceMemory | None) -> Forecast | None:
        """The next day (PLAN_SLOTS from ``slot``) as a planning member sees it: prices from the market's
        memory, its own load and PV from the same models as its present slot."""
        if memory is None or not self.profiles[m.profile].plans:
            return None
        slots = [slot + k * SLOT for k in range(PLAN_SLOTS)]
        net = tuple(
            float((load_kwh(s, m.daily_load_kwh, m.load_shape, self.location.tz) if m.daily_load_kwh else 0)
                  - (pv_kwh(s, m.pv_kwp, weather_factor, location=self.location) if m.pv_kwp else 0))
            for s in slots)
        prices = memory.forecast(m.participant_id, m.site, slots, m.retail_price or self.retail_price,
                                 self.buyback_price)
        return Forecast(prices, net)

    def orders(self, slots: list[datetime], placed_at: datetime, weather_factor: float = 1.0,
               soc: Mapping[str, Decimal] | None = None, memory: PriceMemory | None = None) -> list[EnergyOrderPlaced]:
        """Every member's orders for the coming ``slots`` (its agent run once per slot)."""
        return [order for slot in slots for a in self.agent_inputs(slot, weather_factor, soc, memory)
                for order in to_orders(a, slot, decide(a), placed_at)]
