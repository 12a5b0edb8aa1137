"""Charging contracts: owners' plans in; bookings, metered sessions and charger availability out.

``ev.plans`` (key vehicle): an owner's plan for the car, or a change of it (a new plan replaces the old one
whole: trip changes and mode overrides are new plans). ``ev.bookings`` (key vehicle): the car's bookings per
charger and slot, or the answer that its departure cannot be covered (shortfall and when it could leave).
``ev.sessions`` (key vehicle): what a charger metered (the charger gateway's word; what is billed).
``ev.chargers`` (key charger): a charger that went away, refused a profile or came back. The PV forecast a
plan reads, the orders a plan places and the set-points it sends are the energy domain's
(``energy.forecasts``, ``energy.orders``, ``energy.dispatch``, ``energy.dispatch.acks``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.contracts.base import AnyTopic, Payload, Topic

Kwh0 = Field(ge=0, max_digits=9, decimal_places=3)


class PlannedStay(BaseModel):
    """One stop of the day: at ``site`` (a charger site id, or none) from ``arrive`` to ``depart``, leaving
    with ``need_kwh`` in the battery; the trip after it uses ``trip_kwh``."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    site: str | None = Field(default=None, max_length=64)
    arrive: datetime
    depart: datetime
    need_kwh: Decimal = Kwh0
    trip_kwh: Decimal = Kwh0

    @model_validator(mode="after")
    def _order(self) -> PlannedStay:
        if self.arrive.tzinfo is None or self.depart.tzinfo is None:
            raise ValueError("arrive and depart must carry a time zone")
        if self.depart <= self.arrive:
            raise ValueError("depart must be after arrive")
        return self


class EvPlanSubmitted(Payload):
    """An owner's plan for one car: battery, charge now, limits, mode and the day's stays."""

    event_type: ClassVar[str] = "ev.plan.submitted"
    vehicle: str = Field(min_length=1, max_length=20)
    participant: str = Field(min_length=1, max_length=64)
    battery_kwh: Decimal = Field(gt=0, le=300, decimal_places=3)
    soc_kwh: Decimal = Field(ge=0, le=300, decimal_places=3)
    max_charge_kw: Decimal = Field(gt=0, le=350, decimal_places=3)
    max_discharge_kw: Decimal = Field(default=Decimal("0"), ge=0, le=350, decimal_places=3)
    v2g: bool = False
    reserve_kwh: Decimal = Field(default=Decimal("0"), ge=0, le=300, decimal_places=3)
    mode: Literal["off", "pv", "minpv", "now", "departure"] = "departure"
    preference: Literal["green", "cheap"] = "green"
    stays: tuple[PlannedStay, ...] = Field(min_length=1, max_length=48)

    @model_validator(mode="after")
    def _fits(self) -> EvPlanSubmitted:
        if self.soc_kwh > self.battery_kwh:
            raise ValueError("soc_kwh must not exceed battery_kwh")
        for k, stay in enumerate(self.stays):
            if stay.need_kwh > self.battery_kwh:
                raise ValueError(f"stays[{k}].need_kwh must not exceed battery_kwh")
            if k and stay.arrive < self.stays[k - 1].depart:
                raise ValueError(f"stays[{k}].arrive is before the previous stay's depart")
        return self

    def key(self) -> str:
        return self.vehicle


class Booking(BaseModel):
    """Energy booked for a car on one charger in one slot, and how much of it is on-site PV."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    charger: str
    slot: datetime
    kwh: Decimal
    renewable_kwh: Decimal


class DepartureShortfall(BaseModel):
    """A departure no charging can cover: how much is missing and when the car could leave with its need."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    depart: datetime
    need_kwh: Decimal
    missing_kwh: Decimal
    feasible_depart: datetime | None


class EvBooked(Payload):
    """The car's plan: bookings per charger and slot; ``status`` infeasible when a departure lacks charge."""

    event_type: ClassVar[str] = "ev.booked"
    vehicle: str
    participant: str
    status: Literal["planned", "infeasible"]
    bookings: tuple[Booking, ...] = ()
    shortfalls: tuple[DepartureShortfall, ...] = ()
    cost_yen: Decimal
    override_cost_yen: Decimal | None = None
    planned_at: datetime

    def key(self) -> str:
        return self.vehicle


class ChargingSessionMetered(Payload):
    """What a charger's meter says of one transaction; ``final`` once it stopped."""

    event_type: ClassVar[str] = "ev.session.metered"
    charger: str
    vehicle: str
    transaction_id: int
    kwh: Decimal = Kwh0
    started_at: datetime
    read_at: datetime
    final: bool = False

    def key(self) -> str:
        return self.vehicle


class ChargingBilled(Payload):
    """A finished charging transaction billed on what the meter delivered, at the site's charging fee.

    The energy itself is bought on the market by the car's own orders; this is the site's fee for the
    charger's service, owed by the car's owner (``participant``) to the site. ``renewable_kwh`` is the part of
    the metered energy that was on-site PV: the PV share of what the plan booked for the car on that charger
    in the slots the transaction ran (0 where nothing was booked)."""

    event_type: ClassVar[str] = "ev.session.billed"
    charger: str
    transaction_id: int
    vehicle: str
    participant: str
    site: str
    kwh: Decimal = Kwh0
    renewable_kwh: Decimal = Field(default=Decimal("0"), ge=0, max_digits=9, decimal_places=3)
    fee_yen_per_kwh: Decimal = Field(ge=0, le=1000, decimal_places=2)
    stopped_at: datetime

    @model_validator(mode="after")
    def _renewable_within_metered(self) -> ChargingBilled:
        if self.renewable_kwh > self.kwh:
            raise ValueError(f"renewable_kwh ({self.renewable_kwh}) must not exceed kwh ({self.kwh})")
        return self

    def key(self) -> str:
        return self.participant


class ChargerAvailability(Payload):
    """A charger went away, refused a profile, or is back."""

    event_type: ClassVar[str] = "ev.charger.availability"
    charger: str
    available: bool
    reason: str = ""

    def key(self) -> str:
        return self.charger


PLANS: Topic[EvPlanSubmitted] = Topic("ev.plans", key="vehicle", payloads=(EvPlanSubmitted,))
BOOKINGS: Topic[EvBooked] = Topic("ev.bookings", key="vehicle", payloads=(EvBooked,))
SESSIONS: Topic[ChargingSessionMetered] = Topic("ev.sessions", key="vehicle", payloads=(ChargingSessionMetered,),
                                                retention_ms=None)
CHARGERS: Topic[ChargerAvailability] = Topic("ev.chargers", key="charger", payloads=(ChargerAvailability,))
BILLS: Topic[ChargingBilled] = Topic("ev.bills", key="participant", payloads=(ChargingBilled,), retention_ms=None)

TOPICS: tuple[AnyTopic, ...] = (PLANS, BOOKINGS, SESSIONS, CHARGERS, BILLS)
