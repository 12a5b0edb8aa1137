"""The market's settings: one typed object, with defaults taken from the seed's figures."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from services.market.domain.pricing import PRICING_RULES, PricingRule
from services.market.domain.problem import Rules
from services.market.domain.registry import Participant
from services.market.domain.scaling import to_sen, to_wh


@dataclass(frozen=True)
class MarketSettings:
    """How the market runs.

    - ``gate_closure``: orders for a slot close this long before the slot starts.
    - ``wheeling_fee``: yen/kWh for tier B (over the grid's wires); the seed's retail 16 vs 26 yen with
      wheeling gives about 10. Tier A (same site, private line) pays none.
    - ``grid_retail_price`` / ``grid_buyback_price``: the grid as residual seller and buyer; ``None``
      (the default) leaves the grid out of the clearing.
    - ``participants``: optional registry; with ``None`` any participant id is accepted.
    - ``admit_unregistered``: with a registry, still accept participants that are not in it (app users who
      join the community market), under the app-user allowances; registered ones keep their device limits
      and get dispatch set-points.
    - ``app_user_buy_kwh`` / ``app_user_sell_kwh``: what such an app user may buy / sell in one slot,
      summed over its orders (selling otherwise needs a registered device).
    """

    gate_closure: timedelta = timedelta(minutes=5)
    pricing: PricingRule = "pay-as-clear"
    wheeling_fee: Decimal = Decimal("10.00")
    grid_retail_price: Decimal | None = None
    grid_buyback_price: Decimal | None = None
    preferred_premium: Decimal = Decimal("0.01")
    line_capacity_kwh: Mapping[str, Decimal] = field(default_factory=dict)
    min_price: Decimal = Decimal("0.00")
    max_price: Decimal = Decimal("100.00")
    max_order_kwh: Decimal = Decimal("1000")
    horizon: timedelta = timedelta(days=2)
    participants: Mapping[str, Participant] | None = None
    admit_unregistered: bool = False
    app_user_buy_kwh: Decimal = Decimal("10")
    app_user_sell_kwh: Decimal = Decimal("3")
    timer_interval_s: float = 5.0
    keep_cleared_slots: int = 96

    def __post_init__(self) -> None:
        if self.pricing not in PRICING_RULES:
            raise ValueError(f"pricing must be one of {', '.join(PRICING_RULES)}, not {self.pricing!r}")
        if self.gate_closure < timedelta(0):
            raise ValueError("gate_closure must not be negative")
        if self.min_price < 0 or self.max_price <= self.min_price:
            raise ValueError("need 0 <= min_price < max_price")
        self.rules()  # validates prices and capacities

    def rules(self) -> Rules:
        """The clearing rules in solver units (the one place settings are scaled)."""
        return Rules(
            wheeling_sen=to_sen(self.wheeling_fee),
            grid_retail_sen=None if self.grid_retail_price is None else to_sen(self.grid_retail_price),
            grid_buyback_sen=None if self.grid_buyback_price is None else to_sen(self.grid_buyback_price),
            preferred_premium_sen=to_sen(self.preferred_premium),
            line_capacity_wh={site: to_wh(cap) for site, cap in self.line_capacity_kwh.items()},
        )
