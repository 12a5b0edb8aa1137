"""The welfare-maximising clearing as a min-cost flow network, built from arrays.

Flow is energy in Wh; arc costs are sen/kWh, negative where a buyer values the energy. Paths:

    source -> sell order -> pool -> [green node ->] buy order -> sink

A *pool* mixes the energy of one market place: tier B (the community market over the grid, the wheeling
fee is on the seller's arc into it) or tier A of one site (the private line, no fee). Each place has a
renewable pool R and an "any" pool N, with a free R -> N transfer: renewable kWh can serve anyone, but
only R reaches a buyer's green node, whose arc carries the green premium. A site's line capacity sits on
one merge arc in front of its A pools; that is exact when the site's sellers are of one origin or no
buyer on it pays a green premium. Otherwise two kinds of energy share one capacity, which no single flow
expresses: the limit becomes a *bundle* (a side constraint on several arcs, for the LP), or, as a
relaxation, the merge arc feeds the renewable pool, or, as a restriction, it is split into a renewable and
an other arc at a given share (see ``build_network``). ``build_class_network`` is the bundled model with
interchangeable orders merged, small enough for a fast LP that finds the right share. Preferred partners get a
direct arc carrying their premium. The grid, when present, sells to every buyer at its retail price and
buys from every seller at its buy-back price (the grid's unsold supply drains through a spare arc). A
zero-cost bypass source -> sink lets any seller's energy stay untraded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from services.market.domain.problem import NO_SITE, Problem, Rules

# Arc kinds.
SRC_SELL, SELL_POOL, LINE, TRANSFER, POOL_BUY, GREEN, BUY_SINK = 0, 1, 2, 3, 4, 5, 6
DIRECT, GRID_SRC, GRID_BUY, SELL_GRID, GRID_SINK, BYPASS, GRID_SPARE = 7, 8, 9, 10, 11, 12, 13

TIER_B, TIER_A, TIER_GRID = 0, 1, 2
SOURCE, SINK, GRID_SELLER, GRID_BUYER = 0, 1, 2, 3
_FIXED_NODES = 4


@dataclass(frozen=True)
class Network:
    """Arcs as parallel columns; ``sell``/``buy``/``pool`` say which order or pool an arc belongs to."""

    n_nodes: int
    tail: np.ndarray
    head: np.ndarray
    cap: np.ndarray
    cost: np.ndarray
    kind: np.ndarray
    sell: np.ndarray
    buy: np.ndarray
    pool: np.ndarray
    tier: np.ndarray
    supply: int
    pool_tier: np.ndarray       # per pool: TIER_A or TIER_B
    pool_site: np.ndarray       # per pool: site code or NO_SITE
    pool_renewable: np.ndarray  # per pool: True for an R pool
    bundles: tuple[tuple[np.ndarray, int], ...]  # (arc indices, capacity in Wh)
    optimistic_sites: tuple[int, ...] = ()       # shared lines modelled as if all their energy were renewable


class _Arcs:
    """Accumulates arc columns block by block (one numpy block per arc family)."""

    def __init__(self) -> None:
        self.blocks: list[tuple[np.ndarray, ...]] = []
        self.count = 0

    def add(self, tail: npt.ArrayLike, head: npt.ArrayLike, cap: npt.ArrayLike, cost: npt.ArrayLike,
            kind: npt.ArrayLike, sell: npt.ArrayLike = -1, buy: npt.ArrayLike = -1, pool: npt.ArrayLike = -1,
            tier: npt.ArrayLike = TIER_B) -> np.ndarray:
        values = [np.asarray(v, dtype=np.int64) for v in (tail, head, cap, cost, kind, sell, buy, pool, tier)]
        sizes = [v.size for v in values if v.ndim]
        n = min(sizes) if sizes else 1
        cols = [np.broadcast_to(v, (n,)).copy() for v in values]
        self.blocks.append(tuple(cols))
        idx = np.arange(self.count, self.count + n)
        self.count += n
        return idx

    def columns(self) -> list[np.ndarray]:
        if not self.blocks:
            return [np.zeros(0, dtype=np.int64) for _ in range(9)]
        return [np.concatenate([b[k] for b in self.blocks]) for k in range(9)]


def build_network(p: Problem, rules: Rules, shared_lines: str = "bundle",
                  split: Mapping[int, int] | None = None) -> Network:
    """The clearing network. ``shared_lines`` says how a limited line carrying renewable and other energy
    to green buyers is modelled: ``"bundle"`` exactly, as a side constraint (LP only); ``"renewable"`` as a
    relaxation that is a pure flow: all the line's energy may serve green buyers. A relaxed solution whose
    green buyers on such a line get no more than the renewable kWh crossing it is exact (see ``solvers``).

    ``split`` maps such sites to a renewable share of their line (Wh): the line becomes two arcs, that share
    for renewable sellers and the rest for the others. A pure flow again, and a restriction of the exact
    model (every solution is feasible), so its optimum is exact when it meets a relaxation's bound.
    """
    if shared_lines not in ("bundle", "renewable"):
        raise ValueError("shared_lines must be 'bundle' or 'renewable'")
    split = split or {}
    n_s, n_b, n_k = p.n_sell, p.n_buy, len(p.sites)
    # Pools: 0 = B/R, 1 = B/N, then per site k: 2 + 2k = A/R, 3 + 2k = A/N.  Line nodes follow, and the
    # second line nodes of split sites at the very end.
    n_pools = 2 + 2 * n_k
    pool_base = _FIXED_NODES
    line_base = pool_base + n_pools
    sell_base = line_base + n_k
    buy_base = sell_base + n_s
    green_base = buy_base + n_b
    split_base = green_base + n_b
    n_nodes = split_base + (n_k if split else 0)
    pool_tier = np.array([TIER_B, TIER_B] + [TIER_A] * (2 * n_k), dtype=np.int64)
    pool_site = np.array([NO_SITE, NO_SITE] + [k for k in range(n_k) for _ in (0, 1)], dtype=np.int64)
    pool_renewable = np.array([True, False] * (1 + n_k))

    s_idx = np.arange(n_s)
    b_idx = np.arange(n_b)
    green = p.buy_bonus > 0
    arcs = _Arcs()
    total_sell = int(p.sell_wh.sum())
    total_buy = int(p.buy_wh.sum())

    # Sellers.
    arcs.add(SOURCE, sell_base + s_idx, p.sell_wh, p.sell_ask, SRC_SELL, sell=s_idx)
    b_pool = np.where(p.sell_renewable, 0, 1)
    arcs.add(sell_base + s_idx, pool_base + b_pool, p.sell_wh, rules.wheeling_sen, SELL_POOL,
             sell=s_idx, pool=b_pool)

    # Tier A: sellers on a site enter its pools, through the line when it is limited.
    bundles: list[tuple[np.ndarray, int]] = []
    optimistic: list[int] = []
    on_site = p.sell_site != NO_SITE
    site_green_buyers = np.zeros(n_k, dtype=bool)
    if n_k:
        site_green_buyers[p.buy_site[(p.buy_site != NO_SITE) & green]] = True
    for k in range(n_k):
        members = s_idx[on_site & (p.sell_site == k)]
        if not len(members):
            continue
        ren = p.sell_renewable[members]
        line_cap = int(p.line_cap_wh[k])
        pools = np.where(ren, 2 + 2 * k, 3 + 2 * k)
        mixed = ren.any() and not ren.all() and site_green_buyers[k]
        if line_cap < 0:
            arcs.add(sell_base + members, pool_base + pools, p.sell_wh[members], 0, SELL_POOL,
                     sell=members, pool=pools, tier=TIER_A)
        elif mixed and k in split:
            share = min(max(int(split[k]), 0), line_cap)
            line = np.where(ren, line_base + k, split_base + k)
            arcs.add(sell_base + members, line, p.sell_wh[members], 0, SELL_POOL, sell=members, pool=pools,
                     tier=TIER_A)
            arcs.add([line_base + k, split_base + k], [pool_base + 2 + 2 * k, pool_base + 3 + 2 * k],
                     [share, line_cap - share], 0, LINE, pool=[2 + 2 * k, 3 + 2 * k], tier=TIER_A)
        elif ren.all() or (~ren).all() or not site_green_buyers[k] or shared_lines == "renewable":
            target = 2 + 2 * k if ren.all() or (ren.any() and site_green_buyers[k]) else 3 + 2 * k
            if not (ren.all() or (~ren).all() or not site_green_buyers[k]):
                optimistic.append(k)
            arcs.add(sell_base + members, line_base + k, p.sell_wh[members], 0, SELL_POOL,
                     sell=members, pool=target, tier=TIER_A)
            arcs.add(line_base + k, pool_base + target, line_cap, 0, LINE, pool=target, tier=TIER_A)
        else:
            idx = arcs.add(sell_base + members, pool_base + pools, p.sell_wh[members], 0, SELL_POOL,
                           sell=members, pool=pools, tier=TIER_A)
            bundles.append((idx, line_cap))

    # Renewable pools may pass energy on to their "any" pool.
    big = max(total_sell, 1)
    for pr in range(0, n_pools, 2):
        arcs.add(pool_base + pr, pool_base + pr + 1, big, 0, TRANSFER, pool=pr, tier=int(pool_tier[pr]))

    # Buyers: every buyer reaches the B pools; a buyer on a site also reaches that site's A pools.
    arcs.add(pool_base + 1, buy_base + b_idx, p.buy_wh, 0, POOL_BUY, buy=b_idx, pool=1)
    g_idx = b_idx[green]
    arcs.add(pool_base + 0, green_base + g_idx, p.buy_wh[g_idx], 0, POOL_BUY, buy=g_idx, pool=0)
    sited = b_idx[p.buy_site != NO_SITE]
    has_sellers = np.zeros(n_k, dtype=bool)
    if n_k and on_site.any():
        has_sellers[p.sell_site[on_site]] = True
    sited = sited[has_sellers[p.buy_site[sited]]] if len(sited) else sited
    a_n = 3 + 2 * p.buy_site[sited]
    arcs.add(pool_base + a_n, buy_base + sited, p.buy_wh[sited], 0, POOL_BUY, buy=sited, pool=a_n, tier=TIER_A)
    sited_green = sited[green[sited]]
    a_r = 2 + 2 * p.buy_site[sited_green]
    arcs.add(pool_base + a_r, green_base + sited_green, p.buy_wh[sited_green], 0, POOL_BUY,
             buy=sited_green, pool=a_r, tier=TIER_A)
    arcs.add(green_base + g_idx, buy_base + g_idx, p.buy_wh[g_idx], -p.buy_bonus[g_idx], GREEN, buy=g_idx)
    arcs.add(buy_base + b_idx, SINK, p.buy_wh, -p.buy_limit, BUY_SINK, buy=b_idx)

    # Preferred partners: a direct arc carrying the premium (tier B; tier A too where the line is free).
    if len(p.pref_sell):
        ps, pb = p.pref_sell, p.pref_buy
        head = np.where(green[pb] & p.sell_renewable[ps], green_base + pb, buy_base + pb)
        cap = np.minimum(p.sell_wh[ps], p.buy_wh[pb])
        arcs.add(sell_base + ps, head, cap, rules.wheeling_sen - rules.preferred_premium_sen, DIRECT,
                 sell=ps, buy=pb, tier=TIER_B)
        same = (p.sell_site[ps] != NO_SITE) & (p.sell_site[ps] == p.buy_site[pb])
        if same.any():
            free = same.copy()
            free[same] = p.line_cap_wh[p.sell_site[ps][same]] < 0
            if free.any():
                arcs.add(sell_base + ps[free], head[free], cap[free], -rules.preferred_premium_sen, DIRECT,
                         sell=ps[free], buy=pb[free], tier=TIER_A)

    # The grid as residual seller and buyer.
    supply = total_sell
    if rules.grid_retail_sen is not None and n_b:  # the grid takes part (both prices or neither)
        arcs.add(SOURCE, GRID_SELLER, total_buy, 0, GRID_SRC, tier=TIER_GRID)
        arcs.add(GRID_SELLER, buy_base + b_idx, p.buy_wh, rules.grid_retail_sen, GRID_BUY, buy=b_idx, tier=TIER_GRID)
        arcs.add(GRID_SELLER, SINK, total_buy, 0, GRID_SPARE, tier=TIER_GRID)
        supply += total_buy
    if rules.grid_buyback_sen is not None and n_s:
        arcs.add(sell_base + s_idx, GRID_BUYER, p.sell_wh, 0, SELL_GRID, sell=s_idx, tier=TIER_GRID)
        arcs.add(GRID_BUYER, SINK, total_sell, -rules.grid_buyback_sen, GRID_SINK, tier=TIER_GRID)
    arcs.add(SOURCE, SINK, total_sell, 0, BYPASS)

    tail, head, cap, cost, kind, sell, buy, pool, tier = arcs.columns()
    return Network(n_nodes=n_nodes, tail=tail, head=head, cap=cap, cost=cost, kind=kind, sell=sell, buy=buy,
                   pool=pool, tier=tier, supply=supply, pool_tier=pool_tier, pool_site=pool_site,
                   pool_renewable=pool_renewable, bundles=tuple(bundles), optimistic_sites=tuple(optimistic))


def _classes(*keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Class index per order and the first order of each class, for orders keyed by several columns."""
    if not len(keys[0]):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    _, first, inverse = np.unique(np.stack(keys, axis=1), axis=0, return_index=True, return_inverse=True)
    return inverse.ravel().astype(np.int64), first.astype(np.int64)


