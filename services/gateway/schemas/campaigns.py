"""What the campaign routes take and answer (the campaign itself is its contract, CampaignLaunched)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

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
    avoidable: bool = Field(default=False, description="another exit or route avoids the place within a short detour")


class PreferenceBody(_Body):
    opted_out: bool


class CampaignSummary(BaseModel):
    """One campaign on the operators' dashboard: budget planned against spent (expected and realised), offers,
    load removed (goal units), and the ledger's account of it (``ledger``: null until its funding is recorded)."""

    campaign_id: str
    operator: str
    day: str
    goal: dict[str, Any]
    stopped: bool
    budget: dict[str, float]
    offers: dict[str, int]
    load_removed: dict[str, float]
    rounds: int
    last_round_at: str | None
    worst_round_gap: float
    ledger: dict[str, Any] | None = None


class CampaignReconcileAnswer(BaseModel):
    """The campaign service's books against the ledger's ``campaign:<id>`` accounts, per campaign."""

    ok: bool
    campaigns: list[dict[str, Any]]
    mismatched: list[str]
    not_compared: list[str]
