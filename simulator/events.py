"""Event types the simulator publishes and takes, registered with the shared event registry.

``crowd.counts``: people crossing a watched zone per minute; ``incentives.offers``: an offer to one
person (the simulator also answers offers of any type that carries the same fields);
``incentives.responses``: the answer; ``city.anomalies``: a count far from its usual level.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from shared.events import Payload, register

OfferKind = Literal["shift_later", "shift_earlier", "other_exit", "other_mall", "shared_mobility", "ev_charge_now"]


@register
class CrowdCountObserved(Payload):
    """Walkers entering a zone (a chokepoint) during one minute, with the density and level of service."""

    event_type: ClassVar[str] = "crowd.count.observed"
    zone: str = Field(min_length=1, max_length=64)
    minute_start: datetime
    persons: int = Field(ge=0)
    density_p_m2: float = Field(ge=0)
    los: Literal["A", "B", "C", "D", "E", "F"]
    source: str = Field(default="simulator", max_length=64)

    def key(self) -> str:
        return self.zone


@register
class IncentiveOfferMade(Payload):
    """An offer to one person: do ``offer_type`` (e.g. leave 20 minutes later) and receive ``reward_yen``."""

    event_type: ClassVar[str] = "incentives.offer.made"
    offer_id: str = Field(min_length=1, max_length=64)
    user: str = Field(min_length=1, max_length=64)
    offer_type: OfferKind
    reward_yen: int = Field(ge=0, le=100_000)
    shift_min: int = Field(default=0, ge=0, le=240)
    purpose: str | None = Field(default=None, max_length=32, description="trip purpose if known")
    zone: str | None = Field(default=None, max_length=64)
    campaign: str | None = Field(default=None, max_length=64)

    def key(self) -> str:
        return self.user


@register
class IncentiveOfferAnswered(Payload):
    """The person's answer; ``probability`` is the model's acceptance probability (simulated people only)."""

    event_type: ClassVar[str] = "incentives.offer.answered"
    offer_id: str
    user: str
    accepted: bool
    probability: float | None = Field(default=None, ge=0, le=1)
    responder: str = Field(default="simulator", max_length=64)

    def key(self) -> str:
        return self.user


@register
class CrowdAnomalyDetected(Payload):
    """A count far outside its usual level for that minute of the day (robust z-score)."""

    event_type: ClassVar[str] = "city.anomaly.detected"
    zone: str
    minute_start: datetime
    kind: Literal["surge", "drop"]
    observed: int
    expected: float
    robust_z: float

    def key(self) -> str:
        return self.zone
