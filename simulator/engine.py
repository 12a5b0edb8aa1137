"""The vectorised walking engine: every walker on the network advanced together, one minute per step.

Each step the walkers on the move read the density of the link they are on (from the previous step),
walk at their free speed slowed by Weidmann's speed-density relation, stop short of links that are full,
and the step records how many entered each link (flow) and how many agent-minutes each link held
(occupancy, hence density). When a walk ends, the person's next walk is scheduled after their dwell.
No Python loop runs over people, only over the 1,440 minutes; each walker looks at a window of the next
few links of its path only, which keeps a day of a quarter of a million people to seconds.

Priority when room is short is by trip id (lower first), for walkers on the move before newcomers, so
the outcome does not depend on array order and the Mesa implementation reproduces it exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import numpy as np

from simulator.demand import DAY_MIN, Trips
from simulator.network import PathTable, WalkNetwork

RHO_MAX = 5.4  # persons/m2 at which walking stops (Weidmann 1993)
WEIDMANN_GAMMA = 1.913
MIN_SPEED_FACTOR = 0.05
JAM_DENSITY = 0.8 * RHO_MAX  # a link this full admits nobody more: walkers queue on the link before it
WINDOW = 4  # links of its path a walker can reach within one minute (the move is capped at their end)
# Listeners told of every minute that any simulate() call in this context walks (see watch_minutes).
_MINUTE_WATCHERS: ContextVar[tuple[Callable[[int], None], ...]] = ContextVar("minute_watchers", default=())


@contextmanager
def watch_minutes(listener: Callable[[int], None]) -> Iterator[None]:
    """Within the block, every simulated minute of every :func:`simulate` call is also reported to
    ``listener`` (the minute of the day): the progress of a whole job whose inner calls take no
    ``on_minute`` of their own (a campaign's day and its replay). The listener may raise to stop the walk."""
    token = _MINUTE_WATCHERS.set((*_MINUTE_WATCHERS.get(), listener))
    try:
        yield
    finally:
        _MINUTE_WATCHERS.reset(token)


def speed_factor(density: np.ndarray) -> np.ndarray:
    """Weidmann's fundamental diagram, v/v0 as a function of density (persons/m2)."""
    with np.errstate(divide="ignore", over="ignore"):
        f = 1.0 - np.exp(-WEIDMANN_GAMMA * (1.0 / np.maximum(density, 1e-9) - 1.0 / RHO_MAX))
    return np.clip(f, MIN_SPEED_FACTOR, 1.0)


def _ranks(groups: np.ndarray) -> np.ndarray:
    """Position of each element within its group, in input order (0 for the first of a group)."""
    order = np.argsort(groups, kind="stable")
    sorted_groups = groups[order]
    first = np.searchsorted(sorted_groups, sorted_groups, side="left")
    ranks = np.empty(len(groups), dtype=np.int64)
    ranks[order] = np.arange(len(groups)) - first
    return ranks


def _fits(targets: np.ndarray, budget: np.ndarray) -> bool:
    """Whether every link has room for all who want to step onto it (then nobody needs ranking)."""
    return bool((np.bincount(targets, minlength=len(budget)) <= budget).all())


@dataclass
class _View:
    """The window of links ahead of each walker: starts[i, j] is where link j of the window begins."""

    starts: np.ndarray  # float [n, W], inf beyond the path's end
    ends: np.ndarray  # float [n, W], where each link of the window ends (inf beyond the path's end)
    links: np.ndarray  # int [n, W], -1 beyond the path's end
    limit: np.ndarray  # float [n], end of the window (capped at the path's length)
    total: np.ndarray  # float [n], path length

    @staticmethod
    def join(a: _View, b: _View) -> _View:
        return _View(*(np.concatenate([x, y]) for x, y in zip(
            (a.starts, a.ends, a.links, a.limit, a.total), (b.starts, b.ends, b.links, b.limit, b.total),
            strict=True)))


@dataclass
class _Padded:
    """Path arrays padded with WINDOW + 1 empty columns, flattened so windows are one ``take`` each."""

    starts: np.ndarray
    ends: np.ndarray
    links: np.ndarray
    total: np.ndarray
    stride: int

    @classmethod
    def of(cls, paths: PathTable) -> _Padded:
        n, width = paths.links.shape
        pad = WINDOW + 1
        starts = np.hstack([paths.start_m, np.full((n, pad), np.inf)])
        nxt = np.hstack([starts[:, 1:], np.full((n, 1), np.inf)])
        ends = np.where(np.isfinite(nxt), nxt, paths.length_m[:, None])
        links = np.hstack([paths.links, np.full((n, pad), -1, dtype=paths.links.dtype)])
        ends = np.where(links >= 0, ends, np.inf)
        return cls(starts=starts.ravel(), ends=ends.ravel(), links=links.ravel(), total=paths.length_m,
                   stride=width + pad)


def _view(padded: _Padded, path: np.ndarray, k: np.ndarray) -> _View:
    base = path.astype(np.int64) * padded.stride + k
    idx = base[:, None] + np.arange(WINDOW)[None, :]
    total = padded.total[path]
    return _View(starts=padded.starts.take(idx), ends=padded.ends.take(idx), links=padded.links.take(idx),
                 limit=np.minimum(padded.starts.take(base + WINDOW), total), total=total)


def _move(trips: Trips, v: _View, act: np.ndarray, dist: np.ndarray, density: np.ndarray,
          budget: np.ndarray) -> np.ndarray:
    """Where each walker gets to this minute: slowed by density, held before full links.

    ``budget`` (free places per link) shrinks by those who step onto a new link.
    """
    if len(act) == 0:
        return np.zeros(0)
    speed = trips.speed[act] * speed_factor(density[v.links[:, 0]])
    new = np.minimum(np.minimum(dist + speed, v.total), v.limit)
    cols = np.arange(WINDOW)[None, :]
    would_enter = (cols > 0) & (v.starts <= new[:, None]) & (v.links >= 0)
    jam = would_enter & (density[np.maximum(v.links, 0)] >= JAM_DENSITY)
    rows = np.flatnonzero(jam.any(axis=1))
    if len(rows):
        first = jam[rows].argmax(axis=1)
        new[rows] = np.maximum(dist[rows], v.starts[rows, first] - 0.01)
    entering = np.flatnonzero((v.starts[:, 1] <= new) & (v.links[:, 1] >= 0)) if WINDOW > 1 else np.zeros(0, int)
    if len(entering):
        target = v.links[entering, 1]
        if _fits(target, budget):
            admitted = np.ones(len(entering), dtype=bool)
        else:
            order = np.argsort(act[entering], kind="stable")
            entering, target = entering[order], target[order]
            admitted = _ranks(target) < budget[target]
        np.subtract.at(budget, target[admitted], 1.0)
        held = entering[~admitted]
        new[held] = np.maximum(dist[held], v.starts[held, 1] - 0.01)
    return new


@dataclass
class EngineResult:
    flow: np.ndarray  # int32 [minute, link]: walkers entering the link in that minute
    occupancy: np.ndarray  # float32 [minute, link]: agent-minutes spent on the link (= mean walkers on it)
    depart: np.ndarray  # int32 per trip: minute the walk started (-1 never)
    arrive: np.ndarray  # int32 per trip: minute the walk ended (-1 not within the day)
    active_agent_steps: int  # walker-minutes computed

    def density(self, net: WalkNetwork) -> np.ndarray:
        """Persons per m2, per minute and link."""
        return self.occupancy / net.link_area_m2[None, :].astype(np.float32)


def simulate(trips: Trips, paths: PathTable, net: WalkNetwork, *,
             on_minute: Callable[[int], None] | None = None) -> EngineResult:
    """Walk every trip of the day on the network; deterministic (no random draws inside)."""
    n_links = net.n_links
    area = net.link_area_m2
    flow = np.zeros((DAY_MIN, n_links), dtype=np.int32)
    occupancy = np.zeros((DAY_MIN, n_links), dtype=np.float32)
    depart = trips.depart.copy()
    arrive = np.full(len(trips), -1, dtype=np.int32)
    # Fixed-time walks by start minute; walks that follow a dwell join when the walk before them ends.
    fixed = np.flatnonzero(depart >= 0)
    fixed = fixed[np.argsort(depart[fixed], kind="stable")]
    bounds = np.searchsorted(depart[fixed], np.arange(DAY_MIN + 1))
    pending_trip = np.zeros(0, dtype=np.int64)  # walks waiting for a later minute (after a dwell, or deferred)
    pending_min = np.zeros(0, dtype=np.int64)
    padded = _Padded.of(paths)
    act = np.zeros(0, dtype=np.int64)
    dist = np.zeros(0)
    kcur = np.zeros(0, dtype=np.int64)
    density_prev = np.zeros(n_links)
    waiting = np.zeros(0, dtype=np.int64)
    steps = 0
    watchers = _MINUTE_WATCHERS.get()
    for t in range(DAY_MIN):
        budget = np.floor(np.maximum(JAM_DENSITY - density_prev, 0.0) * area)
        now = pending_min == t
        new_trips = np.concatenate([waiting, fixed[bounds[t]:bounds[t + 1]], pending_trip[now]])
        if now.any():
            pending_trip, pending_min = pending_trip[~now], pending_min[~now]
        if len(new_trips):
            prev = trips.prev[new_trips]
            ready = (prev < 0) | (arrive[np.maximum(prev, 0)] >= 0)  # a fixed second leg waits for the first
            if (~ready).any() and t + 1 < DAY_MIN:
                pending_trip = np.concatenate([pending_trip, new_trips[~ready]])
                pending_min = np.concatenate([pending_min, np.full(int((~ready).sum()), t + 1)])
            new_trips = np.sort(new_trips[ready])
        # Walkers on the move go first; newcomers take what room is left on their first link.
        view = _view(padded, trips.path[act], kcur)
        new_dist = _move(trips, view, act, dist, density_prev, budget)
        waiting = np.zeros(0, dtype=np.int64)
        if len(new_trips):
            first_link = paths.links[trips.path[new_trips], 0]
            room = np.ones(len(new_trips), dtype=bool) if _fits(first_link, budget) \
                else _ranks(first_link) < budget[first_link]
            np.subtract.at(budget, first_link[room], 1.0)
            waiting, new_trips = new_trips[~room], new_trips[room]
            depart[new_trips] = t
            zero = np.zeros(len(new_trips))
            k0 = np.zeros(len(new_trips), dtype=np.int64)
            view_new = _view(padded, trips.path[new_trips], k0)
            moved_new = _move(trips, view_new, new_trips, zero, density_prev, budget)
            act, dist, kcur = np.concatenate([act, new_trips]), np.concatenate([dist, zero]), np.concatenate([kcur, k0])
            new_dist = np.concatenate([new_dist, moved_new])
            view = _View.join(view, view_new)
        if len(act):
            steps += len(act)
            _account(view, dist, new_dist, flow[t], occupancy[t])
            density_prev = occupancy[t].astype(float) / area
            kcur = kcur + ((view.starts[:, 1:] <= new_dist[:, None]) & (view.links[:, 1:] >= 0)).sum(axis=1) \
                + ((view.limit <= new_dist) & (view.limit < view.total))
            done = new_dist >= view.total - 1e-9
            if done.any():
                finished = act[done]
                arrive[finished] = t
                nxt = trips.next[finished]
                nxt = nxt[nxt >= 0]
                after_dwell = nxt[trips.depart[nxt] < 0]
                if len(after_dwell):
                    when = t + 1 + trips.dwell[after_dwell].astype(np.int64)
                    pending_trip = np.concatenate([pending_trip, after_dwell[when < DAY_MIN]])
                    pending_min = np.concatenate([pending_min, when[when < DAY_MIN]])
                keep = ~done
                act, dist, kcur = act[keep], new_dist[keep], kcur[keep]
            else:
                dist = new_dist
        else:
            density_prev = np.zeros(n_links)
        if on_minute:
            on_minute(t)
        for watcher in watchers:
            watcher(t)
    return EngineResult(flow=flow, occupancy=occupancy, depart=depart, arrive=arrive, active_agent_steps=steps)


def _account(v: _View, dist: np.ndarray, new: np.ndarray, flow_row: np.ndarray, occ_row: np.ndarray) -> None:
    """Book this minute's entries per link and the time each walker spent on each link.

    Padded window cells have infinite starts and ends, so they book nothing; link -1 lands in bin 0, dropped.
    """
    n_links = len(flow_row)
    moved = new - dist
    overlap = np.clip(np.minimum(v.ends, new[:, None]) - np.maximum(v.starts, dist[:, None]), 0.0, None)
    share = overlap / np.where(moved > 0, moved, np.inf)[:, None]
    stuck = moved <= 0
    share[stuck, 0] = 1.0  # standing still for the whole minute counts on the current link
    bins = (v.links + 1).ravel()
    entered = ((v.starts >= dist[:, None]) & (v.starts < new[:, None])).ravel()
    flow_row[:] = np.bincount(bins[entered], minlength=n_links + 1)[1:]
    occ_row[:] = np.bincount(bins, weights=share.ravel(), minlength=n_links + 1)[1:]
