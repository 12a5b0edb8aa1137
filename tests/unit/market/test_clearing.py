"""Welfare-maximising clearing: tiers, line limits, renewable origin, partners, grid, and its invariants."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from services.market.domain.clearing import clear
from services.market.domain.decompose import GRID
from services.market.domain.merit_order import merit_order_surplus
from services.market.domain.network import TIER_A, TIER_B, TIER_GRID, build_network
from services.market.domain.pricing import PRICING_RULES
from services.market.domain.problem import NO_SITE, Problem, Rules, make_problem
from services.market.domain.solvers import solve_lp
from tests.unit.market.integer_optimum import integer_optimum


def test_same_site_trade_avoids_the_wheeling_fee():
    """A buyer on the seller's site trades over the private line (tier A) and pays no fee."""
    p = make_problem([1000], [1000], [1000, 1000], [2500, 2500], sell_site=[0], buy_site=[0, NO_SITE],
                     sites=["office"])
    c = clear(p, Rules(wheeling_sen=1000))
    assert list(c.trades.buy) == [0] and list(c.trades.tier) == [TIER_A] and list(c.fee_sen) == [0]
    assert c.surplus == 1000 * 1500


def test_wheeling_fee_blocks_thin_margins():
    """Over the grid a trade happens only if the bid covers the ask plus the wheeling fee."""
    p = make_problem([1000], [1500], [1000], [2400])
    assert len(clear(p, Rules(wheeling_sen=1000)).trades) == 0
    assert len(clear(p, Rules(wheeling_sen=800)).trades) == 1


def test_line_capacity_limits_tier_a_and_the_rest_goes_over_the_grid():
    """A limited private line carries at most its capacity; the remainder trades in tier B if worth it."""
    p = make_problem([3000], [500], [3000], [3000], sell_site=[0], buy_site=[0], sites=["s"],
                     line_capacity_wh={"s": 1000})
    c = clear(p, Rules(wheeling_sen=1000, line_capacity_wh={"s": 1000}))
    by_tier = {int(t): int(w) for t, w in zip(c.trades.tier, c.trades.wh, strict=True)}
    assert by_tier == {TIER_A: 1000, TIER_B: 2000}


def test_green_buyer_gets_renewable_first_and_premium_only_on_it():
    """Renewable kWh go to the buyer paying a green premium; the premium counts only on renewable kWh."""
    p = make_problem([1000, 1000], [1000, 1000], [1000, 1000], [2500, 2500], sell_renewable=[True, False],
                     buy_bonus=[0, 500])
    c = clear(p, Rules(wheeling_sen=0))
    pairs = {(int(s), int(b)) for s, b in zip(c.trades.sell, c.trades.buy, strict=True)}
    assert pairs == {(0, 1), (1, 0)}
    assert c.surplus == 1000 * 1500 + 1000 * 2000
    renewable_to_green = c.renewable & (c.trades.buy == 1)
    assert renewable_to_green.sum() == 1


def test_shared_line_with_two_origins_uses_the_lp_and_keeps_renewable_for_green_buyers():
    """When a limited line binds with renewable and other sellers and a green buyer, the LP puts renewable on it."""
    p = make_problem([1000, 1000], [500, 400], [1000, 1000], [3000, 3000], sell_site=[0, 0],
                     sell_renewable=[True, False], buy_site=[0, 0], buy_bonus=[800, 0], sites=["s"],
                     line_capacity_wh={"s": 1000})
    rules = Rules(wheeling_sen=3000, line_capacity_wh={"s": 1000})  # the grid's wires are too dear here
    c = clear(p, rules)
    assert c.solver.startswith("lp")
    assert list(c.trades.sell) == [0] and list(c.trades.buy) == [0] and list(c.trades.wh) == [1000]
    assert bool(c.renewable[0]) and c.surplus == 1000 * (3000 + 800 - 500)
    assert c.problems() == []


def test_slack_shared_line_needs_no_lp():
    """A limited line that does not bind is solved by the min-cost flow alone (its relaxation is feasible)."""
    p = make_problem([1000, 1000], [500, 400], [1000, 1000], [3000, 3000], sell_site=[0, 0],
                     sell_renewable=[True, False], buy_site=[0, NO_SITE], buy_bonus=[800, 0], sites=["s"],
                     line_capacity_wh={"s": 1000})
    c = clear(p, Rules(wheeling_sen=1000, line_capacity_wh={"s": 1000}))
    a = c.trades.tier == TIER_A
    assert c.solver == "min_cost_flow" and int(c.trades.wh[a].sum()) == 1000 and bool(c.renewable[a].all())


