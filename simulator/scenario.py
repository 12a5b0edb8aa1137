"""What a planner can change, as a validated model read from YAML.

Defaults are the Ebina weekday: real daily ridership of Odakyu (FY2023) and Sotetsu (FY2024), JR's as a
parameter; everything else (purpose mix, transfers, timetable, dwell, spend) is a stated assumption
that a scenario may override.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from simulator.paths import SCENARIO_DIR

OfferType = Literal["shift_later", "shift_earlier", "other_exit", "other_mall", "shared_mobility", "ev_charge_now"]
Purpose = Literal["commute_in", "commute_out", "shopping", "leisure", "home", "transfer", "local_shopping"]


def clock_to_minute(value: str | int) -> int:
    """'17:30' -> 1050; integers pass through as minutes of the day."""
    if isinstance(value, int):
        return value
    hours, minutes = str(value).split(":")
    return int(hours) * 60 + int(minutes)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Population(_Model):
    """Either ``agents`` (people simulated) or ``scale`` (1.0 = the real ridership)."""

    agents: int | None = Field(default=None, ge=10, le=5_000_000)
    scale: float = Field(default=1.0, gt=0, le=20)


class Ridership(_Model):
    """Daily boardings plus alightings per line."""

    odakyu: int = Field(default=132_467, ge=0, description="Odakyu Ebina, FY2023")
    sotetsu: int = Field(default=110_909, ge=0, description="Sotetsu Ebina, FY2024")
    jr: int = Field(default=30_000, ge=0, description="JR Sagami line Ebina (parameter, not a published figure)")


class Transfers(_Model):
    """People per day changing lines at Ebina (each walks gate to gate twice: out and back)."""

    odakyu_sotetsu: int = 18_000
    odakyu_jr: int = 4_000
    sotetsu_jr: int = 3_000


class PurposeShares(_Model):
    """Shares of the non-transfer station events. ``shopping: null`` takes the ViNA WALK calibration."""

    commute_in: float = 0.22
    commute_out: float = 0.40
    shopping: float | None = None
    leisure: float = 0.13
    home: float = 0.25


class Timetable(_Model):
    """Trains per line (both directions together): headway in minutes, shorter in the peaks."""

    peak_headway_min: dict[str, float] = {"odakyu": 2.5, "sotetsu": 3.0, "jr": 10.0}
    offpeak_headway_min: dict[str, float] = {"odakyu": 5.0, "sotetsu": 6.0, "jr": 15.0}
    peak_hours: list[tuple[float, float]] = [(6.5, 9.5), (17.0, 20.0)]
    first_train_h: float = 5.0
    last_train_h: float = 24.0


class Walking(_Model):
    speed_m_per_min: float = Field(default=78.0, gt=10, lt=200)
    speed_cv: float = Field(default=0.15, ge=0, lt=1)
    speed_factor: float = Field(default=1.0, gt=0.2, le=1.5, description="e.g. 0.9 in rain")


class Dwell(_Model):
    shopping_median_min: float = 90.0
    leisure_median_min: float = 120.0
    local_median_min: float = 70.0
    sigma: float = 0.5


class Event(_Model):
    """A crowd-pulling event at a venue (people arrive before the start and all leave at the end)."""

    name: str
    venue: Literal["lalaport", "vinawalk"]
    attendees: int = Field(ge=0)
    start: str | int
    end: str | int
    rail_share: float = Field(default=0.8, ge=0, le=1)
    arrival_spread_min: int = 60
    egress_spread_min: int = 20


class Offer(_Model):
    """An incentive campaign: who is targeted, what they are asked, what they get."""

    type: OfferType
    reward_yen: int = Field(ge=0, le=100_000)
    window: tuple[str | int, str | int] = ("17:30", "18:30")
    shift_min: int = Field(default=20, ge=0, le=240)
    purposes: list[Purpose] | None = None
    chokepoint: str | None = Field(default=None, description="target only trips through this chokepoint")
    target_mall: Literal["lalaport", "vinawalk"] | None = Field(
        default=None, description="other_mall: the centre shoppers are invited to (from the other one)")
    reach: float = Field(default=0.3, ge=0, le=1, description="share of people the app can reach")
    budget_yen: int | None = Field(default=None, ge=0)

    @property
    def window_minutes(self) -> tuple[int, int]:
        return clock_to_minute(self.window[0]), clock_to_minute(self.window[1])


class Sales(_Model):
    spend_yen: dict[str, int] = {"lalaport": 3_500, "vinawalk": 2_800}
    purchase_rate: float = Field(default=0.55, ge=0, le=1)


class Rides(_Model):
    """Walkers who take a ride instead (the platform's on-demand service), by a binary logit on generalised
    minutes. Every default is an assumption to calibrate against the ride service's own data.

    Walking costs ``walk_weight`` x its minutes. A ride costs the walk to and from the nearest road node
    (x ``walk_weight``), ``wait_weight`` x ``wait_min``, the minutes in the vehicle (drive network, at the
    hour of departure), the fare (``base_fare_yen`` + ``fare_per_km_yen`` per started km of road) over the
    value of time, and ``ride_penalty_min`` for what the minutes miss (booking, uncertainty, habit).
    P(ride) = logistic(``logit_scale_per_min`` x (walking cost - ride cost)); walks shorter than
    ``min_distance_m`` never ride.
    """

    enabled: bool = True
    min_distance_m: float = Field(default=700.0, ge=0, description="shorter walks are always walked")
    wait_min: float = Field(default=6.0, ge=0, description="from booking to pick-up")
    base_fare_yen: int = Field(default=200, ge=0, description="flag-fall, as the ride service's shuttle")
    fare_per_km_yen: int = Field(default=50, ge=0, description="per started km of road")
    value_of_time_yen_per_min: float = Field(default=30.0, gt=0, description="about 1,800 yen an hour")
    walk_weight: float = Field(default=1.5, gt=0, description="a walking minute against an in-vehicle minute")
    wait_weight: float = Field(default=1.5, gt=0, description="a waiting minute against an in-vehicle minute")
    ride_penalty_min: float = Field(default=12.0, description="a ride's drawbacks the minutes do not show")
    logit_scale_per_min: float = Field(default=0.25, gt=0, description="sharpness of the choice")
    live_max_per_minute: int = Field(default=3, ge=0, description="live mode: ride requests published per minute")


class Scenario(_Model):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    seed: int = 1
    network: str | None = Field(default=None, description="OSM XML or GraphML path; default: shipped schematic")
    day_type: Literal["weekday", "saturday", "sunday"] = "weekday"
    population: Population = Population()
    ridership: Ridership = Ridership()
    ridership_factor: float = Field(default=1.0, gt=0, le=3)
    transfers: Transfers = Transfers()
    purposes: PurposeShares = PurposeShares()
    local_shoppers: int = Field(default=12_000, ge=0)
    mall_weights: dict[str, float] = {"lalaport": 1.0, "vinawalk": 1.0}
    walking: Walking = Walking()
    timetable: Timetable = Timetable()
    dwell: Dwell = Dwell()
    event: Event | None = None
    offers: list[Offer] = []
    sales: Sales = Sales()
    rides: Rides = Rides()
    ev_owner_share: float = Field(default=0.05, ge=0, le=1, description="local shoppers who drive an EV")
    ev_session_kwh: float = Field(default=12.0, gt=0, description="energy of a moved charging session")

    @field_validator("mall_weights")
    @classmethod
    def _malls_known(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = set(v) - {"lalaport", "vinawalk"}
        if unknown:
            raise ValueError(f"unknown malls {sorted(unknown)}; known: lalaport, vinawalk")
        return v

    @model_validator(mode="after")
    def _windows_ordered(self) -> Scenario:
        for offer in self.offers:
            a, b = offer.window_minutes
            if not 0 <= a < b <= 1440:
                raise ValueError(f"offer window {offer.window} must be increasing within the day")
        return self

    def with_overrides(self, **changes: object) -> Scenario:
        """A copy with top-level fields replaced (validated again)."""
        return Scenario.model_validate({**self.model_dump(), **changes})


def load_scenario(source: str | Path) -> Scenario:
    """A scenario from a YAML path, or the name of a shipped scenario (``ebina_weekday``)."""
    path = Path(source)
    if not path.exists():
        shipped = SCENARIO_DIR / f"{source}.yaml"
        if not shipped.exists():
            names = ", ".join(sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml")))
            raise FileNotFoundError(f"no scenario file {source!r} (shipped: {names})")
        path = shipped
    return Scenario.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def shipped_scenarios() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))
