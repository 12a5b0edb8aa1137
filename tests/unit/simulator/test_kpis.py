"""Level of service, sales and the ridership-sales link compute what planners expect."""

from __future__ import annotations

from simulator.los import los_from_density, los_from_flow
from simulator.ridership_sales import ridership_at_stake, sales_yen


def test_fruin_flow_levels():
    """Fruin walkway LOS by flow per metre: 20 is A, 40 is C, 60 is D, 90 is F."""
    assert [los_from_flow(x) for x in (20, 40, 60, 90)] == ["A", "C", "D", "F"]


def test_fruin_space_levels():
    """Fruin walkway LOS by density: 0.2 p/m2 is A, 1 is D, 3 is F."""
    assert [los_from_density(x) for x in (0.2, 1.0, 3.0)] == ["A", "D", "F"]


def test_sales_are_whole_yen():
    """Sales are integer yen: visits x purchase rate x spend."""
    value = sales_yen(1001, 2800, 0.55)
    assert isinstance(value, int) and value == 1_541_540


def test_footfall_change_moves_shopping_ridership():
    """A 10 % footfall rise adds 10 % of the shopping-induced events of each line."""
    stake = ridership_at_stake({"odakyu": 130_000, "jr": 30_000}, 10.0)
    assert stake == {"odakyu": round(130_000 * 0.3 / 1.3 * 0.1), "jr": round(30_000 * 0.5 / 1.5 * 0.1)}
