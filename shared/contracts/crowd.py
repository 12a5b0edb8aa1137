"""Crowd contracts: people counted at the station area's chokepoints, and counts far from their usual level."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import Field

from shared.contracts.base import AnyTopic, Payload, Topic
from shared.contracts.logistics import StockAnomalyDetected


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



class CrowdForecastPublished(Payload):
    """The expected walkers entering a zone per minute over one local day (1,440 values), e.g. the day
    without offers from the simulator, or a forecast from sensors; campaigns judge their goal on it."""

    event_type: ClassVar[str] = "crowd.forecast.published"
    zone: str = Field(min_length=1, max_length=64)
    day: date
    persons: tuple[int, ...] = Field(min_length=1440, max_length=1440)
    source: str = Field(default="simulator", max_length=64)

    def key(self) -> str:
        return self.zone


COUNTS: Topic[CrowdCountObserved] = Topic("crowd.counts", key="zone", payloads=(CrowdCountObserved,))
# The city's eye: counts far from their usual level (keyed by zone) and shops' days far from theirs (by shop).
ANOMALIES: Topic[CrowdAnomalyDetected | StockAnomalyDetected] = Topic(
    "city.anomalies", key="zone or shop", payloads=(CrowdAnomalyDetected, StockAnomalyDetected))

FORECASTS: Topic[CrowdForecastPublished] = Topic("crowd.forecasts", key="zone", payloads=(CrowdForecastPublished,))

TOPICS: tuple[AnyTopic, ...] = (COUNTS, ANOMALIES, FORECASTS)
