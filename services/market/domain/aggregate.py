"""Exact aggregation: orders that differ only in quantity are one order to the solver.

Sell orders with the same site, origin and ask (buy orders: same site, green premium and limit) are
interchangeable, so the network needs one arc per such group, not per order: at 100,000 orders that
roughly halves the model. After solving, each group's fill goes to its members in index order (the
service sorts orders by id, so equal orders fill in order-id order) and the group's trades are split
among the members. Orders named in a preferred-partner pair stay on their own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from services.market.domain.decompose import GRID, Trades, merge_trades, pair_in_order
from services.market.domain.problem import Problem


@dataclass(frozen=True)
class Groups:
    """Members of each aggregated order: ``members[start[g]:start[g + 1]]`` in fill priority."""

    of_order: np.ndarray   # group index per original order
    members: np.ndarray    # original order indices, grouped, in priority order
    start: np.ndarray


def _group(keys: np.ndarray) -> Groups:
    if not len(keys):
        empty = np.zeros(0, dtype=np.int64)
        return Groups(empty, empty, np.zeros(1, dtype=np.int64))
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    # Number groups by their first member, so the aggregated problem keeps the original order.
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    of_order = rank[inverse]
    members = np.lexsort((np.arange(len(keys)), of_order))
    start = np.searchsorted(of_order[members], np.arange(len(first) + 1))
    return Groups(of_order, members, start)


def aggregate(p: Problem) -> tuple[Problem, Groups, Groups]:
    solo_s = np.full(p.n_sell, -1)
    solo_s[p.pref_sell] = p.pref_sell
    solo_b = np.full(p.n_buy, -1)
    solo_b[p.pref_buy] = p.pref_buy
    gs = _group(np.stack([p.sell_site, p.sell_renewable.astype(np.int64), p.sell_ask, solo_s], axis=1))
    gb = _group(np.stack([p.buy_site, p.buy_bonus, p.buy_limit, solo_b], axis=1))
    first_s = gs.members[gs.start[:-1]]
    first_b = gb.members[gb.start[:-1]]
    agg = Problem(
        sell_wh=np.bincount(gs.of_order, weights=p.sell_wh, minlength=len(first_s)).astype(np.int64),
        sell_ask=p.sell_ask[first_s], sell_site=p.sell_site[first_s], sell_renewable=p.sell_renewable[first_s],
        buy_wh=np.bincount(gb.of_order, weights=p.buy_wh, minlength=len(first_b)).astype(np.int64),
        buy_limit=p.buy_limit[first_b], buy_site=p.buy_site[first_b], buy_bonus=p.buy_bonus[first_b],
        sites=p.sites, line_cap_wh=p.line_cap_wh,
        pref_sell=gs.of_order[p.pref_sell] if len(p.pref_sell) else p.pref_sell,
        pref_buy=gb.of_order[p.pref_buy] if len(p.pref_buy) else p.pref_buy,
    )
    return agg, gs, gb


def _fills(groups: Groups, order_wh: np.ndarray, group_total: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Members (grouped, priority order) and how much each one fills of its group's total."""
    wh = order_wh[groups.members]
    cum_before = np.cumsum(wh) - wh
    group_of = groups.of_order[groups.members]
    before_in_group = cum_before - cum_before[groups.start[group_of]]
    fill = np.clip(group_total[group_of] - before_in_group, 0, wh)
    keep = fill > 0
    return groups.members[keep], fill[keep]


def disaggregate(p: Problem, gs: Groups, gb: Groups, t: Trades) -> Trades:
    """Split trades between groups into trades between the original orders."""
    if not len(t):
        return t
    n_gs, n_gb = len(gs.start) - 1, len(gb.start) - 1
    sell_total = np.bincount(t.sell[t.sell != GRID], weights=t.wh[t.sell != GRID], minlength=n_gs).astype(np.int64)
    buy_total = np.bincount(t.buy[t.buy != GRID], weights=t.wh[t.buy != GRID], minlength=n_gb).astype(np.int64)
    s_members, s_fill = _fills(gs, p.sell_wh, sell_total)
    b_members, b_fill = _fills(gb, p.buy_wh, buy_total)
    idx = np.arange(len(t))
    # Seller side: each group's trades, in order, against its members' fills.
    from_peer = t.sell != GRID
    order = idx[from_peer][np.lexsort((idx[from_peer], t.sell[from_peer]))]
    trade_i, seller, wh = pair_in_order(order, t.wh[order], s_members, s_fill)
    trade_i = np.concatenate([trade_i, idx[~from_peer]])
    seller = np.concatenate([seller, np.full(int((~from_peer).sum()), GRID)])
    wh = np.concatenate([wh, t.wh[~from_peer]])
    # Buyer side: the seller-level pieces of each buyer group against its members' fills.
    to_peer = t.buy[trade_i] != GRID
    piece = np.flatnonzero(to_peer)
    piece = piece[np.lexsort((seller[piece], trade_i[piece], t.buy[trade_i[piece]]))]
    k, buyer, wh_b = pair_in_order(piece, wh[piece], b_members, b_fill)
    rest = np.flatnonzero(~to_peer)
    sell_out = np.concatenate([seller[k], seller[rest]])
    trade_out = np.concatenate([trade_i[k], trade_i[rest]])
    buy_out = np.concatenate([buyer, np.full(len(rest), GRID)])
    wh_out = np.concatenate([wh_b, wh[rest]])
    return merge_trades(sell_out, buy_out, wh_out, t.tier[trade_out], t.direct[trade_out])
