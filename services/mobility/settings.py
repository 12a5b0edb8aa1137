"""Mobility's own settings: the fleet (where each vehicle starts, its seats, its operator, what it carries for
logistics between rides), the hours it lends to deliveries, and the clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from services.mobility.domain.fleet import Limits

TOKYO = ZoneInfo("Asia/Tokyo")
COOWNED_KIND = "coowned"


@dataclass(frozen=True)
class VehicleSpec:
    id: str
    kind: str              # shuttle | taxi | carshare | coowned (a co-owning group's car, lent between bookings)
    capacity: int
    start_tag: tuple[str, str]  # (key, value) of the network node it starts at, e.g. ("ref", "LL76")
    operator: str          # who is paid for its rides (for a co-owned car: its group)
    wheelchair: bool = False
    shift: tuple[int, int] = (6 * 3600, 23 * 3600)  # seconds of the local day
    # What it carries for logistics between rides (grams, parcels per round); None: it carries no parcels.
    cargo: tuple[int, int] | None = None


def default_fleet() -> tuple[VehicleSpec, ...]:
    """On-demand shuttles and taxis at the two station rotaries, and the EV car-share cars at their stations."""
    fleet = []
    for k in range(4):
        side = "rotary_east" if k % 2 == 0 else "rotary_west"
        # the two shuttles without a wheelchair place carry parcels between rides (the rear bench folded)
        fleet.append(VehicleSpec(f"shuttle-{k + 1}", "shuttle", 8, ("ref", side), "ebina-shuttle",
                                 wheelchair=k < 2, cargo=None if k < 2 else (150_000, 24)))
    for k in range(6):
        side = "rotary_east" if k % 2 else "rotary_west"
        fleet.append(VehicleSpec(f"taxi-{k + 1}", "taxi", 4, ("ref", side), f"taxi-operator-{k % 2 + 1}"))
    fleet.append(VehicleSpec("carshare-LL76", "carshare", 4, ("ref", "LL76"), "carshare-ebina",
                             cargo=(80_000, 12)))
    # The Ebina group's two EVs, lent to riders in the hours their members leave free, from their carport
    # (placed at the EV station LF72 on the schematic network); ids as in the group's book.
    for car, seats in (("ev-leaf", 4), ("ev-sakura", 3)):
        fleet.append(VehicleSpec(car, COOWNED_KIND, seats, ("ref", "LF72"), "ebina-kashiwa-ev"))
    return tuple(fleet)


@dataclass(frozen=True)
class MobilitySettings:
    fleet: tuple[VehicleSpec, ...] = field(default_factory=default_fleet)
    limits: Limits = field(default_factory=Limits)
    reopt_interval_s: float = 60.0      # wall-clock seconds between re-optimisations
    reopt_search_s: float = 1.0
    answer_budget_s: float = 0.15       # insertion search time per request
    walk_kmh: float = 4.5
    walk_max_m: int = 1500              # a declined rider is pointed to walking below this
    # Vehicles with cargo room lend their idle stretches inside these hours (seconds of the local day: the
    # midday lull between the peaks) to delivery rounds, if at least ``lend_min_s`` long.
    lend_hours: tuple[int, int] = (10 * 3600, 16 * 3600)
    lend_min_s: int = 2700
    offer_interval_s: float = 10.0      # wall-clock seconds between looks at what the vehicles offer
