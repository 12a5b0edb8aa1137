"""Inter-route local search for VRPTW plans: relocate, swap and 2-opt* between two routes.

Ruin and recreate (``vrptw_improve``) puts customers back one at a time and or-opt only reorders within a
route, so a rebuilt plan often keeps a customer in the wrong route or two route tails crossed. These moves
fix that. Every candidate move of the whole plan is scored at once in numpy (a customer times a gap for
relocate, customer times customer for swap, cut times cut for 2-opt*), each checked for time windows and
capacity in O(1) from the earliest service start of each position (forward), the latest one that keeps
the rest of its route feasible (backward) and the load before and after it, as the insertion does. A
round applies the improving moves best first as long as each touches routes no earlier move of the round
touched (their gains stay exact), then scores the plan again, until no move pays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from services.logistics.domain.vrptw import VrptwProblem

_NEVER = np.iinfo(np.int64).max // 4  # the delta of a move that is not allowed


def apply_move(a: list[int], b: list[int], kind: int, ka: int, kb: int) -> tuple[list[int], list[int]]:
    """Routes ``a`` and ``b`` after one move at path indices ``ka``, ``kb`` (1 = the first customer): relocate
    a's customer after b's position ``kb`` (kind 0), swap the two customers (1), or swap the tails (2-opt*, 2)."""
    if kind == 0:
        return a[:ka - 1] + a[ka:], [*b[:kb], a[ka - 1], *b[kb:]]
    if kind == 1:
        return [*a[:ka - 1], b[kb - 1], *a[ka:]], [*b[:kb - 1], a[ka - 1], *b[kb:]]
    return a[:ka] + b[kb:], b[:kb] + a[ka:]


@dataclass(frozen=True)
class _Layout:
    """The plan's routes as one array of positions, each route as ``[0, *route, 0]`` one after the other:
    the node, its route, its earliest and latest service start, the load up to it and from it on."""

    node: np.ndarray
    route: np.ndarray
    early: np.ndarray
    late: np.ndarray
    before: np.ndarray
    after: np.ndarray
    offset: np.ndarray
    load: np.ndarray
    customers: np.ndarray  # positions of customers
    heads: np.ndarray      # positions that are not a route's end (a gap or a cut follows them)


class InterRoute:
    """Relocate, swap and 2-opt* between routes, best improvement, for one problem's data (identical
    vehicles: one capacity and one depot window)."""

    def __init__(self, problem: VrptwProblem) -> None:
        self.cost = problem.cost_matrix.astype(np.int64)
        self.transit = problem.travel.astype(np.int64) + problem.service.astype(np.int64)[:, None]
        self.ready = problem.ready.astype(np.int64)
        self.due = problem.due.astype(np.int64)
        self.demand = problem.demand.astype(np.int64)
        self.capacity = int(problem.capacity)
        self.fixed_cost = int(problem.fixed_cost)
        self._transit = self.transit.tolist()
        self._ready = self.ready.tolist()
        self._due = self.due.tolist()
        self._demand = self.demand.tolist()
        self._rows: dict[tuple[int, ...], np.ndarray] = {}

    def _route_rows(self, route: tuple[int, ...]) -> np.ndarray:
        """For ``[0, *route, 0]`` (columns): node, earliest and latest service start, load up to and
        from each position (rows); remembered per route, as a plan's routes mostly carry over."""
        hit = self._rows.get(route)
        if hit is not None:
            return hit
        if len(self._rows) > 20000:
            self._rows.clear()
        transit, ready, due, demand = self._transit, self._ready, self._due, self._demand
        path = [0, *route, 0]
        m = len(path)
        e = [ready[0]] * m
        b = [0] * m
        for k in range(1, m):
            e[k] = max(ready[path[k]], e[k - 1] + transit[path[k - 1]][path[k]])
            b[k] = b[k - 1] + demand[path[k]]
        lt = [due[0]] * m
        a = [0] * m
        for k in range(m - 2, -1, -1):
            lt[k] = min(due[path[k]], lt[k + 1] - transit[path[k]][path[k + 1]])
            a[k] = a[k + 1] + demand[path[k]]
        out = np.array([path, e, lt, b, a], np.int64)
        self._rows[route] = out
        return out

    def layout(self, routes: list[list[int]]) -> _Layout:
        blocks = [self._route_rows(tuple(r)) for r in routes]
        node, early, late, before, after = np.concatenate(blocks, axis=1)
        sizes = np.array([b.shape[1] for b in blocks], np.int64)
        ends = np.cumsum(sizes) - 1
        offset = ends - sizes + 1
        is_head = np.ones(len(node), bool)
        is_head[ends] = False
        is_customer = is_head.copy()
        is_customer[offset] = False
        return _Layout(node=node, route=np.repeat(np.arange(len(blocks)), sizes), early=early, late=late,
                       before=before, after=after, offset=offset, load=before[ends],
                       customers=np.flatnonzero(is_customer), heads=np.flatnonzero(is_head))

    def relocate_deltas(self, lay: _Layout, cu: np.ndarray | None = None, g: np.ndarray | None = None
                        ) -> np.ndarray:
        """Cost change of moving the customer at each position ``cu`` (rows; default ``customers``) into
        the gap after each position ``g`` (columns; default ``heads``) of another route; ``_NEVER`` where
        not allowed."""
        cost, transit = self.cost, self.transit
        cu = lay.customers if cu is None else cu
        g = lay.heads if g is None else g
        node, early, late = lay.node, lay.early, lay.late
        u, a, b = node[cu], node[cu - 1], node[cu + 1]
        out_ok = early[cu - 1] + transit[a, b] <= late[cu + 1]
        saved = cost[a, u] + cost[u, b] - cost[a, b]
        alone = (lay.load[lay.route[cu]] == self.demand[u]) & (a == 0) & (b == 0)
        saved = saved + self.fixed_cost * alone
        p, q = node[g], node[g + 1]
        uc = u[:, None]
        start = np.maximum(early[g][None, :] + transit[p[None, :], uc], self.ready[uc])
        ok = (start <= self.due[uc]) & (start + transit[uc, q[None, :]] <= late[g + 1][None, :])
        ok &= lay.load[lay.route[g]][None, :] + self.demand[uc] <= self.capacity
        ok &= lay.route[cu][:, None] != lay.route[g][None, :]
        ok &= out_ok[:, None]
        delta = cost[p[None, :], uc] + cost[uc, q[None, :]] - cost[p, q][None, :] - saved[:, None]
        return np.where(ok, delta, _NEVER)

    def swap_deltas(self, lay: _Layout, rows: np.ndarray | None = None) -> np.ndarray:
        """Cost change of exchanging the customers at positions ``rows`` (default ``customers``) with
        those at ``customers`` (columns) when they are in different routes."""
        cost, transit = self.cost, self.transit
        ci = lay.customers if rows is None else rows
        cj = lay.customers
        node, early, late = lay.node, lay.early, lay.late
        ui, pi, ni = node[ci][:, None], node[ci - 1][:, None], node[ci + 1][:, None]
        vj, pj, nj = node[cj][None, :], node[cj - 1][None, :], node[cj + 1][None, :]
        # u into v's place (column's slot), v into u's place (row's slot)
        su = np.maximum(early[cj - 1][None, :] + transit[pj, ui], self.ready[ui])
        ok = (su <= self.due[ui]) & (su + transit[ui, nj] <= late[cj + 1][None, :])
        sv = np.maximum(early[ci - 1][:, None] + transit[pi, vj], self.ready[vj])
        ok &= (sv <= self.due[vj]) & (sv + transit[vj, ni] <= late[ci + 1][:, None])
        load_i, load_j = lay.load[lay.route[ci]][:, None], lay.load[lay.route[cj]][None, :]
        du, dv = self.demand[ui], self.demand[vj]
        ok &= (load_i - du + dv <= self.capacity) & (load_j - dv + du <= self.capacity)
        ok &= lay.route[ci][:, None] != lay.route[cj][None, :]
        delta = (cost[pj, ui] + cost[ui, nj] - cost[pj, vj] - cost[vj, nj]
                 + cost[pi, vj] + cost[vj, ni] - cost[pi, ui] - cost[ui, ni])
        return np.where(ok, delta, _NEVER)

    def two_opt_star_deltas(self, lay: _Layout, rows: np.ndarray | None = None) -> np.ndarray:
        """Cost change of cutting after position i (``rows``, default ``heads``) and after position j
        (columns: ``heads``) in two routes and exchanging the tails: ``i``'s route keeps its head and
        takes ``j``'s tail."""
        cost, transit = self.cost, self.transit
        hi = lay.heads if rows is None else rows
        h = lay.heads
        node, early, late, before, after = lay.node, lay.early, lay.late, lay.before, lay.after
        ni, nj = node[hi][:, None], node[h][None, :]
        si, sj = node[hi + 1][:, None], node[h + 1][None, :]
        ok = early[hi][:, None] + transit[ni, sj] <= late[h + 1][None, :]
        ok &= early[h][None, :] + transit[nj, si] <= late[hi + 1][:, None]
        ok &= before[hi][:, None] + after[h + 1][None, :] <= self.capacity
        ok &= before[h][None, :] + after[hi + 1][:, None] <= self.capacity
        ok &= lay.route[hi][:, None] != lay.route[h][None, :]
        delta = cost[ni, sj] + cost[nj, si] - cost[ni, si] - cost[nj, sj]
        if self.fixed_cost:
            # a route left with neither head nor tail is no longer driven
            head_empty = (ni == 0) & (sj == 0)
            delta = delta - self.fixed_cost * (head_empty | ((nj == 0) & (si == 0)))
        return np.where(ok, delta, _NEVER)

    def optimise(self, routes: list[list[int]], dirty: set[int] | None = None, max_rounds: int = 50
                 ) -> tuple[list[list[int]], int]:
        """``routes`` after applying improving moves until none pays (or ``max_rounds``), with the total
        cost change; empty routes are dropped. Only moves that touch a route in ``dirty`` (indices into
        ``routes``; default all) are looked at in the first round, then only those touching a route the
        previous round changed: the others were looked at already."""
        routes = [list(r) for r in routes]
        dirty = set(range(len(routes))) if dirty is None else set(dirty)
        total = 0
        for _ in range(max_rounds):
            keep = [k for k, r in enumerate(routes) if r]
            dirty = {keep.index(k) for k in dirty if routes[k]}
            routes = [routes[k] for k in keep]
            if len(routes) < 2 or not dirty:
                break
            lay = self.layout(routes)
            fresh = np.isin(lay.route, np.fromiter(dirty, np.int64))
            cu, heads = lay.customers, lay.heads
            cu_new, cu_old = cu[fresh[cu]], cu[~fresh[cu]]
            h_new = heads[fresh[heads]]
            blocks = [(0, cu_new, heads, self.relocate_deltas(lay, cu_new, heads)),
                      (0, cu_old, h_new, self.relocate_deltas(lay, cu_old, h_new)),
                      (1, cu_new, cu, self.swap_deltas(lay, cu_new)),
                      (2, h_new, heads, self.two_opt_star_deltas(lay, h_new))]
            candidates: list[tuple[int, int, int, int]] = []
            for kind, rows, cols, delta in blocks:
                flat = np.flatnonzero(delta < 0)
                if len(flat):
                    i, j = np.divmod(flat, delta.shape[1])
                    candidates += zip(delta.ravel()[flat].tolist(), [kind] * len(flat), rows[i].tolist(),
                                      cols[j].tolist(), strict=True)
            if not candidates:
                break
            candidates.sort()
            dirty = set()
            new = [list(r) for r in routes]
            for gain, kind, pi, pj in candidates:
                ra, rb = int(lay.route[pi]), int(lay.route[pj])
                if ra in dirty or rb in dirty:
                    continue
                dirty.update((ra, rb))
                ka, kb = pi - int(lay.offset[ra]), pj - int(lay.offset[rb])  # path indices
                new[ra], new[rb] = apply_move(routes[ra], routes[rb], kind, ka, kb)
                total += gain
            routes = new
        return [r for r in routes if r], total
