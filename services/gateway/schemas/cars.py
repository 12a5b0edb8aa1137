"""What "My car" answers and takes: the caller's cars, their latest plan and the charging service's answer."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Mode = Literal["off", "pv", "minpv", "now", "departure"]


class StayPublic(BaseModel):
    site: str | None
    arrive: datetime
    depart: datetime
    need_kwh: Decimal


class BookingPublic(BaseModel):
    charger: str
    slot: datetime
    kwh: Decimal
    renewable_kwh: Decimal


class ShortfallPublic(BaseModel):
    depart: datetime
    need_kwh: Decimal
    missing_kwh: Decimal
    feasible_depart: datetime | None


class ChargingPlanPublic(BaseModel):
    status: Literal["planned", "infeasible"]
    planned_at: datetime
    cost_yen: Decimal
    override_cost_yen: Decimal | None = Field(
        description="what the chosen mode costs more than charging by departure at the greenest slots")
    bookings: list[BookingPublic]
    shortfalls: list[ShortfallPublic]


class CarPublic(BaseModel):
    vehicle: str
    mode: Mode
    preference: Literal["green", "cheap"]
    battery_kwh: Decimal
    soc_kwh: Decimal
    v2g: bool
    stays: list[StayPublic]
    plan: ChargingPlanPublic | None = Field(description="none until the charging service has answered")


class ModeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Mode = Field(description="off, pv (solar only), minpv (a minimum now, the rest from solar), now, "
                                   "departure (reach each departure's need at the greenest slots)")


class ModeAccepted(BaseModel):
    vehicle: str
    mode: Mode
    event_id: str