def test_preferred_partner_breaks_ties():
    """Between two equal sellers, the buyer's preferred partner gets the trade."""
    p = make_problem([1000, 1000], [1000, 1000], [1000], [2000], pref_sell=[1], pref_buy=[0])
    c = clear(p, Rules(wheeling_sen=0, preferred_premium_sen=1))
    assert list(c.trades.sell) == [1] and bool(c.trades.direct[0])


def test_grid_is_residual_seller_and_buyer():
    """Unmatched demand above the retail price buys from the grid; surplus below buy-back sells to it."""
    p = make_problem([2000], [500], [1000], [3000])
    c = clear(p, Rules(wheeling_sen=1000, grid_retail_sen=2600, grid_buyback_sen=700))
    grid_sales = c.trades.buy == GRID
    assert int(c.trades.wh[~grid_sales].sum()) == 1000 and int(c.trades.wh[grid_sales].sum()) == 1000
    assert set(c.trades.tier[grid_sales]) == {TIER_GRID} and list(c.price_sen[grid_sales]) == [700]


def test_zero_gain_trade_happens_and_prefers_a_peer_over_the_grid():
    """Where ask + wheeling fee equals the bid the trade still happens, with a peer before the grid."""
    p = make_problem([1500], [1000], [1500], [2000])
    c = clear(p, Rules(wheeling_sen=1000, grid_retail_sen=2000, grid_buyback_sen=1000))
    assert list(c.trades.sell) == [0] and list(c.trades.buy) == [0] and c.surplus == 0
    assert list(c.price_sen) == [1000]


def test_equal_orders_fill_in_order_and_keep_their_identity():
    """Equal sell orders are grouped for the solver, yet trades name the orders, filled in index order."""
    p = make_problem([1000, 1000, 1000], [900, 900, 900], [1500], [2500])
    c = clear(p, Rules(wheeling_sen=0))
    assert [(int(s), int(w)) for s, w in zip(c.trades.sell, c.trades.wh, strict=True)] == [(0, 1000), (1, 500)]


def test_flat_market_equals_merit_order():
    """Without tiers the flow optimum equals the numpy merit-order surplus."""
    rng = np.random.default_rng(3)
    sw, sa = rng.integers(1, 5000, 300), rng.integers(500, 2500, 300)
    bw, bl = rng.integers(1, 5000, 300), rng.integers(1000, 3000, 300)
    c = clear(make_problem(sw, sa, bw, bl), Rules(wheeling_sen=300))
    assert c.surplus == merit_order_surplus(sw, sa, bw, bl, 300)[0]


@st.composite
def problems(draw):
    n_s = draw(st.integers(0, 7))
    n_b = draw(st.integers(0, 7))
    n_sites = draw(st.integers(0, 2))
    wh = st.integers(1, 5000)
    # Sometimes few distinct prices, so that equal orders (grouped by the clearing) are common.
    price = draw(st.sampled_from([st.integers(0, 4000), st.sampled_from([800, 1500, 2500])]))
    site = st.integers(-1, n_sites - 1) if n_sites else st.just(-1)
    sites = [f"s{k}" for k in range(n_sites)]
    caps = {s: draw(st.integers(0, 6000)) for s in sites if draw(st.booleans())}
    pref = draw(st.lists(st.tuples(st.integers(0, max(n_s - 1, 0)), st.integers(0, max(n_b - 1, 0))),
                         max_size=3, unique=True)) if n_s and n_b else []
    p = make_problem(
        draw(st.lists(wh, min_size=n_s, max_size=n_s)), draw(st.lists(price, min_size=n_s, max_size=n_s)),
        draw(st.lists(wh, min_size=n_b, max_size=n_b)), draw(st.lists(price, min_size=n_b, max_size=n_b)),
        sell_site=draw(st.lists(site, min_size=n_s, max_size=n_s)),
        sell_renewable=draw(st.lists(st.booleans(), min_size=n_s, max_size=n_s)),
        buy_site=draw(st.lists(site, min_size=n_b, max_size=n_b)),
        buy_bonus=draw(st.lists(st.sampled_from([0, 0, 300, 500]), min_size=n_b, max_size=n_b)),
        sites=sites, line_capacity_wh=caps, pref_sell=[i for i, _ in pref], pref_buy=[j for _, j in pref])
    grid = draw(st.booleans())
    rules = Rules(wheeling_sen=draw(st.sampled_from([0, 500, 1000])), line_capacity_wh=caps,
                  grid_retail_sen=2600 if grid else None, grid_buyback_sen=700 if grid else None,
                  preferred_premium_sen=draw(st.sampled_from([0, 1, 200])))
    return p, rules


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.sampled_from(PRICING_RULES))
def test_invariants_hold_for_every_pricing_rule(case, rule):
    """No one pays above its limit or sells below its ask, money and kWh balance, no order over-filled."""
    p, rules = case
    c = clear(p, rules, rule)
    assert c.problems() == []
    assert (c.trades.wh > 0).all()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_clearing_reaches_the_integer_optimum_under_the_lp_bound(case):
    """The default clearing's surplus equals the integer optimum of the same network (CP-SAT) and is never
    above its LP optimum (GLOP), which the clearing records as its bound."""
    p, rules = case
    c = clear(p, rules)
    lp = -solve_lp(build_network(p, rules), "GLOP").cost
    assert c.surplus == integer_optimum(p, rules)
    assert c.surplus <= lp + 1e-9 * max(1.0, abs(lp)) + 1e-6
    assert abs(c.lp_bound - lp) <= 1e-9 * max(1.0, abs(lp)) + 1e-6


