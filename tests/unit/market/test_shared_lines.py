"""Limited lines shared by renewable and other sellers with green buyers: the class model and the split line.

Such books are where the clearing leaves the plain min-cost flow; every path it takes must still reach
the LP optimum of the exact network.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.market.domain.clearing import clear
from services.market.domain.network import LINE, TIER_A, build_class_network, build_network
from services.market.domain.pricing import PRICING_RULES
from services.market.domain.problem import Rules, make_problem
from services.market.domain.solvers import solve, solve_lp, solve_min_cost_flow


@st.composite
def shared_line_books(draw):
    """Small books on one or two sites with tight lines, both origins and many green buyers."""
    n_s = draw(st.integers(2, 9))
    n_b = draw(st.integers(1, 9))
    n_sites = draw(st.integers(1, 2))
    sites = [f"s{k}" for k in range(n_sites)]
    wh = st.integers(1, 4000)
    price = st.sampled_from([st.integers(0, 4000), st.sampled_from([700, 1500, 2500])])
    site = st.integers(-1, n_sites - 1)
    caps = {s: draw(st.integers(0, 2500)) for s in sites}
    pref = draw(st.lists(st.tuples(st.integers(0, n_s - 1), st.integers(0, n_b - 1)), max_size=2, unique=True))
    p = make_problem(
        draw(st.lists(wh, min_size=n_s, max_size=n_s)),
        draw(st.lists(draw(price), min_size=n_s, max_size=n_s)),
        draw(st.lists(wh, min_size=n_b, max_size=n_b)),
        draw(st.lists(draw(price), min_size=n_b, max_size=n_b)),
        sell_site=draw(st.lists(site, min_size=n_s, max_size=n_s)),
        sell_renewable=draw(st.lists(st.booleans(), min_size=n_s, max_size=n_s)),
        buy_site=draw(st.lists(site, min_size=n_b, max_size=n_b)),
        buy_bonus=draw(st.lists(st.sampled_from([0, 300, 800]), min_size=n_b, max_size=n_b)),
        sites=sites, line_capacity_wh=caps, pref_sell=[i for i, _ in pref], pref_buy=[j for _, j in pref])
    grid = draw(st.booleans())
    rules = Rules(wheeling_sen=draw(st.sampled_from([0, 500, 1000, 3000])), line_capacity_wh=caps,
                  grid_retail_sen=2600 if grid else None, grid_buyback_sen=700 if grid else None,
                  preferred_premium_sen=draw(st.sampled_from([0, 1, 200])))
    return p, rules


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(b)) + 1e-6


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shared_line_books())
def test_class_model_has_the_optimum_of_the_full_network(case):
    """Merging orders into classes keeps the LP optimum of the exact (bundled) network."""
    p, rules = case
    class_net, _ = build_class_network(p, rules)
    assert _close(solve_lp(class_net, "GLOP").cost, solve_lp(build_network(p, rules), "GLOP").cost)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shared_line_books(), st.sampled_from(PRICING_RULES))
def test_clearing_reaches_the_lp_optimum_on_shared_lines(case, rule):
    """Whatever path the clearing takes, its trades reach the exact LP optimum and keep every invariant."""
    p, rules = case
    c = clear(p, rules, rule)
    assert c.problems() == []
    assert _close(c.surplus, -solve_lp(build_network(p, rules), "GLOP").cost)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shared_line_books())
def test_a_split_line_is_a_restriction(case):
    """A line split at any renewable share keeps its capacity, so its optimum is never above the exact one."""
    p, rules = case
    relaxed = build_network(p, rules, shared_lines="renewable")
    split = {k: int(p.line_cap_wh[k]) // 3 for k in relaxed.optimistic_sites}
    net = build_network(p, rules, shared_lines="renewable", split=split)
    assert not net.optimistic_sites
    flow = solve_min_cost_flow(net).flow
    for k in split:
        line = (net.kind == LINE) & (net.tier == TIER_A) & np.isin(net.pool, [2 + 2 * k, 3 + 2 * k])
        assert int(flow[line].sum()) <= int(p.line_cap_wh[k])
    exact = solve_lp(build_network(p, rules), "GLOP").cost
    assert solve_min_cost_flow(net).cost >= exact - 1e-6 * max(1.0, abs(exact))


def test_binding_shared_line_is_cleared_by_a_flow_guided_by_the_class_lp():
    """Two sites whose lines bind: the class LP fixes the renewable share, the flow does the rest, exactly."""
    p = make_problem([1000, 1000, 800, 900], [500, 400, 300, 200], [1000, 1000, 700, 600], [3000, 3000, 2800, 2900],
                     sell_site=[0, 0, 1, 1], sell_renewable=[True, False, True, False], buy_site=[0, 0, 1, 1],
                     buy_bonus=[800, 0, 600, 0], sites=["a", "b"], line_capacity_wh={"a": 1000, "b": 700})
    rules = Rules(wheeling_sen=3000, line_capacity_wh={"a": 1000, "b": 700})
    _, solution = solve(p, rules)
    assert solution.solver == "lp:HIGHS+min_cost_flow"
    assert solution.cost == round(solve_lp(build_network(p, rules), "GLOP").cost)
    c = clear(p, rules)
    assert c.problems() == [] and c.surplus == -solution.cost
    a = c.trades.tier == TIER_A
    assert bool(c.renewable[a & (c.trades.buy == 0)].all()) and bool(c.renewable[a & (c.trades.buy == 2)].all())
