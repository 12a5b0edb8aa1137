"""Reference clearing without tiers: sort asks up, bids down, walk the two curves (numpy only).

With one market place, a uniform fee and no green or partner premiums the welfare optimum is exactly
this merit order; the flow model must reach the same surplus. Used as the baseline in the benchmark and
as an oracle in the tests.
"""

from __future__ import annotations

import numpy as np


def merit_order_surplus(sell_wh: np.ndarray, sell_ask: np.ndarray, buy_wh: np.ndarray, buy_limit: np.ndarray,
                        fee_sen: int = 0) -> tuple[int, int]:
    """(surplus in Wh x sen/kWh, traded Wh) of the merit-order clearing; exact integer arithmetic."""
    if not len(sell_wh) or not len(buy_wh):
        return 0, 0
    s_order = np.argsort(sell_ask, kind="stable")
    b_order = np.argsort(-buy_limit, kind="stable")
    s_wh, s_p = sell_wh[s_order], sell_ask[s_order] + fee_sen
    b_wh, b_p = buy_wh[b_order], buy_limit[b_order]
    cs, cb = np.cumsum(s_wh), np.cumsum(b_wh)
    total = min(int(cs[-1]), int(cb[-1]))
    cuts = np.union1d(cs[cs < total], cb[cb < total])
    starts = np.concatenate([[0], cuts])
    ends = np.concatenate([cuts, [total]])
    gain = b_p[np.searchsorted(cb, starts, side="right")] - s_p[np.searchsorted(cs, starts, side="right")]
    width = ends - starts
    take = gain > 0
    return int((gain[take] * width[take]).sum()), int(width[take].sum())