@settings(max_examples=40, deadline=None)
@given(problems())
def test_clearing_is_deterministic(case):
    """Clearing the same problem twice gives identical trades and prices."""
    p, rules = case
    a, b = clear(p, rules), clear(p, rules)
    for name in ("sell", "buy", "wh", "tier", "direct"):
        assert np.array_equal(getattr(a.trades, name), getattr(b.trades, name))
    assert np.array_equal(a.price_sen, b.price_sen)


# An independent oracle: the clearing as a plain seller x buyer program in whole Wh (scipy's MIP), written
# straight from the rules. It shares no code with the network model, so a modelling slip there shows up as
# a surplus difference.


def pairwise_optimum(p: Problem, r: Rules) -> float:
    """Max surplus over integral x[i, j, tier] >= 0 plus grid trades, by the market's rules."""
    prefs = set(zip(p.pref_sell.tolist(), p.pref_buy.tolist(), strict=True))
    gains, rows_s, rows_b, site_of = [], [], [], []
    for i in range(p.n_sell):
        for j in range(p.n_buy):
            green = p.sell_renewable[i] and p.buy_bonus[j] > 0
            base = p.buy_limit[j] + (p.buy_bonus[j] if green else 0) - p.sell_ask[i]
            pref = r.preferred_premium_sen if (i, j) in prefs else 0
            gains.append(base - r.wheeling_sen + pref)  # tier B
            rows_s.append(i), rows_b.append(j), site_of.append(-1)
            same = p.sell_site[i] != NO_SITE and p.sell_site[i] == p.buy_site[j]
            if same:
                capped = p.line_cap_wh[p.sell_site[i]] >= 0
                gains.append(base + (0 if capped else pref))  # tier A
                rows_s.append(i), rows_b.append(j), site_of.append(int(p.sell_site[i]))
    if r.has_grid:
        for i in range(p.n_sell):
            gains.append(r.grid_buyback_sen - p.sell_ask[i])
            rows_s.append(i), rows_b.append(-1), site_of.append(-1)
        for j in range(p.n_buy):
            gains.append(p.buy_limit[j] - r.grid_retail_sen)
            rows_s.append(-1), rows_b.append(j), site_of.append(-1)
    n = len(gains)
    if n == 0:
        return 0.0
    a, b = [], []
    for i in range(p.n_sell):
        a.append([1.0 if s == i else 0.0 for s in rows_s]), b.append(float(p.sell_wh[i]))
    for j in range(p.n_buy):
        a.append([1.0 if t == j else 0.0 for t in rows_b]), b.append(float(p.buy_wh[j]))
    for k, cap in enumerate(p.line_cap_wh):
        if cap >= 0:
            a.append([1.0 if s == k else 0.0 for s in site_of]), b.append(float(cap))
    res = linprog(-np.asarray(gains, dtype=float), A_ub=np.asarray(a), b_ub=np.asarray(b), bounds=(0, None),
                  method="highs", integrality=np.ones(n), options={"mip_rel_gap": 0.0})
    assert res.status == 0
    return -res.fun


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_clearing_matches_the_pairwise_oracle(case):
    """The network clearing's surplus equals the seller x buyer program's integer optimum on small random books."""
    p, rules = case
    ours = clear(p, rules).surplus
    oracle = pairwise_optimum(p, rules)
    assert abs(ours - oracle) <= 1e-6 * max(1.0, abs(oracle)) + 1e-3
