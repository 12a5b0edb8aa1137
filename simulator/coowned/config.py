"""Every assumption of the co-owned group, with its reason; a JSON file may override any top-level field.

Prices: the grid's 26.20 yen/kWh retail (the market's grid price, services/market/communities/ebina.yaml);
the carport's PV at 15.00 yen/kWh, between the 7.00 buy-back the PV's owner would get and the grid's retail,
so both sides gain. Instalments: a 60-month loan on a mid-size EV (about 4.1 M yen: 68,500 yen a month) and
on a kei EV (about 2.5 M yen: 42,300); insurance 6,200 and 4,800 yen a month.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

PERSONAS = ("commuter", "shopper", "family", "evening", "occasional")


@dataclass(frozen=True)
class MemberSpec:
    name: str
    persona: str      # one of PERSONAS: when and how far the member drives
    share: int        # ownership units (what each paid in)
    prefers: str      # the car tried first


@dataclass(frozen=True)
class CarSpec:
    id: str
    battery_kwh: int
    wh_per_km: int
    instalment_yen: int
    insurance_yen: int


DEFAULT_MEMBERS = (
    MemberSpec("aoki", "commuter", 2, "ev-sakura"),
    MemberSpec("baba", "shopper", 1, "ev-sakura"),
    MemberSpec("chiba", "family", 2, "ev-leaf"),
    MemberSpec("doi", "evening", 1, "ev-leaf"),
    MemberSpec("endo", "occasional", 1, "ev-leaf"),
)
DEFAULT_CARS = (CarSpec("ev-leaf", 40, 150, 68_500, 6_200), CarSpec("ev-sakura", 20, 125, 42_300, 4_800))


@dataclass(frozen=True)
class GroupConfig:
    group: str = "ebina-kashiwa-ev"
    year: int = 2026
    month: int = 11
    days: int | None = None                 # None: the whole month
    seed: int = 0
    members: tuple[MemberSpec, ...] = DEFAULT_MEMBERS
    member_count: int | None = None         # the first N of ``members`` (None: all); 3-5 in all
    cars: tuple[CarSpec, ...] = DEFAULT_CARS
    pv_kwp: float = 8.0                     # the shared carport's roof
    charger_kw: float = 6.0                 # one charger per car at the carport
    reserve_pct: int = 20                   # never planned below this state of charge
    start_soc_pct: int = 80
    pv_yen_per_kwh: str = "15.00"
    grid_yen_per_kwh: str = "26.20"
    turnaround_min: int = 15
    min_window_min: int = 60                # shorter gaps are not offered to the fleet
    fleet_hour_probability: float = 0.2     # chance an offered daytime hour gets a ride or delivery job
    owner_share_pct: int = 30               # of the operator's payout, paid to the cars' owners for the hours

    @property
    def active_members(self) -> tuple[MemberSpec, ...]:
        return self.members[:self.member_count] if self.member_count is not None else self.members

    def __post_init__(self) -> None:
        if self.member_count is not None and not 3 <= self.member_count <= min(5, len(self.members)):
            raise ValueError(f"members (--members): between 3 and {min(5, len(self.members))} of the "
                             f"{len(self.members)} listed, not {self.member_count}")
        if not 3 <= len(self.active_members) <= 5:
            raise ValueError(f"members: a group has 3-5 members, not {len(self.active_members)}")
        unknown = {m.persona for m in self.members} - set(PERSONAS)
        if unknown:
            raise ValueError(f"personas must be among {', '.join(PERSONAS)}: not {', '.join(sorted(unknown))}")
        cars = {c.id for c in self.cars}
        if any(m.prefers not in cars for m in self.members):
            raise ValueError("each member's preferred car must be one of the cars")
        if not 1 <= self.month <= 12:
            raise ValueError("month must be 1..12")


def load_config(path: str | Path | None = None, **overrides: Any) -> GroupConfig:
    """Defaults, then the JSON file's fields (members and cars as lists of objects), then ``overrides``."""
    data: dict[str, Any] = {}
    if path is not None:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        known = {f.name for f in fields(GroupConfig)}
        extra = set(data) - known
        if extra:
            raise ValueError(f"unknown config fields: {', '.join(sorted(extra))}")
        if "members" in data:
            data["members"] = tuple(MemberSpec(**m) for m in data["members"])
        if "cars" in data:
            data["cars"] = tuple(CarSpec(**c) for c in data["cars"])
    data.update({k: v for k, v in overrides.items() if v is not None})
    return replace(GroupConfig(), **data)
