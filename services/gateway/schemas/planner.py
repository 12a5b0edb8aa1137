"""What planners send and read: simulator runs launched from the dashboard, their progress and reports."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.gateway.sim_runs import shipped_scenarios

MAX_AGENTS = 250_000  # a quarter of a million people: the simulator's benchmark day, a few seconds
MIN_AGENTS = 100
MAX_SEED = 2**31 - 1


def _shipped(value: str | None) -> str | None:
    names = shipped_scenarios()
    if value is not None and value not in names:
        raise ValueError(f"must be one of the shipped scenarios: {', '.join(names)} (not {value!r})")
    return value


class SimRunBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["scenario", "campaign_replay", "compare"] = Field(
        description="scenario: the day and its report (`citymatch sim run`); campaign_replay: the Ebina gate "
                    "campaign's day round by round against the day without it (`citymatch sim campaign`); "
                    "compare: two scenarios side by side (`citymatch sim compare`)")
    scenario: str = Field(description="a shipped scenario (GET /v1/planner/sim/scenarios)")
    against: str | None = Field(None, description="compare only: the second shipped scenario (B)")
    agents: int | None = Field(None, ge=MIN_AGENTS, le=MAX_AGENTS,
                               description="people simulated; default the scenario's real ridership")
    seed: int | None = Field(None, ge=0, le=MAX_SEED, description="random seed; default the scenario's")

    @field_validator("scenario", "against")
    @classmethod
    def _is_shipped(cls, value: str | None) -> str | None:
        return _shipped(value)


class ScenarioTitle(BaseModel):
    ja: str
    en: str


class ScenarioPublic(BaseModel):
    name: str
    title: ScenarioTitle = Field(description="what the dashboard shows, in Japanese and English")


class SimRunPublic(BaseModel):
    id: str
    kind: str
    scenario: str
    against: str | None
    agents: int | None
    seed: int | None
    requested_by: str = Field(description="the planner's or operator's token subject ('operator': its secret)")
    created_at: str
    state: Literal["queued", "running", "done", "failed", "cancelled"]
    stage: str = Field(description="waiting, starting, simulating, campaign_rounds, writing_report, or the state")
    minutes: int = Field(description="minutes of the day walked so far, over every day the job walks")
    total_minutes: int = Field(description="minutes the job walks in all (0 until the worker has said)")
    started_at: str | None
    finished_at: str | None
    reason: str | None = Field(description="why it failed or was cancelled")
    report: str | None = Field(description="the report's page, once done")
    report_url: str | None = Field(None, description="the report page for a browser (a link valid for a while, "
                                                     "no token needed), once done")
    kpis_url: str | None = Field(None, description="the KPIs as JSON, once done (same link rule)")
