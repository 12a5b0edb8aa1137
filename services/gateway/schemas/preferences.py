"""What the preferences route takes and answers."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

Clock = Field(default=None, pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="local time HH:MM (Asia/Tokyo)")
Area = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", description="an area of the station district")


class PreferencesPublic(BaseModel):
    notifications: bool = Field(description="push notifications (opt-in)")
    quiet_start: str | None = Field(description="no offers or notifications from this local time ...")
    quiet_end: str | None = Field(description="... until this one (may run past midnight)")
    ev_profile: Literal["economy", "green", "price-first"] = Field(description="how the car is charged")
    home_area: str | None
    work_area: str | None
    offers_opt_out: bool = Field(description="no offers at all")


class PreferencesChange(BaseModel):
    """Only the fields sent change; null clears quiet hours or an area."""

    model_config = ConfigDict(extra="forbid")

    notifications: StrictBool | None = None
    quiet_start: str | None = Clock
    quiet_end: str | None = Clock
    ev_profile: Literal["economy", "green", "price-first"] | None = None
    home_area: str | None = Area
    work_area: str | None = Area
    offers_opt_out: StrictBool | None = None
