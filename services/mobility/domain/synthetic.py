"""A seeded synthetic day of ride requests and a fleet, for tests and the dispatch benchmark.

Places are points in a square city with travel times from straight-line distance at a fixed speed
(times are shortest paths, as the insertion bound assumes). Demand has morning and evening peaks.
"""

from __future__ import annotations

import numpy as np

from services.mobility.domain.fleet import RideRequest, Vehicle


def city(n_places: int, seed: int, size_m: float = 8000.0, speed_kmh: float = 25.0
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(xy in metres, travel seconds, distance metres) for ``n_places`` random places."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, size_m, (n_places, 2))
    dist = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1)) * 1.3  # detour factor of streets
    travel = np.rint(dist / (speed_kmh / 3.6)).astype(np.int64)
    return xy, travel, np.rint(dist).astype(np.int64)


def requests(n: int, n_places: int, travel: np.ndarray, seed: int, day_start: int = 6 * 3600,
             day_end: int = 22 * 3600, slack: int = 1200) -> list[RideRequest]:
    """``n`` requests sorted by time: earliest pick-up when they are made (or up to 30 min ahead),
    latest arrival ``slack`` after the direct ride; parties of 1-3."""
    rng = np.random.default_rng(seed)
    peaks = rng.choice(3, size=n, p=[0.35, 0.35, 0.30])
    centre = np.array([8 * 3600, 18 * 3600, 13 * 3600])[peaks]
    spread = np.array([3600, 3600, 3 * 3600])[peaks]
    made = np.clip(rng.normal(centre, spread), day_start, day_end).astype(np.int64)
    made.sort()
    out = []
    for k, t in enumerate(made):
        o, dst = rng.choice(n_places, 2, replace=False)
        ahead = int(rng.choice([0, 0, 0, 600, 1800]))
        direct = int(travel[o, dst])
        party = int(rng.choice([1, 1, 1, 2, 3]))
        out.append(RideRequest(f"r{k:05d}", int(o), int(dst), int(t) + ahead, int(t) + ahead + direct + slack, party))
    return out


def fleet(n: int, n_places: int, seed: int, capacity: int = 4, start: int = 6 * 3600,
          end: int = 23 * 3600) -> list[Vehicle]:
    rng = np.random.default_rng(seed)
    return [Vehicle(f"v{k:03d}", int(rng.integers(n_places)), start, capacity, end) for k in range(n)]


def made_at(req: RideRequest) -> int:
    """When the request was made (the stream's clock): never after its earliest pick-up."""
    return req.earliest_pickup
