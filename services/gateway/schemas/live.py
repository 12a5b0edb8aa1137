"""What the operators' live map and market & ledger panel read: chokepoints' level of service, chargers' load,
vehicles, the market per slot, and dead letters per topic."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Los = Literal["A", "B", "C", "D", "E", "F"]


class Staleness(BaseModel):
    crowd: float = Field(description="seconds after which a chokepoint's count is stale")
    meter: float = Field(description="seconds after which a charging charger's meter reading is stale")
    vehicle: float = Field(description="seconds after which a vehicle's plan or a courier's round is stale")


class CrowdAnomalyMark(BaseModel):
    kind: str
    minute_start: str
    observed: float
    expected: float


class ChokepointLive(BaseModel):
    zone: str
    name: str
    name_ja: str
    width_m: float
    los: Los | None = Field(description="Fruin's level of service of the latest minute (null: no count yet)")
    persons: int | None = Field(description="walkers entering in that minute")
    flow_p_m_min: float | None = Field(description="walkers per metre of clear width per minute")
    density_p_m2: float | None
    minute_start: str | None = Field(description="the minute the count is of")
    at: str | None = Field(description="when the count was published")
    age_s: float | None = Field(description="seconds since it was published")
    stale: bool
    anomaly: CrowdAnomalyMark | None = Field(default=None, description="the latest crowd anomaly at this zone")


class ChargerLive(BaseModel):
    charger: str
    site: str
    capacity_kw: float | None = Field(description="the charger's power (null: a charger the gateway was not told of)")
    kw: float = Field(description="power in use, from the last two meter readings of the session")
    planned_kw: float | None = Field(description="what the charging plan gives it in the current slot")
    in_use: bool
    vehicle: str | None
    session_kwh: float | None
    read_at: str | None = Field(description="the meter's time of the last reading")
    at: str | None = Field(description="when the last reading was published")
    age_s: float | None
    stale: bool = Field(description="in use, and its last reading is older than the meter threshold")
    available: bool | None = Field(description="the charger gateway's last word (null: none yet)")
    reason: str
    status_at: str | None
    lat: float | None
    lon: float | None


class NextStop(BaseModel):
    kind: str = Field(description="pickup, dropoff (a ride), delivery (a parcel), or round_pickup, round_dropoff (a "
                                  "ride vehicle's delivery round between rides: loading at the depot, back there)")
    ref: str = Field(description="the ride request, the parcel, or the delivery round")
    lat: float
    lon: float
    planned_at: str


class VehicleLive(BaseModel):
    vehicle: str
    service: Literal["mobility", "logistics"]
    lat: float
    lon: float
    position: Literal["planned", "next_stop"] = Field(
        description="planned: where the vehicle was when its plan was made; next_stop: no position is published "
                    "(couriers), the marker is at the next stop")
    next_stop: NextStop | None
    stops: int
    onboard: int | None
    revision: int
    at: str | None
    age_s: float | None
    stale: bool


class LiveAnswer(BaseModel):
    now: str
    stale_after_s: Staleness
    chokepoints: list[ChokepointLive]
    chargers: list[ChargerLive]
    vehicles: list[VehicleLive]


class ClearingPublic(BaseModel):
    orders: int
    trades: int
    kwh: str
    surplus_yen: str
    pricing: str


class MarketSlot(BaseModel):
    slot: str
    trades: int
    kwh: str
    kwh_by_tier: dict[str, str]
    renewable_kwh: str
    renewable_share: float | None
    price_yen_per_kwh: str | None = Field(description="kWh-weighted price of the slot's peer trades (tiers A, B)")
    community_price: str | None = Field(description="the same over community (tier B) trades")
    min_price: str | None
    max_price: str | None
    clearing: ClearingPublic | None = Field(description="the market's summary of the clearing (energy.clearings)")


class DeadLetterPublic(BaseModel):
    reason: str
    kind: str | None = Field(description="decode, domain, routing or handler (Kafka only)")
    service: str | None
    at: str | None
    partition: int | None
    offset: int | None


class DeadLetterTopic(BaseModel):
    topic: str
    dlq: str
    count: int
    latest: list[DeadLetterPublic]


class DeadLetterAnswer(BaseModel):
    total: int
    topics: list[DeadLetterTopic]
