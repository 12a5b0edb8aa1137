"""Which walks become rides: a seeded binary logit between walking and the on-demand ride service.

For each walk of the day (a row of :class:`~simulator.demand.Trips`) walking costs its minutes (path length
over the walker's own speed); a ride costs the walk to and from the nearest node of the drive network, the
wait, the minutes in the vehicle (shortest drive time at the hour of departure, from
:func:`shared.roads.load_drive_network`) and the fare over the value of time (see
:class:`simulator.scenario.Rides`). One uniform draw per walk from the scenario's seed decides, so the same
scenario gives the same riders. Everything is numpy over all walks at once; the drive times are looked up
in one table per hour (drive node x drive node), computed once per process.

A person who rides one leg still walks the other: :func:`walks_left` takes the ridden walks out of what the
engine moves and keeps the links between a person's legs right (a leg that followed a ridden one starts at
the ride's arrival plus the dwell).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from shared.roads import RoadNetwork, load_drive_network
from simulator.demand import DAY_MIN, Demand, Trips
from simulator.geo import to_xy
from simulator.network import WalkNetwork
from simulator.scenario import Rides, Scenario

SEED_STREAM = 41  # the draws' stream of the scenario seed (demand uses 1)


@cache
def drive_network() -> RoadNetwork:
    """The shipped drive network, read once per process."""
    return load_drive_network()


_TABLES: dict[int, tuple[RoadNetwork, np.ndarray, np.ndarray]] = {}


def _drive_tables(roads: RoadNetwork) -> tuple[np.ndarray, np.ndarray]:
    """Drive seconds per hour [24, n, n] and road metres [n, n] between all drive nodes (once per network)."""
    if id(roads) not in _TABLES or _TABLES[id(roads)][0] is not roads:
        seconds = np.stack([roads.all_seconds(h) for h in range(24)]).astype(np.float32)
        _TABLES[id(roads)] = (roads, seconds, roads.all_metres.astype(np.float32))
    return _TABLES[id(roads)][1], _TABLES[id(roads)][2]


@dataclass
class RideChoice:
    """Per walk of the day (rows of the Trips it was made for)."""

    ride: np.ndarray  # bool: taken as a ride
    eligible: np.ndarray  # bool: long enough and reachable by road
    depart: np.ndarray  # int: minute the walk (or ride) starts; estimated for legs that follow a dwell
    walk_min: np.ndarray  # float: walking minutes at the walker's speed
    ride_min: np.ndarray  # float: door to door by ride (access walks + wait + in vehicle), inf if none
    drive_s: np.ndarray  # float: seconds in the vehicle
    fare_yen: np.ndarray  # int
    p_ride: np.ndarray  # float: probability of riding (0 where not eligible)
    origin_node: np.ndarray  # drive node nearest the walk's origin
    dest_node: np.ndarray

    @property
    def rows(self) -> np.ndarray:
        """Trip rows taken as rides, in order."""
        return np.flatnonzero(self.ride)

    def arrivals(self) -> np.ndarray:
        """Minute each ride arrives (rows of :attr:`rows`), within the day only."""
        rows = self.rows
        arrive = self.depart[rows] + np.ceil(self.ride_min[rows]).astype(np.int64)
        return np.where(arrive < DAY_MIN, arrive, -1)

    def kpis(self, trips: Trips) -> dict[str, Any]:
        n = int(self.ride.sum())
        saved = self.walk_min[self.ride] - self.ride_min[self.ride]
        return {
            "rides": n,
            "riders": len(np.unique(trips.agent[self.ride])),
            "walks_replaced": n,
            "ride_share": round(n / len(trips), 4) if len(trips) else 0.0,
            "ride_share_of_eligible": round(n / int(self.eligible.sum()), 4) if self.eligible.any() else 0.0,
            "ride_eligible_walks": int(self.eligible.sum()),
            "ride_minutes_saved_mean": round(float(saved.mean()), 2) if n else 0.0,
            "ride_fares_yen": int(self.fare_yen[self.ride].sum()),
        }


def no_rides(trips: Trips) -> RideChoice:
    n = len(trips)
    zero = np.zeros(n)
    return RideChoice(ride=np.zeros(n, bool), eligible=np.zeros(n, bool), depart=trips.depart.astype(np.int64),
                      walk_min=zero, ride_min=np.full(n, np.inf), drive_s=zero, fare_yen=np.zeros(n, np.int64),
                      p_ride=zero, origin_node=np.zeros(n, np.int64), dest_node=np.zeros(n, np.int64))


def nearest_drive_nodes(net: WalkNetwork, roads: RoadNetwork) -> tuple[np.ndarray, np.ndarray]:
    """For each walk node: the nearest drive node and the straight distance to it (m)."""
    rx, ry = to_xy(roads.lat, roads.lon)
    d2 = (net.node_x[:, None] - np.asarray(rx)[None, :]) ** 2 + (net.node_y[:, None] - np.asarray(ry)[None, :]) ** 2
    node = np.argmin(d2, axis=1)
    return node, np.sqrt(d2[np.arange(len(node)), node])


def planned_departures(trips: Trips, walk_min: np.ndarray) -> np.ndarray:
    """Minute each walk starts: fixed ones as given, one after a dwell at the first leg's walking arrival
    plus the dwell (the engine's crowding can delay it by a minute or two; the choice does not see that)."""
    depart = trips.depart.astype(np.int64).copy()
    after = np.flatnonzero((depart < 0) & (trips.prev >= 0))
    prev = trips.prev[after]
    depart[after] = depart[prev] + np.ceil(walk_min[prev]).astype(np.int64) + 1 + trips.dwell[after]
    return depart


def choose(s: Scenario, demand: Demand, net: WalkNetwork, roads: RoadNetwork | None = None) -> RideChoice:
    """Who rides instead of walking, for every walk of ``demand`` (reproducible from ``s.seed``)."""
    trips, p = demand.trips, s.rides
    if not p.enabled or len(trips) == 0:
        return no_rides(trips)
    roads = roads or drive_network()
    seconds, metres = _drive_tables(roads)
    length = demand.paths.length_m[trips.path].astype(float)
    walk_min = length / trips.speed
    depart = planned_departures(trips, walk_min)
    node_of, access_m = nearest_drive_nodes(net, roads)
    o, d = node_of[trips.origin], node_of[trips.dest]
    hour = (np.clip(depart, 0, DAY_MIN - 1) // 60) % 24
    drive_s = seconds[hour, o, d].astype(float)
    road_m = metres[o, d].astype(float)
    access_min = (access_m[trips.origin] + access_m[trips.dest]) / trips.speed
    eligible = (length >= p.min_distance_m) & np.isfinite(drive_s) & (o != d) & (depart < DAY_MIN)
    km = np.ceil(np.where(np.isfinite(road_m), road_m, 0.0) / 1000.0)
    fare = (p.base_fare_yen + p.fare_per_km_yen * km).astype(np.int64)
    ride_min = np.where(eligible, access_min + p.wait_min + drive_s / 60.0, np.inf)
    cost_walk = p.walk_weight * walk_min
    cost_ride = (p.walk_weight * access_min + p.wait_weight * p.wait_min + drive_s / 60.0
                 + fare / p.value_of_time_yen_per_min + p.ride_penalty_min)
    with np.errstate(invalid="ignore", over="ignore"):
        prob = np.where(eligible, 1.0 / (1.0 + np.exp(-p.logit_scale_per_min * (cost_walk - cost_ride))), 0.0)
    draws = np.random.default_rng([s.seed, SEED_STREAM]).random(len(trips))
    return RideChoice(ride=eligible & (draws < prob), eligible=eligible, depart=depart, walk_min=walk_min,
                      ride_min=ride_min, drive_s=np.where(eligible, drive_s, 0.0), fare_yen=fare, p_ride=prob,
                      origin_node=o, dest_node=d)


def _subset(trips: Trips, rows: np.ndarray) -> Trips:
    return Trips(**{k: v[rows] for k, v in trips.__dict__.items()})


def walks_left(demand: Demand, choice: RideChoice) -> Demand:
    """The day's walks without the ridden ones (those are kept in ``Demand.rides``).

    A leg whose other leg is ridden is still walked: one that followed a ridden leg after a dwell starts at a
    fixed minute (the ride's arrival plus the dwell), and one that a ridden leg followed simply has no next.
    """
    ride = choice.ride
    if not ride.any():
        return demand
    trips = demand.trips.copy()
    follows_ride = np.flatnonzero((trips.prev >= 0) & ride[np.maximum(trips.prev, 0)] & ~ride)
    dwell_leg = follows_ride[trips.depart[follows_ride] < 0]
    first = trips.prev[dwell_leg]
    arrive = choice.depart[first] + np.ceil(choice.ride_min[first]).astype(np.int64)
    trips.depart[dwell_leg] = arrive + 1 + trips.dwell[dwell_leg]
    trips.dwell[dwell_leg] = 0
    keep = np.flatnonzero(~ride)
    new_index = np.full(len(trips), -1, np.int64)
    new_index[keep] = np.arange(len(keep))
    walked = _subset(trips, keep)
    walked.prev = np.where(walked.prev >= 0, new_index[np.maximum(walked.prev, 0)], -1).astype(np.int32)
    walked.next = np.where(walked.next >= 0, new_index[np.maximum(walked.next, 0)], -1).astype(np.int32)
    return Demand(trips=walked, paths=demand.paths, path_keys=demand.path_keys, scale=demand.scale,
                  places=demand.places, rides=_subset(demand.trips, choice.rows))


def ride_kpis(s: Scenario, choice: RideChoice, trips: Trips) -> dict[str, Any]:
    """The rides' KPIs for ``kpis.json`` (zeros when rides are off)."""
    out = choice.kpis(trips)
    out["rides_enabled"] = s.rides.enabled
    return out


__all__ = ["RideChoice", "Rides", "choose", "drive_network", "no_rides", "ride_kpis", "walks_left"]
