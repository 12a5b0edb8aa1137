"""Limited lines shared by renewable and other sellers with green buyers: the class model and the split line.

Such books are where the clearing leaves the plain min-cost flow; every path it takes must still reach
the integer optimum of the exact network (trades are whole Wh), which the LP optimum bounds from above
and exceeds where the LP's vertex is fractional.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.market.domain.clearing import clear
from services.market.domain.network import LINE, TIER_A, build_class_network, build_network
from services.market.domain.pricing import PRICING_RULES
from services.market.domain.problem import Problem, Rules, make_problem
from services.market.domain.solvers import bundle_shares, solve, solve_lp, solve_min_cost_flow, solve_mip
from tests.unit.market.integer_optimum import integer_optimum, lp_bound


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
def test_clearing_reaches_the_integer_optimum_on_shared_lines(case, rule):
    """Whatever path the clearing takes, its trades reach the exact integer optimum, never exceed the LP
    bound, record that bound, and keep every invariant."""
    p, rules = case
    c = clear(p, rules, rule)
    assert c.problems() == []
    bound = lp_bound(p, rules)
    assert c.surplus == integer_optimum(p, rules) == c.optimum
    assert c.surplus <= bound + 1e-6 * max(1.0, abs(bound))
    assert _close(c.lp_bound, bound)


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


def _fractional_case(sell_wh, sell_ask, sell_site, sell_renewable, buy_wh, buy_limit, buy_site, buy_bonus,
                     line_cap_wh, pref_sell, pref_buy, wheeling_sen, premium_sen) -> tuple[Problem, Rules]:
    """A book (of lines s0, s1, ...) whose exact network has a fractional LP vertex."""
    sites = tuple(f"s{k}" for k in range(len(line_cap_wh)))
    caps = dict(zip(sites, line_cap_wh, strict=True))
    columns = (sell_wh, sell_ask, sell_site, sell_renewable, buy_wh, buy_limit, buy_site, buy_bonus)
    sw, sa, ss, sr, bw, bl, bs, bb = (np.array(c) for c in columns)
    p = Problem(sell_wh=sw, sell_ask=sa, sell_site=ss, sell_renewable=sr, buy_wh=bw, buy_limit=bl, buy_site=bs,
                buy_bonus=bb, sites=sites, line_cap_wh=np.array(line_cap_wh), pref_sell=np.array(pref_sell),
                pref_buy=np.array(pref_buy))
    return p, Rules(wheeling_sen=wheeling_sen, preferred_premium_sen=premium_sen, line_capacity_wh=caps)


def test_fractional_lp_vertex_on_a_1_wh_line_still_clears_the_integer_optimum():
    """A 1 Wh line shared by two origins, green buyers on and off the site and two preferred pairs: the LP
    puts half a Wh of each origin on the line (2101.5); trades of whole Wh reach 2101, not the 901 that
    rounding the LP's flows down left."""
    p, rules = _fractional_case([1, 1, 1, 1, 1], [0, 0, 0, 0, 0], [0, 0, -1, 0, 0], [False, False, False, True, True],
                                [1, 1, 1, 1, 1, 1, 2], [700] * 7, [0, 0, 0, 0, 0, 0, -1], [0, 300, 0, 0, 0, 0, 300],
                                [1], [0, 1], [0, 1], wheeling_sen=500, premium_sen=1)
    assert lp_bound(p, rules) == 2101.5 and integer_optimum(p, rules) == 2101
    for rule in PRICING_RULES:
        c = clear(p, rules, rule)
        assert c.problems() == [], rule
        assert (c.surplus, c.optimum, c.lp_bound) == (2101, 2101, 2101.5)
        assert c.solver == "lp:HIGHS+rounded+min_cost_flow" and c.integral
        assert int(c.trades.wh[c.trades.tier == TIER_A].sum()) == 1  # the line is used, within its 1 Wh


def test_fractional_lp_vertex_whose_rounding_loses_is_solved_as_a_mip():
    """Here rounding the LP's half-Wh share loses surplus, so the clearing proves the integer optimum with
    the class model as a MIP and clears it with the line split at the MIP's share."""
    cases = [
        _fractional_case([2, 2, 2, 1, 1], [700, 0, 0, 700, 0], [0, 0, -1, -1, 0], [False, True, False, True, False],
                         [2, 1, 2, 1, 1, 1, 1], [1500, 700, 1500, 700, 1500, 700, 1500], [-1, 0, 0, 0, -1, -1, 0],
                         [800, 300, 0, 0, 300, 300, 0], [2], [4, 1], [1, 3], wheeling_sen=500, premium_sen=1),
        _fractional_case([2, 2, 1, 1], [700, 100, 700, 100], [-1, 1, 0, 0], [False, False, False, True],
                         [1, 1, 1, 1, 1, 1], [700, 700, 1500, 700, 1500, 700], [1, 0, -1, -1, 0, 1],
                         [800, 800, 300, 0, 0, 0], [1, 1], [1, 2], [4, 1], wheeling_sen=1000, premium_sen=0),
    ]
    for p, rules in cases:
        c = clear(p, rules)
        assert c.problems() == []
        assert c.solver == "lp:HIGHS+mip:SCIP+min_cost_flow"
        assert c.surplus == c.optimum == integer_optimum(p, rules) < c.lp_bound
        assert _close(c.lp_bound, lp_bound(p, rules))


def test_a_large_book_is_accepted_within_the_solvers_tolerance():
    """At a million times the Wh the costs reach 1e13, where the LP's tolerance is larger than one unit:
    the split flow is still accepted, and scales the small book's optimum exactly."""
    def book(scale: int):
        p = make_problem([1000 * scale, 1000 * scale, 800 * scale, 900 * scale], [500, 400, 300, 200],
                         [1000 * scale, 1000 * scale, 700 * scale, 600 * scale], [3000, 3000, 2800, 2900],
                         sell_site=[0, 0, 1, 1], sell_renewable=[True, False, True, False], buy_site=[0, 0, 1, 1],
                         buy_bonus=[800, 0, 600, 0], sites=["a", "b"],
                         line_capacity_wh={"a": 1000 * scale, "b": 700 * scale})
        return p, Rules(wheeling_sen=3000, line_capacity_wh={"a": 1000 * scale, "b": 700 * scale})

    small, large = clear(*book(1)), clear(*book(10**6))
    assert large.solver == small.solver == "lp:HIGHS+min_cost_flow"
    assert large.problems() == [] and large.surplus == 10**6 * small.surplus == large.optimum


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shared_line_books())
def test_mips_of_the_class_model_and_the_full_network_have_the_integer_optimum(case):
    """The class model with integral line shares only, and the full network with every arc integral, both
    reach the integer optimum (CP-SAT); at the full MIP's shares the split flow does too."""
    p, rules = case
    best = integer_optimum(p, rules)
    class_net, renewable_arc = build_class_network(p, rules)
    assert round(-solve_mip(class_net, np.array(list(renewable_arc.values()), dtype=np.int64)).cost) == best
    exact = build_network(p, rules)
    full = solve_mip(exact)
    assert round(-full.cost) == best
    split = {k: round(v) for k, v in bundle_shares(p, exact, full.flow).items()}
    assert -solve_min_cost_flow(build_network(p, rules, shared_lines="renewable", split=split)).cost == best
