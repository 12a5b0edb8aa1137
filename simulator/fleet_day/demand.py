"""A seeded weekday of demand on the Ebina drive network: ride requests with morning and evening peaks,
same-day parcels from the two malls' depots in the afternoon windows, the depot's PV surplus and prices.

Pure: the network, the PV yield per kWp and the prices are passed in, so the same seed gives the same day.
Places are the network's own: the fleet depot at the station's EV chargers, the two rotaries, the malls
(also the parcel depots), the car-share ports, and untagged street corners standing for homes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from services.logistics.domain.planner import Parcel
from services.mobility.domain.fleet import RideRequest
from simulator.fleet_day.params import FleetDayParams

BLOCK_S = 1800
BLOCKS = 48
SERVICE_HOURS = range(6, 22)   # hours whose travel times a plan must survive (the slowest of them is used)


class Roads(Protocol):
    """What the day needs of a drive network (``shared.roads.RoadNetwork`` has it)."""

    tags: list[dict[str, str]]

    def nodes_with(self, key: str, value: str | None = None) -> list[int]: ...

    def seconds(self, places: list[int], hour: int) -> np.ndarray: ...

    def metres(self, places: list[int]) -> np.ndarray: ...


@dataclass(frozen=True)
class Day:
    """Everything both plans see, in solver units: node indices into ``travel`` (s) and ``metres``."""

    nodes: tuple[int, ...]           # road-network node of each place
    kinds: tuple[str, ...]           # hub, station, mall, carshare, home
    hub: int                         # the fleet depot (place index)
    depots: dict[str, int]           # parcel depot ref -> place index
    travel: np.ndarray               # (P, P) int seconds, the slowest hour of the service day
    metres: np.ndarray               # (P, P) int
    rides: tuple[RideRequest, ...]
    parcels: tuple[tuple[str, Parcel], ...]   # (depot ref, parcel)
    pv_surplus_wh: np.ndarray        # (48,) the depot's PV beyond its own load, per 30-minute block
    buy_sen: np.ndarray              # (48,) sen/kWh
    sell_sen: np.ndarray             # (48,)


def _places(net: Roads, rng: np.random.Generator, n_homes: int) -> tuple[list[int], list[str]]:
    hub = sorted(net.nodes_with("charging", "yes"))[0]
    stations = sorted(net.nodes_with("amenity", "taxi"))
    malls = sorted(net.nodes_with("depot", "parcels"))
    carshare = sorted(set(net.nodes_with("amenity", "car_sharing")) - {hub})
    untagged = [i for i, t in enumerate(net.tags) if not t]
    homes = sorted(rng.choice(untagged, size=min(n_homes, len(untagged)), replace=False).tolist())
    nodes = [hub, *stations, *malls, *carshare, *homes]
    kinds = ["hub"] + ["station"] * len(stations) + ["mall"] * len(malls) + ["carshare"] * len(carshare) \
        + ["home"] * len(homes)
    return nodes, kinds


def _rides(p: FleetDayParams, rng: np.random.Generator, kinds: list[str], travel: np.ndarray) -> list[RideRequest]:
    """Morning: homes to the station and malls; evening: back; off-peak: anywhere to anywhere."""
    by = {k: [i for i, x in enumerate(kinds) if x == k] for k in ("station", "mall", "carshare", "home")}
    homes = by["home"] + by["carshare"]
    centres = by["station"] * 3 + by["mall"]     # the station draws most trips
    period = rng.choice(3, size=p.rides, p=[0.32, 0.30, 0.38])
    centre = np.array([7.75, 18.25, 13.0])[period] * 3600
    spread = np.array([0.6, 0.8, 3.0])[period] * 3600
    when = np.clip(rng.normal(centre, spread), 6 * 3600, 21.5 * 3600).astype(np.int64)
    when.sort()
    out = []
    for k, t in enumerate(when):
        hour = t / 3600
        home, centre_place = int(rng.choice(homes)), int(rng.choice(centres))
        if hour < 10.5:
            o, d = home, centre_place
        elif hour > 16.5:
            o, d = centre_place, home
        else:
            o, d = (home, centre_place) if rng.random() < 0.5 else (centre_place, home)
        if o == d:
            d = int(rng.choice([x for x in homes if x != o]))
        party = int(rng.choice([1, 1, 1, 2, 3]))
        direct = int(travel[o, d])
        out.append(RideRequest(f"ride-{k:04d}", o, d, int(t), int(t) + direct + 60 * p.slack_min + 120, party))
    return out


def _parcels(p: FleetDayParams, rng: np.random.Generator, kinds: list[str], depots: dict[str, int]
             ) -> list[tuple[str, Parcel]]:
    homes = [i for i, x in enumerate(kinds) if x == "home"]
    refs = sorted(depots)
    out = []
    for k in range(p.parcels):
        ref = refs[int(rng.choice(len(refs), p=[0.55, 0.45] if len(refs) == 2 else None))]
        a, b = p.parcel_windows[int(rng.integers(len(p.parcel_windows)))]
        weight_g = int(np.clip(rng.lognormal(np.log(2000), 0.8), 200, 15000))
        out.append((ref, Parcel(f"parcel-{k:04d}", int(rng.choice(homes)), a * 3600, b * 3600, weight_g)))
    return out


def hourly_to_blocks(hourly: tuple[object, ...]) -> np.ndarray:
    """24 hourly prices (yen/kWh, Decimal or float) -> 48 blocks in sen/kWh."""
    return np.repeat(np.array([round(float(str(x)) * 100) for x in hourly], dtype=np.int64), 2)


def build_day(p: FleetDayParams, net: Roads, pv_kwh_per_kwp: np.ndarray, buy_sen: np.ndarray,
              sell_sen: np.ndarray, n_homes: int = 60) -> Day:
    """The day for ``p.seed`` (see the module docstring). ``pv_kwh_per_kwp``: 48 blocks of one day."""
    if pv_kwh_per_kwp.shape != (BLOCKS,) or buy_sen.shape != (BLOCKS,) or sell_sen.shape != (BLOCKS,):
        raise ValueError("PV yield and prices need 48 half-hour values")
    rng = np.random.default_rng(p.seed)
    nodes, kinds = _places(net, rng, n_homes)
    travel = np.max([net.seconds(nodes, h) for h in SERVICE_HOURS], axis=0).astype(np.int64)
    metres = net.metres(nodes).astype(np.int64)
    depots = {net.tags[n]["ref"]: i for i, n in enumerate(nodes) if net.tags[n].get("depot") == "parcels"}
    rides = _rides(p, rng, kinds, travel)
    parcels = _parcels(p, rng, kinds, depots)
    surplus = np.clip(pv_kwh_per_kwp * p.pv_kwp - p.site_load_kw * BLOCK_S / 3600, 0, None)
    return Day(tuple(nodes), tuple(kinds), 0, depots, travel, metres, tuple(rides), tuple(parcels),
               np.rint(surplus * 1000).astype(np.int64), buy_sen.astype(np.int64), sell_sen.astype(np.int64))
