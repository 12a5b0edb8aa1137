"""What the planner is given: sites with chargers and PV, vehicles with their day, prices; in solver units.

Everything is an integer: energy in Wh per 30-minute slot, prices in sen/kWh (yen x 100), slots as indices
0..T-1 of the horizon (slot ``t`` covers [t, t+1)). A car at a stay is plugged in for slots
``arrive .. depart-1`` and leaves at the start of slot ``depart`` with at least ``need_wh`` in its battery;
the trip after the stay uses ``trip_wh``, taken from the battery at the next stay's arrival. Invalid input
raises :class:`FleetError` naming the field and the rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

SLOT_HOURS = 0.5
NO_SITE = -1


class FleetError(ValueError):
    """The planner's input breaks a rule; the message names the field."""


class Mode(StrEnum):
    """Per-car charging modes (the choices home charging controllers taught users to expect)."""

    OFF = "off"            # never charge; departures are not promised
    PV = "pv"              # only local PV surplus; departures are not promised
    MIN_PV = "minpv"       # a minimum rate whenever plugged in (any source), the rest from PV only
    NOW = "now"            # as fast as possible whenever plugged in (the owner's override of the planner)
    DEPARTURE = "departure"  # the departure's charge, at the greenest (default) or cheapest slots

    @property
    def promises_departure(self) -> bool:
        return self in (Mode.NOW, Mode.DEPARTURE)


class Preference(StrEnum):
    GREEN = "green"
    CHEAP = "cheap"


def kw_to_wh_per_slot(kw: float) -> int:
    return round(kw * 1000 * SLOT_HOURS)


@dataclass(frozen=True)
class Stay:
    """One stop of the car's day: at ``site`` (index, or ``NO_SITE`` where there is no charger)."""

    site: int
    arrive: int
    depart: int
    need_wh: int = 0
    trip_wh: int = 0


@dataclass(frozen=True)
class Vehicle:
    id: str
    battery_wh: int
    soc_wh: int
    max_charge_w: int
    stays: tuple[Stay, ...]
    reserve_wh: int = 0
    max_discharge_w: int = 0
    v2g: bool = False
    mode: Mode = Mode.DEPARTURE
    preference: Preference = Preference.GREEN
    min_charge_w: int = 1400

    def check(self, horizon: int, n_sites: int) -> None:
        def bad(rule: str) -> FleetError:
            return FleetError(f"vehicle {self.id!r}: {rule}")

        if self.battery_wh <= 0:
            raise bad("battery_kwh must be positive")
        if not 0 <= self.soc_wh <= self.battery_wh:
            raise bad("soc_kwh must be within 0..battery_kwh")
        if not 0 <= self.reserve_wh <= self.battery_wh:
            raise bad("reserve_kwh must be within 0..battery_kwh")
        if self.max_charge_w <= 0 or self.max_discharge_w < 0 or self.min_charge_w < 0:
            raise bad("max_charge_kw must be positive, max_discharge_kw and min_charge_kw not negative")
        previous_end = 0
        for k, stay in enumerate(self.stays):
            where = f"stays[{k}]"
            if not NO_SITE <= stay.site < n_sites:
                raise bad(f"{where}.site is not a known site")
            if not (previous_end <= stay.arrive < stay.depart):
                raise bad(f"{where}: arrive must be before depart and not before the previous stay ends")
            if stay.arrive >= horizon:
                raise bad(f"{where}.arrive is beyond the horizon of {horizon} slots")
            if not 0 <= stay.need_wh <= self.battery_wh:
                raise bad(f"{where}.need_kwh must be within 0..battery_kwh")
            if stay.trip_wh < 0 or stay.trip_wh > self.battery_wh:
                raise bad(f"{where}.trip_kwh must be within 0..battery_kwh")
            previous_end = stay.depart


@dataclass(frozen=True)
class Site:
    """A place with ``chargers`` identical chargers of ``charger_w`` each.

    ``limit_wh[t]``: what the site's connection leaves for charging in slot t (after its own load);
    ``pv_wh[t]``: the PV forecast's surplus over the site's own load; ``soft_wh[t]``: grid import for
    charging above this is charged the peak penalty (a demand-charge stand-in).
    """

    id: str
    chargers: int
    charger_w: int
    limit_wh: np.ndarray
    pv_wh: np.ndarray
    soft_wh: np.ndarray
    bidirectional: bool = True  # its chargers can feed a car's energy back (V2G); the plan discharges only there


