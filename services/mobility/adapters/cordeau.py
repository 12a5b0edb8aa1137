"""Cordeau-Laporte dial-a-ride files -> :class:`DarpProblem` (and its real-valued distances for costs).

Layout: ``K 2n T Q L`` (vehicles, nodes without the depot, maximum route duration, capacity, maximum ride
time), then ``id x y service load earliest latest`` from the depot (0), pick-ups 1..n, drop-offs n+1..2n.
Travel time is the Euclidean distance. Integer units are thousandths: travel times are rounded *up* (so
a plan feasible in these units is feasible with the exact distances), costs to the nearest unit; the
benchmark recomputes each plan's exact cost from :func:`read_cordeau`'s coordinates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np

from services.mobility.domain.darp import DarpProblem, tighten_windows

SCALE = 1000


@dataclass(frozen=True)
class CordeauInstance:
    name: str
    problem: DarpProblem
    xy: np.ndarray

    def exact_cost(self, routes: tuple[tuple[int, ...], ...]) -> float:
        """Total Euclidean length of the routes, from and back to the depot."""
        total = 0.0
        for route in routes:
            path = [0, *route, 0] if route else []
            total += sum(math.dist(self.xy[a], self.xy[b]) for a, b in pairwise(path))
        return total


def read_cordeau(path: str | Path) -> CordeauInstance:
    lines = [ln.split() for ln in Path(path).read_text().splitlines() if ln.strip()]
    try:
        k, two_n, duration, capacity, ride = (float(x) for x in lines[0][:5])
        rows = np.array([[float(x) for x in ln[:7]] for ln in lines[1:int(two_n) + 2]])
    except (ValueError, IndexError) as exc:
        raise ValueError(f"{path}: not a Cordeau-Laporte dial-a-ride file ({exc})") from exc
    n = int(two_n) // 2
    if rows.shape != (2 * n + 1, 7) or rows[0, 0] != 0:
        raise ValueError(f"{path}: expected {2 * n + 1} node lines starting with the depot")
    xy = rows[:, 1:3]
    d = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))
    vehicles = int(k)
    problem = DarpProblem(
        travel=np.ceil(d * SCALE - 1e-6).astype(np.int64),
        cost=np.rint(d * SCALE).astype(np.int64),
        service=np.rint(rows[:, 3] * SCALE).astype(np.int64),
        earliest=np.rint(rows[:, 5] * SCALE).astype(np.int64),
        latest=np.rint(rows[:, 6] * SCALE).astype(np.int64),
        load=rows[:, 4].astype(np.int64),
        pickups=np.arange(1, n + 1),
        deliveries=np.arange(n + 1, 2 * n + 1),
        max_ride=np.full(n, round(ride * SCALE)),
        starts=np.zeros(vehicles, dtype=np.int64),
        ends=np.zeros(vehicles, dtype=np.int64),
        capacity=np.full(vehicles, int(capacity)),
        max_duration=np.full(vehicles, round(duration * SCALE)),
    )
    return CordeauInstance(Path(path).stem, tighten_windows(problem), xy)
