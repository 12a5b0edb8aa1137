"""Pricing rules: given the matched trades, what the seller receives per kWh.

Convention everywhere: ``price`` is what the seller receives (sen/kWh); the buyer pays ``price + fee``,
and the fee (wheeling, tier B only) goes to the grid operator. So money in (buyers) equals money out
(sellers) plus fees by construction, and a rule only has to keep ``ask <= price <= value - fee``.

- ``pay-as-bid``: the buyer's bid (its value for that kWh) sets the price.
- ``midpoint``: each bilateral trade splits its gain evenly (the seller gets the odd sen).
- ``pay-as-clear``: one uniform price per market place (tier, site, renewable-to-green or not,
  preferred or not): the middle of [highest accepted ask, lowest accepted bid net of fee] there. Where
  those bounds cross (places coupled through shared sellers) each trade is clamped into its own
  individually rational range, so no one pays above its limit or sells below its ask.
Grid trades are always at the grid's tariff (retail when it sells, buy-back when it buys).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from services.market.domain.decompose import GRID, Trades
from services.market.domain.network import TIER_B, TIER_GRID
from services.market.domain.problem import Problem, Rules

PricingRule = Literal["pay-as-clear", "pay-as-bid", "midpoint"]
PRICING_RULES: tuple[str, ...] = ("pay-as-clear", "pay-as-bid", "midpoint")


def trade_terms(p: Problem, rules: Rules, t: Trades) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per trade: seller's ask, buyer's value for this kWh, fee (all sen/kWh) and the renewable flag."""
    from_grid, to_grid = t.sell == GRID, t.buy == GRID
    s = np.where(from_grid, 0, t.sell)
    b = np.where(to_grid, 0, t.buy)
    renewable = ~from_grid & (p.sell_renewable[s] if p.n_sell else np.zeros(len(t), dtype=bool))
    ask = np.where(from_grid, rules.grid_retail_sen or 0, p.sell_ask[s] if p.n_sell else 0)
    bonus = np.where(renewable & (t.tier != TIER_GRID), p.buy_bonus[b] if p.n_buy else 0, 0)
    value = np.where(to_grid, rules.grid_buyback_sen or 0,
                     (p.buy_limit[b] if p.n_buy else 0) + bonus + np.where(t.direct, rules.preferred_premium_sen, 0))
    fee = np.where(t.tier == TIER_B, rules.wheeling_sen, 0)
    return ask.astype(np.int64), value.astype(np.int64), fee.astype(np.int64), renewable


def price(p: Problem, rules: Rules, t: Trades, rule: PricingRule) -> np.ndarray:
    ask, value, fee, renewable = trade_terms(p, rules, t)
    hi = value - fee
    if rule == "pay-as-bid":
        out = hi.copy()
    elif rule == "midpoint":
        out = ask + (hi - ask + 1) // 2
    elif rule == "pay-as-clear":
        out = _uniform(p, t, ask, hi, renewable)
    else:
        raise ValueError(f"unknown pricing rule {rule!r}; choose one of {', '.join(PRICING_RULES)}")
    out = np.where(t.sell == GRID, ask, out)
    out = np.where(t.buy == GRID, value, out)
    return out.astype(np.int64)


def _uniform(p: Problem, t: Trades, ask: np.ndarray, hi: np.ndarray, renewable: np.ndarray) -> np.ndarray:
    if not len(t):
        return np.zeros(0, dtype=np.int64)
    s = np.where(t.sell == GRID, 0, t.sell)
    site = np.where(t.tier == TIER_B, -1, p.sell_site[s] if p.n_sell else -1)
    b = np.where(t.buy == GRID, 0, t.buy)
    green = renewable & ((p.buy_bonus[b] if p.n_buy else 0) > 0)
    keys = np.stack([t.tier, site, green.astype(np.int64), t.direct.astype(np.int64)], axis=1)
    _, place = np.unique(keys, axis=0, return_inverse=True)
    place = place.ravel()
    n = int(place.max()) + 1
    lo_place = np.full(n, np.iinfo(np.int64).min)
    np.maximum.at(lo_place, place, ask)
    hi_place = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(hi_place, place, hi)
    mid = lo_place + (hi_place - lo_place + 1) // 2
    prices: np.ndarray = np.clip(mid[place], ask, hi)
    return prices