@dataclass(frozen=True)
class Prices:
    """Per slot: ``buy_sen`` what a kWh from the market/grid costs, ``sell_sen`` what a kWh sold earns.

    ``pv_sen[s, t]``: what the site's PV surplus costs the car (by default what it would earn when sold).
    """

    buy_sen: np.ndarray
    sell_sen: np.ndarray
    pv_sen: np.ndarray | None = None


@dataclass(frozen=True)
class Weights:
    """The objective, lexicographic by size: departures, then overrides, then renewable, cost and peaks."""

    shortfall_sen: int = 100_000_000   # per kWh a promised departure lacks (driver first)
    forced_sen: int = 10_000_000        # per kWh an owner's Now / Min+PV setting asks for and does not get
    green_sen: int = 5_000             # per kWh of local PV a green car absorbs (beats any price spread)
    peak_sen: int = 500                # per kWh of grid import above a site's soft threshold
    now_delay_sen: int = 10_000        # per kWh and slot a Now charge waits after plug-in (beats prices)
    wear_sen: int = 100                # per kWh fed back (V2G): a sale must earn more than the battery's wear


@dataclass(frozen=True)
class Fleet:
    """One planning problem over ``horizon`` slots; immutable once built."""

    horizon: int
    sites: tuple[Site, ...]
    vehicles: tuple[Vehicle, ...]
    prices: Prices
    weights: Weights = field(default_factory=Weights)

    def __post_init__(self) -> None:
        T = self.horizon
        if T < 1:
            raise FleetError("horizon must be at least one slot")
        for name in ("buy_sen", "sell_sen"):
            arr = getattr(self.prices, name)
            if arr.shape != (T,):
                raise FleetError(f"prices.{name} needs {T} values, not {arr.shape}")
            if (arr < 0).any():
                raise FleetError(f"prices.{name} must not be negative")
        if self.prices.pv_sen is not None and self.prices.pv_sen.shape != (len(self.sites), T):
            raise FleetError("prices.pv_sen needs one row per site and one value per slot")
        for site in self.sites:
            if site.chargers < 0 or site.charger_w <= 0:
                raise FleetError(f"site {site.id!r}: chargers must be >= 0 and charger_kw positive")
            for name in ("limit_wh", "pv_wh", "soft_wh"):
                arr = getattr(site, name)
                if arr.shape != (T,) or (arr < 0).any():
                    raise FleetError(f"site {site.id!r}: {name} needs {T} values >= 0")
        ids = [v.id for v in self.vehicles]
        if len(set(ids)) != len(ids):
            raise FleetError("vehicle ids must be unique")
        for v in self.vehicles:
            v.check(T, len(self.sites))

    def pv_price(self) -> np.ndarray:
        if self.prices.pv_sen is not None:
            return self.prices.pv_sen.astype(np.int64)
        return np.tile(self.prices.sell_sen.astype(np.int64), (len(self.sites), 1))

    def presence(self) -> np.ndarray:
        """``loc[v, t]``: the site where car v is plugged in during slot t, ``NO_SITE`` elsewhere."""
        loc = np.full((len(self.vehicles), self.horizon), NO_SITE, dtype=np.int64)
        for i, v in enumerate(self.vehicles):
            for stay in v.stays:
                if stay.site != NO_SITE and self.sites[stay.site].chargers > 0:
                    loc[i, stay.arrive:min(stay.depart, self.horizon)] = stay.site
        return loc

    def rate_wh(self, loc: np.ndarray) -> np.ndarray:
        """Energy per slot car v can take where it is: the smaller of its own and the charger's limit."""
        car = np.array([kw_to_wh_per_slot(v.max_charge_w / 1000) for v in self.vehicles], dtype=np.int64)
        charger = np.array([kw_to_wh_per_slot(s.charger_w / 1000) for s in self.sites] + [0], dtype=np.int64)
        rates: np.ndarray = np.minimum(car[:, None], charger[loc])
        return rates
