"""The same walking model written the usual Mesa way (one Python object per person), as a yardstick.

Every person is a :class:`mesa.Agent`; each minute the model activates all of them; an agent on a walk
reads the density of its link from the previous minute, walks (slowed by Weidmann's relation, held
before full links), and books its flow and occupancy. Same inputs, same rules as the vectorised engine,
so the benchmark compares implementations, not models.
"""

from __future__ import annotations

import math

import mesa
import numpy as np

from simulator.demand import DAY_MIN, Trips
from simulator.engine import JAM_DENSITY, MIN_SPEED_FACTOR, RHO_MAX, WEIDMANN_GAMMA, WINDOW
from simulator.network import PathTable, WalkNetwork


def _speed_factor(density: float) -> float:
    if density <= 1e-9:
        return 1.0
    f = 1.0 - math.exp(-WEIDMANN_GAMMA * (1.0 / density - 1.0 / RHO_MAX))
    return min(1.0, max(MIN_SPEED_FACTOR, f))


class Walker(mesa.Agent):
    """A person with one or two walks; at most one of them under way."""

    def __init__(self, model: WalkingModel, legs: list[int]) -> None:
        super().__init__(model)
        self.legs = legs
        self.leg = -1  # index into legs of the walk under way, -1 none
        self.dist = 0.0
        self.k = 0

    def start(self, trip: int) -> None:
        self.leg = self.legs.index(trip)
        self.dist = 0.0
        self.k = 0

    def step(self) -> None:
        if self.leg < 0:
            return
        m: WalkingModel = self.model  # type: ignore[assignment]
        trip = self.legs[self.leg]
        path = int(m.trips.path[trip])
        links, starts, total = m.path_links[path], m.path_starts[path], m.path_total[path]
        while self.k + 1 < len(links) and starts[self.k + 1] <= self.dist:
            self.k += 1
        speed = float(m.trips.speed[trip]) * _speed_factor(m.density_prev[links[self.k]])
        horizon = min(len(links), self.k + WINDOW)  # links reachable within the minute
        limit = starts[horizon] if horizon < len(links) else total
        target = min(self.dist + speed, total, limit)
        j = self.k + 1
        while j < horizon and starts[j] <= target:  # hold before a full link
            if m.density_prev[links[j]] >= JAM_DENSITY or (j == self.k + 1 and m.budget[links[j]] < 1.0):
                target = max(self.dist, starts[j] - 0.01)
                break
            if j == self.k + 1:
                m.budget[links[j]] -= 1.0
            j += 1
        moved = target - self.dist
        for i in range(len(links)):
            a = starts[i]
            b = starts[i + 1] if i + 1 < len(links) else total
            if a >= self.dist and a < target:
                m.flow_now[links[i]] += 1
            if moved > 0:
                overlap = min(b, target) - max(a, self.dist)
                if overlap > 0:
                    m.occ_now[links[i]] += overlap / moved
            elif i == self.k:
                m.occ_now[links[i]] += 1.0
        self.dist = target
        if target >= total - 1e-9:
            m.arrive[trip] = m.minute
            self.leg = -1
            nxt = int(m.trips.next[trip])
            if nxt >= 0 and m.trips.depart[nxt] < 0:
                m.schedule(m.minute + 1 + int(m.trips.dwell[nxt]), nxt)


class WalkingModel(mesa.Model):
    """The model owns the clock and the per-link tallies; agents do the walking."""

    def __init__(self, trips: Trips, paths: PathTable, net: WalkNetwork, seed: int = 0) -> None:
        super().__init__(seed=seed)
        self.trips, self.net = trips, net
        self.path_links = [[int(x) for x in row[row >= 0]] for row in paths.links]
        self.path_starts = [[float(x) for x in row[np.isfinite(row)]] for row in paths.start_m]
        self.path_total = [float(x) for x in paths.length_m]
        self.area = net.link_area_m2.tolist()
        self.density_prev = [0.0] * net.n_links
        self.budget = [0.0] * net.n_links
        self.flow = np.zeros((DAY_MIN, net.n_links), dtype=np.int32)
        self.arrive = np.full(len(trips), -1, dtype=np.int32)
        self.depart = np.full(len(trips), -1, dtype=np.int32)
        self.minute = 0
        self.agent_steps = 0  # every agent visited every minute
        self.active_steps = 0  # agent-minutes spent walking
        self._due: dict[int, list[int]] = {}
        self._waiting: list[int] = []
        legs: dict[int, list[int]] = {}
        for i, a in enumerate(trips.agent.tolist()):
            legs.setdefault(a, []).append(i)
        self.owner: dict[int, Walker] = {}
        for a in sorted(legs):
            walker = Walker(self, legs[a])
            for t in legs[a]:
                self.owner[t] = walker
        for i, d in enumerate(trips.depart.tolist()):
            if d >= 0:
                self.schedule(d, i)

    def schedule(self, minute: int, trip: int) -> None:
        if minute < DAY_MIN:
            self._due.setdefault(minute, []).append(trip)

    def step(self) -> None:
        t = self.minute
        self.budget = [max(JAM_DENSITY - d, 0.0) * a for d, a in zip(self.density_prev, self.area, strict=True)]
        self.budget = [math.floor(b) for b in self.budget]
        self.flow_now = [0] * self.net.n_links
        self.occ_now = [0.0] * self.net.n_links
        due, self._waiting = sorted(self._waiting + self._due.pop(t, [])), []
        ready = []
        for trip in due:  # a second leg whose first leg is still under way waits a minute
            prev = int(self.trips.prev[trip])
            if prev >= 0 and self.arrive[prev] < 0:
                self.schedule(t + 1, trip)
            else:
                ready.append(trip)
        walking = sum(1 for w in self.agents if w.leg >= 0)
        self.agents.do("step")  # in creation order, which is trip-id order: the engine's priority rule
        for trip in ready:
            first = self.path_links[int(self.trips.path[trip])][0]
            if self.budget[first] < 1.0:
                self._waiting.append(trip)
                continue
            self.budget[first] -= 1.0
            self.depart[trip] = t
            walker = self.owner[trip]
            walker.start(trip)
            walker.step()
        self.agent_steps += len(self.agents)
        self.active_steps += walking + len(ready) - len(self._waiting)
        self.flow[t] = self.flow_now
        self.density_prev = [o / a for o, a in zip(self.occ_now, self.area, strict=True)]
        self.minute += 1


def run_mesa(trips: Trips, paths: PathTable, net: WalkNetwork, minutes: int = DAY_MIN) -> WalkingModel:
    model = WalkingModel(trips, paths, net)
    for _ in range(minutes):
        model.step()
    return model