def build_class_network(p: Problem, rules: Rules) -> tuple[Network, dict[int, int]]:
    """The exact model (shared lines as bundles) with orders merged into classes, for the LP only.

    Sellers with the same site and origin have the same options and pay their ask whatever the buyer,
    so one class node per (site, origin) carries their energy to the pools and the grid, and each seller
    is a single arc into it; likewise buyers per (site, green premium). Orders in preferred pairs keep a
    node of their own for their direct arcs. The LP has one row per class instead of one per order, and
    a quarter of the columns. Returns the network and, per bundled site, the arc of renewable energy
    over its line (its flow is the renewable share of the line at the optimum).
    """
    n_s, n_b, n_k = p.n_sell, p.n_buy, len(p.sites)
    green = p.buy_bonus > 0
    s_class, s_first = _classes(p.sell_site, p.sell_renewable.astype(np.int64))
    b_class, b_first = _classes(p.buy_site, p.buy_bonus)
    n_sc, n_bc = len(s_first), len(b_first)
    pref_s = np.unique(p.pref_sell)
    pref_b = np.unique(p.pref_buy)
    n_pools = 2 + 2 * n_k
    pool_base = _FIXED_NODES
    line_base = pool_base + n_pools
    sc_base = line_base + n_k
    bc_base = sc_base + n_sc          # buyer class node
    gc_base = bc_base + n_bc          # buyer class green node
    ps_base = gc_base + n_bc          # preferred seller's own node, by position in pref_s
    pb_base = ps_base + len(pref_s)   # preferred buyer's own node
    pg_base = pb_base + len(pref_b)   # preferred buyer's own green node
    n_nodes = pg_base + len(pref_b)
    arcs = _Arcs()
    total_sell = int(p.sell_wh.sum())
    total_buy = int(p.buy_wh.sum())
    s_idx, b_idx = np.arange(n_s), np.arange(n_b)

    # Sellers into their class (through their own node when in a preferred pair).
    is_ps = np.isin(s_idx, pref_s)
    own_s = ps_base + np.searchsorted(pref_s, s_idx)
    arcs.add(SOURCE, np.where(is_ps, own_s, sc_base + s_class), p.sell_wh, p.sell_ask, SRC_SELL, sell=s_idx)
    arcs.add(own_s[is_ps], sc_base + s_class[is_ps], p.sell_wh[is_ps], 0, SELL_POOL, sell=s_idx[is_ps])
    class_wh = np.bincount(s_class, weights=p.sell_wh, minlength=n_sc).astype(np.int64)
    c_site, c_ren = p.sell_site[s_first], p.sell_renewable[s_first]
    c_idx = np.arange(n_sc)
    arcs.add(sc_base + c_idx, pool_base + np.where(c_ren, 0, 1), class_wh, rules.wheeling_sen, SELL_POOL)
    site_green_buyers = np.zeros(n_k, dtype=bool)
    if n_k:
        site_green_buyers[p.buy_site[(p.buy_site != NO_SITE) & green]] = True
    bundles: list[tuple[np.ndarray, int]] = []
    renewable_arc: dict[int, int] = {}
    for k in range(n_k):
        members = c_idx[c_site == k]
        if not len(members):
            continue
        ren = c_ren[members]
        line_cap = int(p.line_cap_wh[k])
        pools = np.where(ren, 2 + 2 * k, 3 + 2 * k)
        if line_cap < 0 or (ren.any() and not ren.all() and site_green_buyers[k]):
            idx = arcs.add(sc_base + members, pool_base + pools, class_wh[members], 0, SELL_POOL, tier=TIER_A)
            if line_cap >= 0:
                bundles.append((idx, line_cap))
                renewable_arc[k] = int(idx[ren][0])
        else:
            target = 2 + 2 * k if ren.all() else 3 + 2 * k
            arcs.add(sc_base + members, line_base + k, class_wh[members], 0, SELL_POOL, tier=TIER_A)
            arcs.add(line_base + k, pool_base + target, line_cap, 0, LINE, tier=TIER_A)
    big = max(total_sell, 1)
    for pr in range(0, n_pools, 2):
        arcs.add(pool_base + pr, pool_base + pr + 1, big, 0, TRANSFER)

    # Buyer classes: from the pools (renewable ones through the green node, which adds the premium).
    d_site, d_bonus = p.buy_site[b_first], p.buy_bonus[b_first]
    d_idx = np.arange(n_bc)
    demand = np.bincount(b_class, weights=p.buy_wh, minlength=n_bc).astype(np.int64)
    has_sellers = np.zeros(n_k, dtype=bool)
    on_site = p.sell_site != NO_SITE
    if n_k and on_site.any():
        has_sellers[p.sell_site[on_site]] = True
    d_green = d_bonus > 0
    arcs.add(pool_base + 1, bc_base + d_idx, demand, 0, POOL_BUY)
    arcs.add(pool_base + 0, gc_base + d_idx[d_green], demand[d_green], 0, POOL_BUY)
    arcs.add(gc_base + d_idx[d_green], bc_base + d_idx[d_green], demand[d_green], -d_bonus[d_green], GREEN)
    local = d_idx[(d_site != NO_SITE) & has_sellers[np.maximum(d_site, 0)]] if n_k else d_idx[:0]
    arcs.add(pool_base + 3 + 2 * d_site[local], bc_base + local, demand[local], 0, POOL_BUY, tier=TIER_A)
    local_green = local[d_green[local]]
    arcs.add(pool_base + 2 + 2 * d_site[local_green], gc_base + local_green, demand[local_green], 0, POOL_BUY,
             tier=TIER_A)
    # Buyers out of their class (through their own node when in a preferred pair).
    is_pb = np.isin(b_idx, pref_b)
    own_b = pb_base + np.searchsorted(pref_b, b_idx)
    arcs.add(bc_base + b_class[is_pb], own_b[is_pb], p.buy_wh[is_pb], 0, POOL_BUY, buy=b_idx[is_pb])
    pg = b_idx[is_pb & green]
    own_g = pg_base + np.searchsorted(pref_b, pg)
    arcs.add(own_g, own_b[pg], p.buy_wh[pg], -p.buy_bonus[pg], GREEN, buy=pg)
    arcs.add(np.where(is_pb, own_b, bc_base + b_class), SINK, p.buy_wh, -p.buy_limit, BUY_SINK, buy=b_idx)

    if len(p.pref_sell):
        ps, pb = p.pref_sell, p.pref_buy
        tail = ps_base + np.searchsorted(pref_s, ps)
        head = np.where(green[pb] & p.sell_renewable[ps], pg_base, pb_base) + np.searchsorted(pref_b, pb)
        cap = np.minimum(p.sell_wh[ps], p.buy_wh[pb])
        arcs.add(tail, head, cap, rules.wheeling_sen - rules.preferred_premium_sen, DIRECT, sell=ps, buy=pb)
        same = (p.sell_site[ps] != NO_SITE) & (p.sell_site[ps] == p.buy_site[pb])
        if same.any():
            free = same.copy()
            free[same] = p.line_cap_wh[p.sell_site[ps][same]] < 0
            if free.any():
                arcs.add(tail[free], head[free], cap[free], -rules.preferred_premium_sen, DIRECT,
                         sell=ps[free], buy=pb[free], tier=TIER_A)

    supply = total_sell
    if rules.grid_retail_sen is not None and n_b:  # the grid takes part (both prices or neither)
        arcs.add(SOURCE, GRID_SELLER, total_buy, 0, GRID_SRC, tier=TIER_GRID)
        arcs.add(GRID_SELLER, bc_base + d_idx, demand, rules.grid_retail_sen, GRID_BUY, tier=TIER_GRID)
        arcs.add(GRID_SELLER, SINK, total_buy, 0, GRID_SPARE, tier=TIER_GRID)
        supply += total_buy
    if rules.grid_buyback_sen is not None and n_s:
        arcs.add(sc_base + c_idx, GRID_BUYER, class_wh, 0, SELL_GRID, tier=TIER_GRID)
        arcs.add(GRID_BUYER, SINK, total_sell, -rules.grid_buyback_sen, GRID_SINK, tier=TIER_GRID)
    arcs.add(SOURCE, SINK, total_sell, 0, BYPASS)

    tail, head, cap, cost, kind, sell, buy, pool, tier = arcs.columns()
    net = Network(n_nodes=n_nodes, tail=tail, head=head, cap=cap, cost=cost, kind=kind, sell=sell, buy=buy,
                  pool=pool, tier=tier, supply=supply, pool_tier=np.zeros(0, dtype=np.int64),
                  pool_site=np.zeros(0, dtype=np.int64), pool_renewable=np.zeros(0, dtype=bool),
                  bundles=tuple(bundles))
    return net, renewable_arc
