"""Turn optimal arc flows into seller-buyer-kWh triples.

Inside a pool any pairing of its inflows with its outflows has the same surplus, so the pairing rule is
a choice; we pair in merit order (cheapest ask with the highest bid first), which is also what a
bilateral price (midpoint) should follow. Renewable energy a pool R passes on to its pool N keeps its
seller, so every trade knows its origin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from services.market.domain.network import (
    DIRECT,
    GRID_BUY,
    POOL_BUY,
    SELL_GRID,
    SELL_POOL,
    TIER_GRID,
    TRANSFER,
    Network,
)
from services.market.domain.problem import Problem

GRID = -1  # order index standing for the grid
_TRANSFER = -2


@dataclass(frozen=True)
class Trades:
    """One row per trade: order indices (``GRID`` for the grid), Wh, tier code, and flags."""

    sell: np.ndarray
    buy: np.ndarray
    wh: np.ndarray
    tier: np.ndarray
    direct: np.ndarray

    def __len__(self) -> int:
        return len(self.wh)


def pair_in_order(left_id: np.ndarray, left_wh: np.ndarray, right_id: np.ndarray, right_wh: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Walk two queues of amounts together; returns (left id, right id, amount) per overlapping piece."""
    cl, cr = np.cumsum(left_wh), np.cumsum(right_wh)
    total = min(int(cl[-1]) if len(cl) else 0, int(cr[-1]) if len(cr) else 0)
    if total <= 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    cuts = np.union1d(cl[cl < total], cr[cr < total])
    starts = np.concatenate([[0], cuts])
    ends = np.concatenate([cuts, [total]])
    li = np.searchsorted(cl, starts, side="right")
    ri = np.searchsorted(cr, starts, side="right")
    return left_id[li], right_id[ri], (ends - starts).astype(np.int64)


def decompose(p: Problem, net: Network, flow: np.ndarray) -> Trades:
    if np.issubdtype(flow.dtype, np.floating):
        # A forced LP's flows (``clear(..., solver="lp")``; the default clearing's flows are integral): round
        # down, with a hair of tolerance, so no order or line is ever over-filled; a fractional vertex loses
        # surplus here, which ``Clearing.integral`` says.
        flow = np.floor(flow + 1e-6)
    flow = flow.astype(np.int64)
    pos = flow > 0
    sells: list[np.ndarray] = []
    buys: list[np.ndarray] = []
    whs: list[np.ndarray] = []
    tiers: list[np.ndarray] = []
    directs: list[np.ndarray] = []

    def emit(s: npt.ArrayLike, b: npt.ArrayLike, w: npt.ArrayLike, tier: npt.ArrayLike, direct: bool = False) -> None:
        sells.append(np.asarray(s, dtype=np.int64))
        buys.append(np.asarray(b, dtype=np.int64))
        whs.append(np.asarray(w, dtype=np.int64))
        tiers.append(np.broadcast_to(np.asarray(tier, dtype=np.int64), (len(whs[-1]),)).copy())
        directs.append(np.full(len(whs[-1]), direct))

    m = pos & (net.kind == DIRECT)
    emit(net.sell[m], net.buy[m], flow[m], net.tier[m], direct=True)
    m = pos & (net.kind == GRID_BUY)
    emit(np.full(int(m.sum()), GRID), net.buy[m], flow[m], TIER_GRID)
    m = pos & (net.kind == SELL_GRID)
    emit(net.sell[m], np.full(int(m.sum()), GRID), flow[m], TIER_GRID)

    value = p.buy_limit + p.buy_bonus
    pool_arcs = np.flatnonzero(pos & np.isin(net.kind, (SELL_POOL, POOL_BUY, TRANSFER)))
    by_pool = pool_arcs[np.argsort(net.pool[pool_arcs], kind="stable")]
    bounds = np.searchsorted(net.pool[by_pool], np.arange(len(net.pool_tier) + 1))
    for pr in range(0, len(net.pool_tier), 2):
        arcs_r = by_pool[bounds[pr]:bounds[pr + 1]]
        arcs_n = by_pool[bounds[pr + 1]:bounds[pr + 2]]
        if not len(arcs_r) and not len(arcs_n):
            continue
        tier = int(net.pool_tier[pr])
        # Pool R: renewable sellers to green buyers, the rest passed on to pool N.
        s_r = arcs_r[net.kind[arcs_r] == SELL_POOL]
        # Renewable sellers first: a relaxed shared line may also feed other energy into a pool R.
        s_r = s_r[np.lexsort((net.sell[s_r], p.sell_ask[net.sell[s_r]], ~p.sell_renewable[net.sell[s_r]]))]
        b_r = arcs_r[net.kind[arcs_r] == POOL_BUY]
        b_r = b_r[np.lexsort((net.buy[b_r], -value[net.buy[b_r]]))]
        t_r = arcs_r[net.kind[arcs_r] == TRANSFER]
        right_id = np.concatenate([net.buy[b_r], np.full(len(t_r), _TRANSFER)])
        right_wh = np.concatenate([flow[b_r], flow[t_r]])
        si, bi, w = pair_in_order(net.sell[s_r], flow[s_r], right_id, right_wh)
        keep = bi != _TRANSFER
        emit(si[keep], bi[keep], w[keep], tier)
        # Pool N: the passed-on renewable pieces and the other sellers, to any buyer.
        s_n = arcs_n[net.kind[arcs_n] == SELL_POOL]
        left_id = np.concatenate([si[~keep], net.sell[s_n]])
        left_wh = np.concatenate([w[~keep], flow[s_n]])
        order = np.lexsort((left_id, p.sell_ask[left_id]))
        b_n = arcs_n[net.kind[arcs_n] == POOL_BUY]
        b_n = b_n[np.lexsort((net.buy[b_n], -p.buy_limit[net.buy[b_n]]))]
        si, bi, w = pair_in_order(left_id[order], left_wh[order], net.buy[b_n], flow[b_n])
        emit(si, bi, w, tier)

    return merge_trades(np.concatenate(sells), np.concatenate(buys), np.concatenate(whs),
                        np.concatenate(tiers), np.concatenate(directs))


def merge_trades(sell: np.ndarray, buy: np.ndarray, wh: np.ndarray, tier: np.ndarray, direct: np.ndarray) -> Trades:
    """One row per (seller, buyer, tier, direct): the pieces of one contract summed, in a fixed order."""
    if not len(wh):
        return Trades(sell, buy, wh, tier, direct)
    order = np.lexsort((direct, tier, buy, sell))
    sell, buy, tier, direct, wh = sell[order], buy[order], tier[order], direct[order], wh[order]
    new = np.ones(len(wh), dtype=bool)
    new[1:] = (sell[1:] != sell[:-1]) | (buy[1:] != buy[:-1]) | (tier[1:] != tier[:-1]) | (direct[1:] != direct[:-1])
    starts = np.flatnonzero(new)
    return Trades(sell[starts], buy[starts], np.add.reduceat(wh, starts), tier[starts], direct[starts])
