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


class PauseBody(_Body):
    reason: str = Field(default="", max_length=200)


class RevisionAnswer(BaseModel):
    """``revised``: the campaign service applied the revision (its number and the terms from now on);
    ``requested``: it has not decided yet (the campaign list shows the decision once made)."""

    id: str = Field(description="the revision request's id")
    event_id: str
    status: Literal["revised", "requested"]
    revision: int | None = None
    terms: dict[str, int] | None = None


class CampaignSummary(BaseModel):
    """One campaign on the operators' dashboard: its state and terms as last revised, budget planned against
    spent (expected and realised), offers, load removed (goal units), and the ledger's account of it
    (``ledger``: null until its funding is recorded). ``last_revision``: the latest revision decision
    (``status`` revised with its number, or refused with the ``field`` and ``reason``)."""

    campaign_id: str
    operator: str
    day: str
    goal: dict[str, Any]
    stopped: bool
    state: Literal["running", "paused", "stopped"]
    revision: int
    terms: dict[str, int]
    last_revision: dict[str, Any] | None = None
    budget: dict[str, float]
    offers: dict[str, int]
    load_removed: dict[str, float]
    rounds: int
    last_round_at: str | None
    worst_round_gap: float
    ledger: dict[str, Any] | None = None


class CampaignCurve(BaseModel):
    """A campaign's goal place over its day: the simulator's day without offers (``without_campaign``, the
    counterfactual) beside the live counts (``live``), each the mean walkers per minute of ``bin_minutes``
    bins starting at ``minutes`` (minutes of the Japan-time day); ``null`` where there is no curve (no
    forecast published, no count yet). In the goal's window, over the minutes observed so far: walkers
    without the campaign, live, and ``removed_so_far`` (their difference, persons); ``load_removed``: the
    campaign's own expectation in goal units (as in the summary)."""

    campaign_id: str
    goal_kind: str
    goal_share: float
    place: str
    day: str
    window: list[str]
    bin_minutes: int
    minutes: list[int]
    without_campaign: list[float] | None
    live: list[float | None] | None
    counterfactual_source: str | None
    window_minutes: int
    window_minutes_observed: int
    window_without_campaign: int | None
    window_live: int | None
    removed_so_far: int | None
    load_removed: dict[str, float]


class CampaignReconcileAnswer(BaseModel):
    """The campaign service's books against the ledger's ``campaign:<id>`` accounts, per campaign."""

    ok: bool
    campaigns: list[dict[str, Any]]
    mismatched: list[str]
    not_compared: list[str]
