"""What the campaign routes take and answer (the campaign itself is its contract, CampaignLaunched)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Accepted(BaseModel):
    id: str
    event_id: str


class StopBody(_Body):
    reason: str = Field(default="", max_length=200)


class RedemptionBody(_Body):
    code: str = Field(min_length=4, max_length=32)


class AnswerBody(_Body):
    accept: bool


class TripBody(_Body):
    place: str = Field(min_length=1, max_length=64)
    at: datetime
    segment: Literal["commute_in", "commute_out", "shopping", "leisure", "home", "transfer", "local_shopping"]


class PreferenceBody(_Body):
    opted_out: bool
