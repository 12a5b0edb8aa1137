"""Every assumption of the fleet day in one frozen dataclass, with why it has its value.

Units are the ones people quote (kWh, kW, km, yen, minutes); the core converts to the solvers' integers.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class FleetDayParams:
    seed: int = 20260520
    # Demand. A weekday of an on-demand shuttle and the malls' same-day delivery around Ebina station.
    rides: int = 120               # ride requests over the day (about 60 % in the two peaks)
    parcels: int = 60              # same-day parcels from the two malls' depots
    slack_min: int = 20            # latest arrival = earliest pick-up + direct ride + this
    # Parcels bought in the morning go out in the afternoon delivery windows (Japanese carriers' slots).
    parcel_windows: tuple[tuple[int, int], ...] = ((12, 14), (14, 16), (16, 18))
    # Vehicles: a small 4-seat EV van that also carries parcels (e.g. a Nissan e-NV200-class car).
    seats: int = 4
    cargo_kg: int = 200
    battery_kwh: float = 40.0
    reserve_kwh: float = 6.0       # never planned below this (15 %: range anxiety and battery care)
    start_soc: float = 0.6         # share of the battery at 00:00; the day must end with at least as much
    wh_per_km: float = 160.0       # urban consumption with heating/cooling margin
    charger_kw: float = 6.0        # one AC charger per vehicle at the depot (a fleet depot's usual set-up)
    v2g: bool = True               # vehicles may feed back in the evening (CHAdeMO V2H/V2G-capable)
    discharge_kw: float = 6.0
    # The depot's PV canopy and roof: surplus over its own load goes to the cars first.
    pv_kwp: float = 120.0
    site_load_kw: float = 12.0     # the depot's own load while the sun is up (offices, lights)
    month: int = 5                 # of the standard year's weather (data/solar)
    day: int = 20
    # Money.
    vehicle_yen_per_day: int = 4_500   # lease, insurance, parking of one van per day
    # Solvers (wall-clock seconds; the same limits for the joint plan and the domains planned alone).
    darp_s: float = 60.0            # per stretch of rides: a limit the local search stops well before
    vrptw_s: float = 5.0           # per depot and delivery window (also stopped well before)
    assign_s: float = 10.0         # per CP-SAT assignment, in CP-SAT's deterministic time units
    block_min: int = 30            # the planning block (the market's and the charging planner's slot)

    def __post_init__(self) -> None:
        if self.rides < 0 or self.parcels < 0:
            raise ValueError("rides and parcels must not be negative")
        if not 0 < self.reserve_kwh < self.battery_kwh:
            raise ValueError("reserve_kwh must be within 0..battery_kwh")
        if not self.reserve_kwh / self.battery_kwh <= self.start_soc <= 1:
            raise ValueError("start_soc must be at least the reserve's share and at most 1")
        if self.block_min != 30:
            raise ValueError("block_min must be 30 (the charging planner's slot)")
        for a, b in self.parcel_windows:
            if not 6 <= a < b <= 22:
                raise ValueError("parcel_windows must lie within 06-22 h, start before end")


def with_overrides(base: FleetDayParams, **changes: Any) -> FleetDayParams:
    """``base`` with ``changes``; an unknown name is refused, naming it."""
    known = {f.name for f in fields(FleetDayParams)}
    unknown = sorted(set(changes) - known)
    if unknown:
        raise ValueError(f"unknown parameter(s): {', '.join(unknown)}")
    return replace(base, **changes)
