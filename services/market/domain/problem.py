"""The clearing problem of one slot as integer arrays (Wh, sen/kWh), built once and never mutated.

Arrays rather than objects because the clearing must scale to 100,000 orders: the network builder and
the baselines work on whole columns at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from services.market.domain.scaling import to_sen, to_wh
from shared.contracts.energy import EnergyOrderPlaced

NO_SITE = -1


@dataclass(frozen=True)
class Rules:
    """Market rules in solver units. ``None`` for a grid price means the grid does not take part."""

    wheeling_sen: int = 1000
    grid_retail_sen: int | None = None
    grid_buyback_sen: int | None = None
    preferred_premium_sen: int = 1
    line_capacity_wh: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.wheeling_sen < 0 or self.preferred_premium_sen < 0:
            raise ValueError("wheeling fee and preferred-partner premium must be >= 0")
        if (self.grid_retail_sen is None) != (self.grid_buyback_sen is None):
            raise ValueError("give both grid prices (retail and buy-back) or neither")
        if (self.grid_retail_sen is not None and self.grid_buyback_sen is not None
                and self.grid_buyback_sen > self.grid_retail_sen):
            raise ValueError("the grid's buy-back price must not exceed its retail price")
        for site, cap in self.line_capacity_wh.items():
            if cap < 0:
                raise ValueError(f"line capacity of site {site!r} is negative")

    @property
    def has_grid(self) -> bool:
        return self.grid_retail_sen is not None


@dataclass(frozen=True)
class Problem:
    """Sell and buy orders of one slot as columns; sites are coded 0..K-1, ``NO_SITE`` for none.

    ``buy_bonus`` is the green premium (sen/kWh) a buyer adds for renewable kWh; ``pref_sell`` and
    ``pref_buy`` list preferred seller-buyer pairs by index.
    """

    sell_wh: np.ndarray
    sell_ask: np.ndarray
    sell_site: np.ndarray
    sell_renewable: np.ndarray
    buy_wh: np.ndarray
    buy_limit: np.ndarray
    buy_site: np.ndarray
    buy_bonus: np.ndarray
    sites: tuple[str, ...] = ()
    line_cap_wh: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    pref_sell: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    pref_buy: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __post_init__(self) -> None:
        n_s, n_b = len(self.sell_wh), len(self.buy_wh)
        for name in ("sell_ask", "sell_site", "sell_renewable"):
            if len(getattr(self, name)) != n_s:
                raise ValueError(f"{name} has {len(getattr(self, name))} entries, expected {n_s}")
        for name in ("buy_limit", "buy_site", "buy_bonus"):
            if len(getattr(self, name)) != n_b:
                raise ValueError(f"{name} has {len(getattr(self, name))} entries, expected {n_b}")
        if len(self.line_cap_wh) != len(self.sites):
            raise ValueError("line_cap_wh needs one entry per site (-1 for an unlimited line)")
        if (n_s and self.sell_wh.min() <= 0) or (n_b and self.buy_wh.min() <= 0):
            raise ValueError("every order needs a positive quantity")
        if len(self.pref_sell) != len(self.pref_buy):
            raise ValueError("pref_sell and pref_buy must pair up")

    @property
    def n_sell(self) -> int:
        return len(self.sell_wh)

    @property
    def n_buy(self) -> int:
        return len(self.buy_wh)


def _i64(values: npt.ArrayLike) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


def make_problem(sell_wh: Sequence[int] | np.ndarray, sell_ask: npt.ArrayLike, buy_wh: Sequence[int] | np.ndarray,
                 buy_limit: npt.ArrayLike, *, sell_site: npt.ArrayLike | None = None,
                 sell_renewable: npt.ArrayLike | None = None, buy_site: npt.ArrayLike | None = None,
                 buy_bonus: npt.ArrayLike | None = None, sites: Sequence[str] = (),
                 line_capacity_wh: Mapping[str, int] | None = None, pref_sell: npt.ArrayLike | None = None,
                 pref_buy: npt.ArrayLike | None = None) -> Problem:
    """Build a :class:`Problem` from plain columns, filling the optional ones with neutral values."""
    n_s, n_b = len(sell_wh), len(buy_wh)
    caps = line_capacity_wh or {}
    return Problem(
        sell_wh=_i64(sell_wh), sell_ask=_i64(sell_ask),
        sell_site=_i64(sell_site if sell_site is not None else np.full(n_s, NO_SITE)),
        sell_renewable=np.asarray(sell_renewable if sell_renewable is not None else np.zeros(n_s), dtype=bool),
        buy_wh=_i64(buy_wh), buy_limit=_i64(buy_limit),
        buy_site=_i64(buy_site if buy_site is not None else np.full(n_b, NO_SITE)),
        buy_bonus=_i64(buy_bonus if buy_bonus is not None else np.zeros(n_b)),
        sites=tuple(sites), line_cap_wh=_i64([caps.get(s, -1) for s in sites]),
        pref_sell=_i64(pref_sell if pref_sell is not None else []),
        pref_buy=_i64(pref_buy if pref_buy is not None else []),
    )


def problem_from_orders(orders: Sequence[EnergyOrderPlaced], rules: Rules
                        ) -> tuple[Problem, list[EnergyOrderPlaced], list[EnergyOrderPlaced]]:
    """Columns from order events, sorted by (order id, participant) so that a redelivered book clears
    identically (ids are unique per participant only)."""
    ordered = sorted(orders, key=lambda o: (o.order_id, o.participant))
    sells = [o for o in ordered if o.side == "sell"]
    buys = [o for o in ordered if o.side == "buy"]
    sites = sorted({o.site for o in ordered if o.site is not None})
    code = {s: k for k, s in enumerate(sites)}
    pref_s: list[int] = []
    pref_b: list[int] = []
    if any(o.preferred_partners for o in ordered):
        sells_of: dict[str, list[int]] = {}
        buys_of: dict[str, list[int]] = {}
        for i, o in enumerate(sells):
            sells_of.setdefault(o.participant, []).append(i)
        for j, o in enumerate(buys):
            buys_of.setdefault(o.participant, []).append(j)
        pairs: set[tuple[int, int]] = set()
        for j, o in enumerate(buys):
            for partner in o.preferred_partners:
                pairs.update((i, j) for i in sells_of.get(partner, ()))
        for i, o in enumerate(sells):
            for partner in o.preferred_partners:
                pairs.update((i, j) for j in buys_of.get(partner, ()))
        pairs = {(i, j) for i, j in pairs if sells[i].participant != buys[j].participant}
        for i, j in sorted(pairs):
            pref_s.append(i)
            pref_b.append(j)
    problem = make_problem(
        [to_wh(o.kwh) for o in sells], [to_sen(o.limit_price) for o in sells],
        [to_wh(o.kwh) for o in buys], [to_sen(o.limit_price) for o in buys],
        sell_site=[code[o.site] if o.site is not None else NO_SITE for o in sells],
        sell_renewable=[o.renewable for o in sells],
        buy_site=[code[o.site] if o.site is not None else NO_SITE for o in buys],
        buy_bonus=[to_sen(o.green_premium) if o.renewable else 0 for o in buys],
        sites=sites, line_capacity_wh=rules.line_capacity_wh, pref_sell=pref_s, pref_buy=pref_b,
    )
    return problem, sells, buys
